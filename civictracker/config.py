"""Configuration: defaults plus CIVICTRACKER_* environment variables, validated when the app is built."""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

PREFIX = "CIVICTRACKER_"
PACKAGE_DIR = Path(__file__).resolve().parent
CITIES_DIR = PACKAGE_DIR / "cities"


class ConfigError(Exception):
    """The configuration cannot work; the message names the variable and the fix."""


@dataclass(frozen=True)
class Settings:
    """Every setting the product reads. Each field maps to CIVICTRACKER_<FIELD NAME IN UPPER CASE>."""

    database_url: str = ""  # empty: sqlite:///<instance>/civictracker.sqlite with SpatiaLite
    redis_url: str = ""  # empty: jobs run inline in the process that enqueues them
    secret_key: str = ""  # empty: generated once and kept in <instance>/secret_key
    instance_path: str = ""  # empty: ./instance
    city: str = "cambridge_ma"  # a folder under civictracker/cities, or a path to a city pack
    public_url: str = "http://127.0.0.1:5000"  # base of links posted in replies
    spatialite_library: str = "mod_spatialite"  # name or path of the SpatiaLite loadable module
    queue_name: str = "civictracker"
    log_level: str = "INFO"
    session_cookie_secure: bool = False  # set true behind HTTPS
    login_rate_limit: int = 10  # failed logins per 15 minutes per address and account
    # Open311 API limits per client address (limits syntax: "N/period", ";" between several; empty: none),
    # counted in Redis when CIVICTRACKER_REDIS_URL is set, so they hold across gunicorn workers.
    open311_rate_limit: str = "120/minute;3000/hour"  # every Open311 request
    open311_post_rate_limit: str = "10/minute;100/hour"  # POST service requests, on top of the above
    channels: str = "replay"  # comma-separated: replay, x, mastodon
    replay_feed: str = ""  # empty: the city pack's demo_feed.jsonl
    poll_interval: float = 5.0  # seconds between channel polls in the embedded poll loop
    x_bearer_token: str = ""
    x_consumer_key: str = ""
    x_consumer_secret: str = ""
    x_access_token: str = ""
    x_access_token_secret: str = ""
    x_user_id: str = ""
    x_api_base: str = "https://api.twitter.com"
    mastodon_base_url: str = ""
    mastodon_access_token: str = ""
    # the operator's consent to set the Mastodon account's notification policy for private mentions from
    # "drop" to "filter" at start-up (strangers' first DMs are otherwise never delivered); logged
    mastodon_fix_dropped_dms: bool = False
    # The platforms' own limits come from the table for the account's tier (channels/limits.py,
    # docs/platforms.md); the caps below are the city's, applied on top (they can only tighten).
    x_tier: str = "self_serve"  # self_serve (pay-per-use, Basic, Pro) | enterprise | none (local fakes)
    mastodon_tier: str = "default"  # default | none
    x_dms_by_webhook: bool = False  # the Account Activity webhook delivers DMs: the poller leaves them
    x_posts_per_3h: int = 300
    x_posts_per_15min: int = 200
    x_dms_per_24h: int = 1000
    mastodon_posts_per_hour: int = 300
    outbox_max_attempts: int = 8  # a reply is dead only with these spent AND the retry budget over
    # Seconds a reply is retried after its first platform failure before it may be dead; 0: the city
    # pack's answer target (inbox.first_response_minutes, default 60 minutes).
    outbox_retry_budget_s: float = 0.0
    # Storm handling on capped accounts (X, Mastodon); the replay/log channel is never capped.
    outbox_target_s: float = 3600.0  # answer every reporter within this; later ones still go, after
    outbox_cluster: bool = True  # when a lane is full, one reply covers merged reporters of a ticket
    outbox_max_cluster: int = 8  # reporters one cluster or digest reply may answer
    outbox_spill_to_dm: bool = True  # answer a DM-able reporter by DM after waiting dm_spill_after_s
    outbox_dm_spill_after_s: float = 600.0
    outbox_digest_after_s: float = 1200.0  # acks waiting this long may share one generic reply; 0: never
    x_dm_open: bool = False  # the X account may DM any reporter (else only those who DMed it before)
    dedupe_radius_m: float = 150.0
    dedupe_window_days: int = 30
    reply_to_non_requests: bool = False
    blocked_accounts: str = ""  # comma-separated channel:author_id or handles never turned into tickets
    geocoder_remote: str = (
        ""  # empty: offline only; nominatim | photon | pelias (fallback when offline fails)
    )
    geocoder_remote_url: str = ""  # empty: the backend's public host; else [scheme://]host[:port][/path]
    geocoder_remote_user_agent: str = ""  # empty: "civictracker (<public_url>)"; Nominatim requires one
    geocoder_remote_min_delay_s: float = 1.0  # seconds between requests (Nominatim: never below 1)
    extra: dict[str, Any] = field(default_factory=dict)  # overrides for tests (raw Flask config keys)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name == "extra":
                continue
            raw = env.get(PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = _coerce(f.name, raw, type(getattr(cls(), f.name)))
        values.update(overrides)
        return replace(cls(), **values)

    # Derived values -------------------------------------------------------------------------------
    @property
    def resolved_instance_path(self) -> Path:
        return Path(self.instance_path or Path.cwd() / "instance").resolve()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.resolved_instance_path / 'civictracker.sqlite'}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def city_pack_dir(self) -> Path:
        candidate = Path(self.city)
        if candidate.is_dir():
            return candidate.resolve()
        return CITIES_DIR / self.city

    @property
    def channel_names(self) -> list[str]:
        return [c.strip() for c in self.channels.split(",") if c.strip()]


def _coerce(name: str, raw: str, kind: type) -> Any:
    if kind is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ConfigError(f"{PREFIX}{name.upper()}={raw!r} is not a boolean; use true or false.")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            raise ConfigError(f"{PREFIX}{name.upper()}={raw!r} is not a number.") from None
    return raw


def validate(settings: Settings) -> None:
    """Fail at start-up with one message that names the fix, never deep inside a request."""
    url = settings.resolved_database_url
    scheme = urlsplit(url).scheme
    if scheme not in {"sqlite", "postgresql", "postgresql+psycopg"}:
        raise ConfigError(
            f"{PREFIX}DATABASE_URL={url!r} is not supported: use sqlite:///path/to/file.sqlite "
            "or postgresql+psycopg://user@host:5432/dbname"
        )
    if scheme.startswith("postgresql") and not urlsplit(url).path.strip("/"):
        raise ConfigError(f"{PREFIX}DATABASE_URL={url!r} names no database; add /dbname at the end.")
    if settings.redis_url and urlsplit(settings.redis_url).scheme not in {"redis", "rediss", "unix"}:
        raise ConfigError(f"{PREFIX}REDIS_URL={settings.redis_url!r} must start with redis:// or rediss://.")
    if not (settings.city_pack_dir / "city.json").is_file():
        raise ConfigError(
            f"{PREFIX}CITY={settings.city!r}: no city pack at {settings.city_pack_dir} (it needs city.json)."
        )
    if settings.geocoder_remote not in {"", "nominatim", "photon", "pelias"}:
        raise ConfigError(
            f"{PREFIX}GEOCODER_REMOTE={settings.geocoder_remote!r}: use nominatim, photon, pelias "
            "or leave it empty."
        )
    if settings.geocoder_remote == "pelias" and not settings.geocoder_remote_url:
        raise ConfigError(
            f"{PREFIX}GEOCODER_REMOTE=pelias needs {PREFIX}GEOCODER_REMOTE_URL (no public host)."
        )
    if settings.geocoder_remote_url and urlsplit(settings.geocoder_remote_url).scheme not in {
        "http",
        "https",
    }:
        raise ConfigError(
            f"{PREFIX}GEOCODER_REMOTE_URL={settings.geocoder_remote_url!r} must start with http:// or https://."
        )
    _check_numbers(settings)
    _check_rate_limits(settings)
    _check_tiers(settings)
    unknown = set(settings.channel_names) - {"replay", "x", "mastodon"}
    if unknown:
        raise ConfigError(
            f"{PREFIX}CHANNELS has unknown channel(s) {sorted(unknown)}; use replay, x, mastodon."
        )
    if "x" in settings.channel_names and not (settings.x_bearer_token or settings.x_access_token):
        raise ConfigError(
            f"{PREFIX}CHANNELS includes x but {PREFIX}X_BEARER_TOKEN / X_ACCESS_TOKEN are empty."
        )
    if "mastodon" in settings.channel_names and not (
        settings.mastodon_base_url and settings.mastodon_access_token
    ):
        raise ConfigError(
            f"{PREFIX}CHANNELS includes mastodon but {PREFIX}MASTODON_BASE_URL or _ACCESS_TOKEN is empty."
        )


# The tiers channels/limits.py has figures for (config sits below the channels; a test keeps them equal).
X_TIER_NAMES = ("self_serve", "enterprise", "none")
MASTODON_TIER_NAMES = ("default", "none")


def _check_tiers(settings: Settings) -> None:
    for name, tiers in (("x_tier", X_TIER_NAMES), ("mastodon_tier", MASTODON_TIER_NAMES)):
        if getattr(settings, name) not in tiers:
            raise ConfigError(
                f"{PREFIX}{name.upper()}={getattr(settings, name)!r} is unknown; use one of "
                f"{', '.join(sorted(tiers))} (docs/platforms.md)."
            )


def _check_rate_limits(settings: Settings) -> None:
    from limits import parse_many

    for name in ("open311_rate_limit", "open311_post_rate_limit"):
        value = getattr(settings, name)
        try:
            if value:
                parse_many(value)
        except ValueError:
            raise ConfigError(
                f"{PREFIX}{name.upper()}={value!r} is not a rate limit; write e.g. 120/minute;3000/hour "
                "or leave it empty for none."
            ) from None


# Numeric settings and their smallest sensible value: a negative wait or a zero cap would stall or flood.
_MINIMUMS: dict[str, float] = {
    "poll_interval": 0.1,
    "login_rate_limit": 1,
    "x_posts_per_3h": 1,
    "x_posts_per_15min": 1,
    "x_dms_per_24h": 1,
    "mastodon_posts_per_hour": 1,
    "outbox_max_attempts": 1,
    "outbox_target_s": 1,
    "outbox_max_cluster": 1,
    "outbox_dm_spill_after_s": 0,
    "outbox_digest_after_s": 0,
    "dedupe_radius_m": 0,
    "dedupe_window_days": 0,
    "geocoder_remote_min_delay_s": 0,
}


def _check_numbers(settings: Settings) -> None:
    for name, minimum in _MINIMUMS.items():
        value = getattr(settings, name, None)
        if value is None:
            continue
        if not math.isfinite(float(value)) or float(value) < minimum:
            raise ConfigError(f"{PREFIX}{name.upper()}={value!r}: use a finite number >= {minimum:g}.")


def load_or_create_secret(instance_path: Path) -> str:
    """The embedded default keeps a random secret in the instance folder so sessions survive restarts."""
    path = instance_path / "secret_key"
    if path.is_file():
        return path.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
