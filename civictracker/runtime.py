"""The city runtime of one app (settings, city pack, gazetteer, channels, remote geocoder, reply context),
kept in app.extensions by create_app, and the app context a job runs in.

Everything per city hangs off the app, not off module globals: two apps in one process (tests, a
benchmark) never share a channel's cursor or a remote geocoder.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, current_app, has_app_context

from civictracker.channels.registry import ChannelRegistry
from civictracker.citypack import CityPack
from civictracker.config import Settings
from civictracker.geo.gazetteer import Gazetteer
from civictracker.geo.remote import RemoteGeocoder
from civictracker.services.notify import ReplyContext
from civictracker.triage.lang import detect_language, use_model_cache

KEY = "civictracker.runtime"


@dataclass
class CityRuntime:
    """The per-city state an app serves with; the gazetteer and the remote geocoder load on first use."""

    settings: Settings
    city: CityPack
    channels: ChannelRegistry
    replies: ReplyContext
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _gazetteer: Gazetteer | None = field(default=None, repr=False)
    _remote: RemoteGeocoder | None = field(default=None, repr=False)

    @classmethod
    def build(cls, settings: Settings, city: CityPack) -> CityRuntime:
        # The language library's model loads from the instance cache, as the gazetteer does.
        use_model_cache(settings.resolved_instance_path / "cache")
        replies = ReplyContext(
            public_url=settings.public_url,
            timezone=city.timezone,
            templates=city.replies,
            safety=city.safety,
            service_names={s["service_code"]: s.get("names") or {} for s in city.services},
            note_language=detect_language,
        )
        return cls(settings, city, ChannelRegistry(settings, city.path), replies)

    def replies_now(self, session: Any) -> ReplyContext:
        """The reply context with the admins' template overrides on top, read once per unit of work
        (an intake page, an outbox call, a console request) so every process uses an edit at once."""
        from civictracker.services.reply_templates import with_overrides

        return with_overrides(session, self.replies, self.city.short_name)

    def gazetteer(self) -> Gazetteer:
        """The city's gazetteer (cached in the instance folder), with its remote fallback configured."""
        if self._gazetteer is None:
            from civictracker.services.geocoding import city_gazetteer, configure_remote

            with self._lock:
                if self._gazetteer is None:
                    gz = city_gazetteer(self.city.path, self.settings)
                    self._remote = configure_remote(gz, self.settings, self.city.name)
                    self._gazetteer = gz
        return self._gazetteer

    @property
    def remote(self) -> RemoteGeocoder | None:
        """The remote fallback CIVICTRACKER_GEOCODER_REMOTE asks for, bounded to the city (None: offline)."""
        self.gazetteer()
        return self._remote


def runtime_of(app: Flask | None = None) -> CityRuntime:
    """The app's city runtime (the current app's when none is given)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    runtime = app.extensions[KEY]
    assert isinstance(runtime, CityRuntime)
    return runtime


def settings_of(app: Flask | None = None) -> Settings:
    return runtime_of(app).settings


def city_of(app: Flask | None = None) -> CityPack:
    return runtime_of(app).city


def register_channel(app: Flask, name: str, channel: Any) -> None:
    """Tests and the benchmark plug a channel (e.g. one pointed at a fake server) into an app by name."""
    runtime_of(app).channels.register(name, channel)


@contextmanager
def job_context() -> Iterator[Flask]:
    """Reuse the worker's app context when there is one (no per-job app), else load the app.

    The worker command and inline jobs always have one. A bare `rq worker` has none: the app is then
    found as `flask` finds it (FLASK_APP, else wsgi.py in the working folder), so that only the entry
    points import the app factory.
    """
    if has_app_context():
        yield current_app._get_current_object()  # type: ignore[attr-defined]
        return
    from flask.cli import ScriptInfo

    app = ScriptInfo().load_app()
    with app.app_context():
        yield app
