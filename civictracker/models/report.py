"""What residents send: raw inbound posts, the channel identities behind them, who follows which ticket."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from civictracker.extensions import db
from civictracker.models.types import UTCDateTime, utcnow
from civictracker.models.values import Thread

if TYPE_CHECKING:
    from civictracker.models.ticket import Ticket


class PostState(enum.StrEnum):
    """How far the pipeline got with one stored post."""

    RECEIVED = "received"  # stored, not processed yet
    PROCESSED = "processed"
    FAILED = "failed"  # processing crashed or could not decide; retried (retry_failed_posts)
    IGNORED = "ignored"  # from a blocked account: stored, never ticketed


# Every state is in exactly one of these two.
TODO_STATES = frozenset({PostState.RECEIVED, PostState.FAILED})  # to be (re)processed
DONE_STATES = frozenset({PostState.PROCESSED, PostState.IGNORED})  # processing it again changes nothing

# received -> processed | failed | ignored; a failed post is retried and may fail again.
POST_TRANSITIONS: dict[PostState, frozenset[PostState]] = {
    PostState.RECEIVED: frozenset({PostState.PROCESSED, PostState.FAILED, PostState.IGNORED}),
    PostState.FAILED: frozenset({PostState.PROCESSED, PostState.FAILED, PostState.IGNORED}),
    PostState.PROCESSED: frozenset(),
    PostState.IGNORED: frozenset(),
}


class PostOutcome(enum.StrEnum):
    """What the pipeline did with a post (InboundPost.outcome). Three carry a detail after a colon:
    "not_request:<triage kind>", "for_person:<reading>" and "reply:<reply intent>" (see `with_detail`)."""

    CREATED = "created"  # a new ticket
    MERGED = "merged"  # a report added to an open ticket of the same problem
    ASK_BACK = "ask_back"  # a ticket waiting for its place; the resident was asked
    NOT_REQUEST = "not_request"
    # a request with no place that reads as a question, complaint or praise ("for_person:question"):
    # left to a person in the inbox, not asked "where?" (triage/reads_as.py)
    FOR_PERSON = "for_person"
    NO_SERVICE = "no_service"  # triage chose a service the city does not have
    BLOCKED = "blocked"
    OWN_MESSAGE = "own_message"  # one of our own messages read back (an X DM without its sender_id)
    OPTED_OUT = "opted_out"
    # replies in the thread of one of our tickets
    REOPENED = "reopened"
    STILL_OPEN = "still_open"
    FIXED_CONFIRMED = "fixed_confirmed"
    REPLY = "reply"
    LOCATED = "located"
    LOCATED_MERGED = "located_merged"
    LOCATION_UNCLEAR = "location_unclear"

    def with_detail(self, detail: str) -> str:
        """The stored outcome with its detail, e.g. "not_request:spam"."""
        return f"{self.value}:{detail}"

    @classmethod
    def of(cls, stored: str) -> PostOutcome:
        """The outcome a stored value names, its detail dropped; ValueError for an unknown one."""
        return cls(stored.split(":", 1)[0])


class Reporter(db.Model):  # type: ignore[name-defined,misc]
    """A resident as one channel knows them (an X account, a Mastodon account, an Open311 client's user)."""

    __tablename__ = "reporters"
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    handle: Mapped[str] = mapped_column(String(200), default="")  # private: never on a public page
    email: Mapped[str | None] = mapped_column(String(300), default=None)  # private
    phone: Mapped[str | None] = mapped_column(String(50), default=None)  # private
    lang: Mapped[str] = mapped_column(String(8), default="en")
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)  # said "stop": no more replies
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)  # spam account: posts stored, not ticketed
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundPost(db.Model):  # type: ignore[name-defined,misc]
    """A post exactly as received, stored before anything can fail; only processing fields change later."""

    __tablename__ = "inbound_posts"
    __table_args__ = (
        UniqueConstraint("channel", "external_id"),
        # The inbox page: one state's posts, escalated first, oldest first (services/inbox.py list_inbox).
        Index("ix_inbound_posts_inbox", "inbox_state", "inbox_priority", "received_at"),
        Index("ix_inbound_posts_inbox_assignee", "inbox_assigned_to_id", "inbox_state"),
        # One window of posts (services/response_metrics.py first responses).
        Index("ix_inbound_posts_received_at", "received_at", "channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    external_id: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # mention | dm | reply | api
    conversation_id: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    in_reply_to_id: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    author_id: Mapped[str] = mapped_column(String(200))
    author_handle: Mapped[str] = mapped_column(String(200), default="")
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id"), default=None, index=True)
    is_dm: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text, default="")
    lang: Mapped[str | None] = mapped_column(String(8), default=None)
    geotag_lat: Mapped[float | None] = mapped_column(default=None)
    geotag_lon: Mapped[float | None] = mapped_column(default=None)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    raw: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Processing (PostState, POST_TRANSITIONS); each stage's outcome and reason recorded.
    state: Mapped[str] = mapped_column(String(16), default=PostState.RECEIVED.value, index=True)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)  # a PostOutcome (with its detail)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    stages: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None, index=True)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    redacted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # Last time the platform was asked whether the source still exists (outbox/sources.py rotates on it).
    source_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # The inbox (models/inbox.py InboxState; NULL: the post is answered through its ticket). Intake sets
    # the state, priority and reason when it finishes a post (services/inbox_rules.py); staff move it on.
    inbox_state: Mapped[str | None] = mapped_column(String(16), default=None)
    inbox_priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # higher: on top
    inbox_reason: Mapped[str | None] = mapped_column(Text, default=None)  # why it is (or is not) for a person
    inbox_assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    inbox_handled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    inbox_handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    inbox_handled_how: Mapped[str | None] = mapped_column(String(16), default=None)  # an InboxHow
    inbox_note: Mapped[str | None] = mapped_column(Text, default=None)  # staff's why (hidden, no reply)

    ticket: Mapped[Ticket | None] = relationship()
    reporter: Mapped[Reporter | None] = relationship()


class Follower(db.Model):  # type: ignore[name-defined,misc]
    """A reporter following a ticket, and the thread (or DM) in which to answer them."""

    __tablename__ = "followers"
    __table_args__ = (UniqueConstraint("ticket_id", "reporter_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("reporters.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_posts.id"), default=None)
    channel: Mapped[str] = mapped_column(String(32))
    is_dm: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_to_external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    conversation_id: Mapped[str | None] = mapped_column(String(200), default=None)
    visibility: Mapped[str | None] = mapped_column(String(16), default=None)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # the five columns above as one value: where to answer this follower
    thread: Mapped[Thread] = composite(
        Thread, "channel", "is_dm", "reply_to_external_id", "conversation_id", "visibility"
    )
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    reporter: Mapped[Reporter] = relationship()
    ticket: Mapped[Ticket] = relationship()


class RejectedInput(db.Model):  # type: ignore[name-defined,misc]
    """Input a channel could not read (a malformed feed line), kept with its reason; the channel went on."""

    __tablename__ = "rejected_inputs"

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    location: Mapped[str] = mapped_column(String(200))  # "line 12" or a platform id
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text, default="")  # as read, bounded; undecodable bytes escaped
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
