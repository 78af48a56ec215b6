"""Channel adapters built once per process from the settings: inbound feeds and outbound senders."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from civictracker.config import Settings
from civictracker.intake.channels.base import Channel
from civictracker.intake.channels.log import LogChannel

_lock = threading.Lock()
_channels: dict[tuple[int, str], Any] = {}


def outbox_log_path(settings: Settings) -> Path:
    return settings.resolved_instance_path / "outbox_log.jsonl"


def replay_feed_path(settings: Settings, pack_dir: Path) -> Path:
    return Path(settings.replay_feed) if settings.replay_feed else pack_dir / "demo_feed.jsonl"


def get_channel(settings: Settings, name: str, *, pack_dir: Path) -> Channel:
    """The adapter for a channel name; one per settings object and name (adapters keep state)."""
    key = (id(settings), name)
    with _lock:
        channel = _channels.get(key)
        if channel is None:
            channel = _build(settings, name, pack_dir)
            _channels[key] = channel
    return channel  # type: ignore[no-any-return]


def register_channel(settings: Settings, name: str, channel: Any) -> None:
    """Tests and the benchmark plug a channel (e.g. one pointed at a fake server) in by name."""
    with _lock:
        _channels[(id(settings), name)] = channel


def _build(settings: Settings, name: str, pack_dir: Path) -> Any:
    if name in {"replay", "log"}:
        from civictracker.intake.channels.replay import ReplayChannel

        outbox = LogChannel(outbox_log_path(settings), name="replay", max_length=280)
        if name == "log":
            return outbox
        return ReplayChannel(replay_feed_path(settings, pack_dir), outbox=outbox)
    if name == "x":
        from civictracker.intake.channels.x import XChannel

        return XChannel(
            user_id=settings.x_user_id,
            bearer_token=settings.x_bearer_token or None,
            consumer_key=settings.x_consumer_key or None,
            consumer_secret=settings.x_consumer_secret or None,
            access_token=settings.x_access_token or None,
            access_token_secret=settings.x_access_token_secret or None,
            base_url=settings.x_api_base,
        )
    if name == "mastodon":
        from civictracker.intake.channels.mastodon import MastodonChannel

        return MastodonChannel(
            api_base_url=settings.mastodon_base_url, access_token=settings.mastodon_access_token
        )
    raise ValueError(f"unknown channel {name!r}")
