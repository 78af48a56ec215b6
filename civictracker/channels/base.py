"""The small interface every social channel adapter implements, and the value types it speaks."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any, Protocol

from civictracker.channels.media import MediaRef

log = logging.getLogger(__name__)

# ChannelError.refusal when the platform does not allow this public reply (X self-serve: the author of
# the post answered did not mention or quote the account, or the reply names other people). Nothing was
# posted; the outbox answers the resident another way (outbox/retry.py).
REPLY_REFUSED = "reply refused"


class ChannelError(Exception):
    """A channel call failed; `retryable` says whether trying again later can help.

    `retry_after` (seconds) is set when the platform said when to come back: the reset of the window
    that is used up, read from the header that names that window (X: the 24-hour app/user headers when
    those are spent, else the 15-minute one). The outbox decides what to do with it.
    `status` is the HTTP status when there was one, for logs and admin views; `refusal` (REPLY_REFUSED)
    says the platform will not take this reply at all, with the reason in the message.
    """

    def __init__(
        self,
        message: str,
        *,
        retryable: bool = True,
        retry_after: float | None = None,
        status: int | None = None,
        refusal: str | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status
        self.refusal = refusal


@dataclass(frozen=True)
class IncomingPost:
    """One post as a channel delivered it, before anything is parsed out of it."""

    channel: str  # "x" | "mastodon" | "replay"
    external_id: str  # the platform's id of this post (tweet id, status id, DM event id)
    kind: str  # "mention" | "dm" | "reply"
    author_id: str
    author_handle: str
    text: str
    created_at: dt.datetime  # timezone-aware UTC
    conversation_id: str | None = None  # thread root on the platform (DM: the conversation)
    in_reply_to_id: str | None = None  # the post this one answers, if any
    lat: float | None = None  # platform geotag, if the author attached one
    lon: float | None = None
    lang: str | None = None  # the platform's language guess, if any
    visibility: str | None = None  # Mastodon visibility of the post, kept to answer alike
    raw: dict[str, Any] = field(default_factory=dict)  # the platform's JSON, stored verbatim
    media: tuple[MediaRef, ...] = ()  # attachments as the platform described them (channels/media.py)

    @property
    def is_dm(self) -> bool:
        return self.kind == "dm"


@dataclass(frozen=True)
class ReplyTarget:
    """Where an answer goes: the thread (and post) to reply to, or the DM conversation."""

    channel: str
    is_dm: bool
    recipient_id: str  # author id to DM, or the author we answer publicly
    recipient_handle: str
    in_reply_to_id: str | None  # platform id of the post we answer (public replies; DM on Mastodon)
    conversation_id: str | None = None
    visibility: str | None = None
    # Further reporters one public reply also answers (a cluster of merged duplicates): the adapter
    # mentions each handle so each is notified. Never used for DMs.
    mention_handles: tuple[str, ...] = ()


@dataclass(frozen=True)
class SentMessage:
    """What the platform answered when we posted: its id for our post."""

    external_id: str
    raw: dict[str, Any] = field(default_factory=dict)
    text: str = ""  # the text as actually posted (after the adapter's mentions and any shortening)


@dataclass(frozen=True)
class FeedError:
    """A piece of input a channel could not read and skipped (e.g. a malformed replay line)."""

    where: str  # "line 12" or a platform id
    message: str
    raw: str = ""  # the input as read (bounded, undecodable bytes escaped), stored with the reason


@dataclass(frozen=True)
class FetchResult:
    """A batch of new posts (oldest first) and the cursor to pass next time.

    `errors` lists input that was skipped; the cursor already points past it, so it is reported once,
    not re-read forever, and the good posts around it are not held back.
    """

    posts: list[IncomingPost]
    cursor: str | None
    errors: list[FeedError] = field(default_factory=list)


class Channel(Protocol):
    """Fetch new posts since a cursor, answer in a thread or by DM, check a source post still exists."""

    name: str
    max_length: int  # characters a single public post may have on this platform
    url_weight: int | None  # characters a URL counts for on this platform (None: its real length)

    def fetch_since(self, cursor: str | None) -> FetchResult: ...

    def send(self, target: ReplyTarget, text: str, *, idempotency_key: str) -> SentMessage: ...

    def find_sent(
        self, target: ReplyTarget, idempotency_key: str, *, text: str, known_ids: Collection[str] = ()
    ) -> SentMessage | None:
        """Find the post a call with this key and `text` already made (recovery after a crash between send
        and record): ours, in the target's thread or DM conversation, with that text (channels/sent.py),
        and not one of `known_ids` (the platform ids other outbox messages already hold)."""
        ...

    def post_exists(self, external_id: str, *, author_id: str | None = None) -> bool:
        """Whether the post is still there. `author_id` (the author's platform id, as stored on the
        reporter) lets a platform that answers "not found" for hidden posts too tell the two apart."""
        ...


def deliver_once(
    channel: Channel,
    target: ReplyTarget,
    text: str,
    *,
    idempotency_key: str,
    maybe_sent: bool,
) -> SentMessage:
    """Send unless an earlier attempt already got through; the outbox calls this for every attempt.

    `maybe_sent` is True when a previous attempt for this key started but its result was never recorded
    (the worker died, or the call failed in a way that does not prove nothing was posted: a timeout, a
    5xx after the request left). Then the platform is asked first for our post in that thread with that
    text; only when nothing is found is the message posted again.
    """
    if maybe_sent:
        found = channel.find_sent(target, idempotency_key, text=text)
        if found is not None:
            log.info("outbound %s was already posted as %s", idempotency_key, found.external_id)
            return found
    return channel.send(target, text, idempotency_key=idempotency_key)
