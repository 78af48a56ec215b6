"""Outbound messages (replies in threads, DMs) and each channel's fetch cursor."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from civictracker.extensions import db
from civictracker.models.types import UTCDateTime, utcnow
from civictracker.models.values import Thread

if TYPE_CHECKING:
    from civictracker.models.report import Follower


class MessageState(enum.StrEnum):
    """Where one outbound message is on its way to the platform."""

    PENDING = "pending"  # queued, due at next_attempt_at
    SENDING = "sending"  # claimed, committed before the platform call (a crash is settled by find_sent)
    SENT = "sent"
    FAILED = "failed"  # the last call failed; retried after a backoff
    DEAD = "dead"  # every attempt spent or refused for good; an admin may give it another round
    CANCELLED = "cancelled"  # not to be sent: the resident opted out or deleted the post we answered


_M = MessageState
# Every state is in exactly one of these three.
WAITING_STATES = frozenset({_M.PENDING, _M.FAILED})  # due to be sent (once next_attempt_at has come)
IN_FLIGHT_STATES = frozenset({_M.SENDING})
# No sender takes these up again; only `outbox --retry-dead` (dead -> pending) or the platform saying a
# dead call did get through (dead -> sent) moves one of them.
FINAL_STATES = frozenset({_M.SENT, _M.DEAD, _M.CANCELLED})
# States a recorded platform call's members may be in while the call is settled (resolve_batch).
UNSETTLED_STATES = WAITING_STATES | IN_FLIGHT_STATES | {_M.DEAD}

# The moves the outbox makes (outbox/calls.py, outbox/sources.py, `outbox --retry-dead`).
MESSAGE_TRANSITIONS: dict[MessageState, frozenset[MessageState]] = {
    # claimed; settled as sent/failed/dead by a recorded call; cancelled or dead before any call
    _M.PENDING: frozenset({_M.SENDING, _M.SENT, _M.FAILED, _M.DEAD, _M.CANCELLED}),
    # the call's answer (or a stale claim taken up again, a refused DM sent back to the public lane)
    _M.SENDING: frozenset({_M.SENDING, _M.SENT, _M.FAILED, _M.DEAD, _M.PENDING, _M.CANCELLED}),
    # as pending; failing again is a move too (one more attempt spent)
    _M.FAILED: frozenset({_M.SENDING, _M.SENT, _M.FAILED, _M.DEAD, _M.CANCELLED}),
    _M.DEAD: frozenset({_M.PENDING, _M.SENT}),
    _M.SENT: frozenset(),
    _M.CANCELLED: frozenset(),
}


class MessageKind(enum.StrEnum):
    """What a message says; each kind is a reply template of the city pack (replies.json)."""

    ACK = "ack"
    ASK_LOCATION = "ask_location"
    MERGED = "merged"
    OPT_OUT = "opt_out"
    # a public status change, one per status a follower hears about (notify.STATUS_TEMPLATE)
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    REJECTED = "rejected"
    REFERRED = "referred"
    # a dispatcher corrected the ticket's category, urgency or place (services.corrections)
    CORRECTED = "corrected"
    INBOX_REPLY = "inbox_reply"  # a staff member's own words from the inbox (services/inbox_reply.py)


# Kinds whose text is a person's own words, stored with the message: no pack template (and no FALLBACK),
# so a re-routed message (a DM spill) sends the stored text rather than re-rendering an empty template.
OWN_WORDS_KINDS = frozenset({MessageKind.INBOX_REPLY})


class OutboundMessage(db.Model):  # type: ignore[name-defined,misc]
    """One message to one follower about one event; the idempotency key makes it exist once."""

    __tablename__ = "outbound_messages"
    __table_args__ = (
        Index("ix_outbound_messages_state_next", "state", "next_attempt_at"),
        # A reply finds its thread by the platform id our reply got (intake/threads.py thread_ticket).
        Index("ix_outbound_messages_sent_external_id", "channel", "sent_external_id"),
        # The last day's sends (outbox/lanes.py lane_history) and first-response metrics: recent rows only.
        Index("ix_outbound_messages_state_sent", "state", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))  # a MessageKind
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None, index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id"), default=None)
    follower_id: Mapped[int | None] = mapped_column(ForeignKey("followers.id"), default=None)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id"), default=None)
    # indexed: the inbox's item page lists the replies sent to one post
    post_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_posts.id"), default=None, index=True)
    is_dm: Mapped[bool] = mapped_column(Boolean, default=False)
    recipient_id: Mapped[str] = mapped_column(String(200))
    recipient_handle: Mapped[str] = mapped_column(String(200), default="")
    in_reply_to_id: Mapped[str | None] = mapped_column(String(200), default=None)
    conversation_id: Mapped[str | None] = mapped_column(String(200), default=None)
    visibility: Mapped[str | None] = mapped_column(String(16), default=None)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    text: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default=MessageState.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    # When its platform calls began to fail (the first retryable failure since it was queued): it is
    # retried for the retry budget from then (outbox/retry.py), however many attempts that takes.
    failing_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    sent_external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # The key of the platform call that answers (or last tried to answer) this message: its own
    # idempotency key for a plain reply, "cluster:..."/"digest:..." when one reply covered several
    # messages, "dm:<id>" / "fresh:<id>" for a DM or a new post instead. Recorded before the call, so a
    # crash between posting and recording is recovered for every member at once (find_sent by this key).
    batch_key: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
    # The text of a cluster, digest or DM call, recorded before the call: find_sent looks for it in the
    # thread after a crash (a plain reply's text is `text`). None: no such call was made under the key.
    call_text: Mapped[str | None] = mapped_column(Text, default=None)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set with the row so a follower added in the same flush needs no flush of its own for its id.
    follower: Mapped[Follower | None] = relationship()
    # where the message goes, as one value (the same columns)
    thread: Mapped[Thread] = composite(
        Thread, "channel", "is_dm", "in_reply_to_id", "conversation_id", "visibility"
    )


class ChannelCursor(db.Model):  # type: ignore[name-defined,misc]
    """Where each channel's last fetch stopped, so a restart neither misses nor repeats posts."""

    __tablename__ = "channel_cursors"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    cursor: Mapped[str | None] = mapped_column(Text, default=None)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
