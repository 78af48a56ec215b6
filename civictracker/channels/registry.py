"""Channel adapters built once per app from its settings: inbound feeds and outbound senders."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from civictracker.channels.base import Channel
from civictracker.channels.log import LogChannel
from civictracker.config import Settings
from civictracker.postlength import REPLAY_MAX_LENGTH


def outbox_log_path(settings: Settings) -> Path:
    return settings.resolved_instance_path / "outbox_log.jsonl"


def replay_feed_path(settings: Settings, pack_dir: Path) -> Path:
    return Path(settings.replay_feed) if settings.replay_feed else pack_dir / "demo_feed.jsonl"


class ChannelRegistry:
    """The adapters of one app, built on first use and kept (they hold cursors and HTTP sessions)."""

    def __init__(self, settings: Settings, pack_dir: Path) -> None:
        self.settings = settings
        self.pack_dir = pack_dir
        self._lock = threading.Lock()
        self._channels: dict[str, Any] = {}

    def get(self, name: str) -> Channel:
        """The adapter for a channel name (one per app and name)."""
        with self._lock:
            channel = self._channels.get(name)
            if channel is None:
                channel = _build(self.settings, name, self.pack_dir)
                self._channels[name] = channel
        return channel  # type: ignore[no-any-return]

    def register(self, name: str, channel: Any) -> None:
        """Plug in a channel by name (tests and the benchmark point one at a fake server)."""
        with self._lock:
            self._channels[name] = channel


def _build(settings: Settings, name: str, pack_dir: Path) -> Any:
    if name in {"replay", "log"}:
        from civictracker.channels.replay import ReplayChannel

        outbox = LogChannel(outbox_log_path(settings), name="replay", max_length=REPLAY_MAX_LENGTH)
        if name == "log":
            return outbox
        return ReplayChannel(replay_feed_path(settings, pack_dir), outbox=outbox)
    if name == "x":
        from civictracker.channels.limits import x_tier
        from civictracker.channels.x import XChannel

        return XChannel(
            tier=x_tier(settings.x_tier),
            dms_by_webhook=settings.x_dms_by_webhook,
            user_id=settings.x_user_id,
            bearer_token=settings.x_bearer_token or None,
            consumer_key=settings.x_consumer_key or None,
            consumer_secret=settings.x_consumer_secret or None,
            access_token=settings.x_access_token or None,
            access_token_secret=settings.x_access_token_secret or None,
            base_url=settings.x_api_base,
        )
    if name == "mastodon":
        from civictracker.channels.mastodon import MastodonChannel

        return MastodonChannel(
            api_base_url=settings.mastodon_base_url,
            access_token=settings.mastodon_access_token,
            fix_dropped_dms=settings.mastodon_fix_dropped_dms,
        )
    raise ValueError(f"unknown channel {name!r}")
