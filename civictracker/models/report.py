"""What residents send: raw inbound posts, the channel identities behind them, who follows which ticket."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, composite, mapped_column, relationship

from civictracker.extensions import db
from civictracker.models.types import UTCDateTime, utcnow
from civictracker.models.values import Thread

if TYPE_CHECKING:
    from civictracker.models.ticket import Ticket


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
    __table_args__ = (UniqueConstraint("channel", "external_id"),)

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
    # Processing: received -> processed | failed | ignored; each stage's outcome and reason recorded.
    state: Mapped[str] = mapped_column(String(16), default="received", index=True)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)  # created, merged, ask_back, ...
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    stages: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None, index=True)
    processed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    redacted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # Last time the platform was asked whether the source still exists (outbox/sources.py rotates on it).
    source_checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

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
