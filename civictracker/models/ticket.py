"""Ticket (one problem at one place), its append-only history of events, and its states."""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civictracker.extensions import db
from civictracker.models.types import UTCDateTime, line_column_type, point_column_type, utcnow

if TYPE_CHECKING:
    from civictracker.models.crew import Crew
    from civictracker.models.service import Service
    from civictracker.models.user import User


class TicketStatus(enum.StrEnum):
    NEW = "new"
    NEEDS_LOCATION = "needs_location"
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
    REFERRED = "referred"
    HIDDEN = "hidden"


# Every status is in exactly one of these four (tests/unit/models/test_transitions.py checks it).
# Intake: the post is in, the place is not known yet (no crew can go, no dedupe can merge into it).
INTAKE_STATUSES = frozenset({TicketStatus.NEW, TicketStatus.NEEDS_LOCATION})
# Work underway at a known place: dedupe candidates, assignable, Open311 "open".
ACTIVE_STATUSES = frozenset(
    {
        TicketStatus.OPEN,
        TicketStatus.ACKNOWLEDGED,
        TicketStatus.ASSIGNED,
        TicketStatus.IN_PROGRESS,
        TicketStatus.REOPENED,
    }
)
# Done one way or another: moving here stamps closed_at.
CLOSED_STATUSES = frozenset(
    {
        TicketStatus.RESOLVED,
        TicketStatus.CLOSED,
        TicketStatus.DUPLICATE,
        TicketStatus.REJECTED,
        TicketStatus.REFERRED,
    }
)
# Taken down by moderation: neither work nor history.
MODERATED_STATUSES = frozenset({TicketStatus.HIDDEN})

# States in which work is still to be done (the dispatcher queue, the open map, source checks).
OPEN_STATUSES = INTAKE_STATUSES | ACTIVE_STATUSES
# Fixed: what the metrics count as resolved, and what a resident's "still broken" reopens.
RESOLVED_STATUSES = frozenset({TicketStatus.RESOLVED, TicketStatus.CLOSED})
# States the public (map, ticket page, Open311) may see; the rest are intake or moderation states.
PUBLIC_STATUSES = (ACTIVE_STATUSES | CLOSED_STATUSES) - {TicketStatus.REJECTED}
# Changes the followers are told of and the ticket page shows: a rejection is explained, never silent
# (the rejected ticket stays off the map and Open311; its page says why).
ANNOUNCED_STATUSES = PUBLIC_STATUSES | {TicketStatus.REJECTED}

# The whole ticket state machine (ARCHITECTURE section 5, plus the moves staff make today): the moves
# allowed from each status. Anything not listed is refused (services.tickets.change_status).
_S = TicketStatus
_WORK = frozenset({_S.ACKNOWLEDGED, _S.ASSIGNED, _S.IN_PROGRESS, _S.RESOLVED, _S.CLOSED})
_ENDINGS = frozenset({_S.DUPLICATE, _S.REJECTED, _S.REFERRED, _S.HIDDEN})
TICKET_TRANSITIONS: dict[TicketStatus, frozenset[TicketStatus]] = {
    _S.NEW: frozenset({_S.NEEDS_LOCATION, _S.OPEN}) | _ENDINGS,
    _S.NEEDS_LOCATION: frozenset({_S.OPEN}) | _ENDINGS,
    _S.OPEN: _WORK | _ENDINGS,
    _S.ACKNOWLEDGED: (_WORK - {_S.ACKNOWLEDGED}) | _ENDINGS,
    _S.ASSIGNED: frozenset({_S.ACKNOWLEDGED, _S.IN_PROGRESS, _S.RESOLVED, _S.CLOSED}) | _ENDINGS,
    _S.IN_PROGRESS: frozenset({_S.ASSIGNED, _S.RESOLVED, _S.CLOSED}) | _ENDINGS,
    _S.RESOLVED: frozenset({_S.CLOSED, _S.REOPENED}),
    _S.CLOSED: frozenset({_S.REOPENED}),
    _S.REOPENED: _WORK | _ENDINGS,
    _S.DUPLICATE: frozenset({_S.REOPENED}),
    _S.REJECTED: frozenset({_S.OPEN}),
    _S.REFERRED: frozenset({_S.REOPENED}),
    _S.HIDDEN: frozenset({_S.OPEN}),
}


class GeocodeStatus(enum.StrEnum):
    """Whether the ticket's place was looked up: not yet (or retrying), found, or given up on."""

    PENDING = "pending"
    OK = "ok"
    FAILED = "failed"


class Ticket(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_status_priority", "status", "priority"),
        Index("ix_tickets_service_status", "service_id", "status"),
        Index("ix_tickets_created_at", "created_at"),
        Index("ix_tickets_updated_at", "updated_at"),
        Index("ix_tickets_closed_at", "closed_at"),  # the metrics window: reported OR closed since
        Index("ix_tickets_public_map", "status", "public_lon", "public_lat", "service_id"),
        # The map's recently closed tickets counted from the index alone (services/map_closed_cells.py: the
        # window's first day). SQLite's index carries the rowid (the id); PostgreSQL's includes it.
        Index(
            "ix_tickets_map_closed_cover",
            "status",
            "closed_at",
            "public_lon",
            "public_lat",
            "service_id",
            postgresql_include=["id"],
        ),
        # Street-wide dedupe (services/dedupe.py _same_street): one street's tickets of one service.
        Index("ix_tickets_street", "street", "service_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    service_id: Mapped[int] = mapped_column(ForeignKey("services.id"))
    status: Mapped[str] = mapped_column(String(32), default=TicketStatus.NEW.value)
    priority: Mapped[int] = mapped_column(Integer, default=0)  # 0 normal, 1 urgent (hazard to life or safety)
    # Exact point (dispatchers) and the point shown publicly (block level for a DM at a home address).
    # Deferred: spatial SQL uses the columns and Python reads the plain lat/lon copies, so a ticket load
    # (the dedupe lookup of every post) need not convert three geometries; reading one loads the three.
    location: Mapped[Any | None] = mapped_column(
        point_column_type(), nullable=True, deferred=True, deferred_group="geometry"
    )
    public_location: Mapped[Any | None] = mapped_column(
        point_column_type(), nullable=True, deferred=True, deferred_group="geometry"
    )
    location_line: Mapped[Any | None] = mapped_column(
        line_column_type(), nullable=True, deferred=True, deferred_group="geometry"
    )
    lat: Mapped[float | None] = mapped_column(default=None)  # plain copies for serializers without GIS calls
    lon: Mapped[float | None] = mapped_column(default=None)
    public_lat: Mapped[float | None] = mapped_column(default=None)
    public_lon: Mapped[float | None] = mapped_column(default=None)
    location_text: Mapped[str] = mapped_column(Text, default="")  # what the resident wrote about the place
    address: Mapped[str] = mapped_column(String(300), default="")  # canonical place we matched (public)
    street: Mapped[str | None] = mapped_column(String(200), default=None)
    segment_id: Mapped[str | None] = mapped_column(String(100), default=None, index=True)
    precision: Mapped[str | None] = mapped_column(String(20), default=None)
    confidence: Mapped[float | None] = mapped_column(default=None)
    geocode_status: Mapped[str] = mapped_column(String(20), default=GeocodeStatus.PENDING.value)
    geocode_reason: Mapped[str | None] = mapped_column(Text, default=None)
    summary: Mapped[str] = mapped_column(Text, default="")  # public summary in our words, never a raw DM
    description: Mapped[str] = mapped_column(Text, default="")  # public description (Open311 POST text)
    lang: Mapped[str] = mapped_column(String(8), default="en")
    source_channel: Mapped[str] = mapped_column(
        String(32), default="web"
    )  # x_mention, x_dm, mastodon, api...
    private_location: Mapped[bool] = mapped_column(Boolean, default=False)  # show block level publicly
    triage: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # why: keywords, features, scores
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # Open311 attribute values
    media_url: Mapped[str | None] = mapped_column(String(500), default=None)
    api_source_id: Mapped[str | None] = mapped_column(String(200), unique=True, default=None)
    crew_id: Mapped[int | None] = mapped_column(ForeignKey("crews.id"), default=None, index=True)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), default=None)
    report_count: Mapped[int] = mapped_column(Integer, default=0)
    follower_count: Mapped[int] = mapped_column(Integer, default=0)
    sla_due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    first_public_reply_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)

    service: Mapped[Service] = relationship(lazy="joined")
    crew: Mapped[Crew | None] = relationship()
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )

    @property
    def ref(self) -> str:
        return f"CT-{self.id}"

    def __repr__(self) -> str:
        return f"<Ticket {self.id} {self.status}>"


class TicketEvent(db.Model):  # type: ignore[name-defined,misc]
    """One entry of a ticket's history; rows are only ever added."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # created, status, assigned, merged, located, report, note
    from_status: Mapped[str | None] = mapped_column(String(32), default=None)
    to_status: Mapped[str | None] = mapped_column(String(32), default=None)
    public_note: Mapped[str] = mapped_column(Text, default="")
    internal_note: Mapped[str] = mapped_column(Text, default="")
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    actor_label: Mapped[str] = mapped_column(String(100), default="system")  # system, intake, resident, api
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
