"""Channel adapters (X, Mastodon, a replay feed, a log outbound) behind one small interface (base.Channel)."""

from civictracker.channels.base import (
    Channel,
    ChannelError,
    FeedError,
    FetchResult,
    IncomingPost,
    ReplyTarget,
    SentMessage,
    deliver_once,
)

__all__ = [
    "Channel",
    "ChannelError",
    "FeedError",
    "FetchResult",
    "IncomingPost",
    "ReplyTarget",
    "SentMessage",
    "deliver_once",
]
