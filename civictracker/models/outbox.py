"""Outbound messages (replies in threads, DMs) and each channel's fetch cursor."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from civictracker.extensions import db
from civictracker.models.types import UTCDateTime, utcnow
from civictracker.models.values import Thread

if TYPE_CHECKING:
    from civictracker.models.report import Follower


class OutboundMessage(db.Model):  # type: ignore[name-defined,misc]
    """One message to one follower about one event; the idempotency key makes it exist once."""

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_messages_state_next", "state", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))  # ack, ask_location, status, merged, opt_out ...
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None, index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id"), default=None)
    follower_id: Mapped[int | None] = mapped_column(ForeignKey("followers.id"), default=None)
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("reporters.id"), default=None)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_posts.id"), default=None)
    is_dm: Mapped[bool] = mapped_column(Boolean, default=False)
    recipient_id: Mapped[str] = mapped_column(String(200))
    recipient_handle: Mapped[str] = mapped_column(String(200), default="")
    in_reply_to_id: Mapped[str | None] = mapped_column(String(200), default=None)
    conversation_id: Mapped[str | None] = mapped_column(String(200), default=None)
    visibility: Mapped[str | None] = mapped_column(String(16), default=None)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    text: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sending, sent, failed, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)
    sent_external_id: Mapped[str | None] = mapped_column(String(200), default=None)
    # The key of the platform call that answers (or last tried to answer) this message: its own
    # idempotency key for a plain reply, "cluster:..."/"digest:..." when one reply covered several
    # messages, "dm:<id>" / "fresh:<id>" for a DM or a new post instead. Recorded before the call, so a
    # crash between posting and recording is recovered for every member at once (find_sent by this key).
    batch_key: Mapped[str | None] = mapped_column(String(200), default=None, index=True)
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
