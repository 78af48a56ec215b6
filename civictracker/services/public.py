"""What the public sees of a ticket: the map's status sets and labels, block-level places, the ticket page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.geo import spatial
from civictracker.models import Ticket, TicketEvent, TicketStatus
from civictracker.models.ticket import ACTIVE_STATUSES, ANNOUNCED_STATUSES, PUBLIC_STATUSES
from civictracker.services.photos import PublicPhoto, public_photos
from civictracker.services.public_text import OWN_WORDS_CHANNELS, redact_contacts

S = TicketStatus

# What the map calls "open" and "closed": duplicates are drawn once, on the ticket they were merged into.
MAP_OPEN = ACTIVE_STATUSES
MAP_CLOSED = (S.RESOLVED, S.CLOSED, S.REFERRED)
CLOSED_RECENT_DAYS = 30  # "closed" on the map means closed recently; old history belongs to Open311

STATUS_LABELS: dict[str, str] = {
    S.OPEN: "Open",
    S.ACKNOWLEDGED: "Acknowledged",
    S.ASSIGNED: "Crew assigned",
    S.IN_PROGRESS: "In progress",
    S.REOPENED: "Reopened",
    S.RESOLVED: "Resolved",
    S.CLOSED: "Closed",
    S.DUPLICATE: "Merged (duplicate)",
    S.REFERRED: "Referred to another agency",
    S.REJECTED: "Closed without action",
}
# Endings whose page leads with why (the status event's public note).
EXPLAINED_STATUSES = frozenset({S.DUPLICATE, S.REJECTED, S.REFERRED})
# A moderated ticket keeps its page (a resident's link never turns into a 404), saying only this.
WITHDRAWN_LABEL = "Removed from public view"
WITHDRAWN_SUMMARY = "This report is no longer shown publicly. The city has recorded it and who decided."
EVENT_LABELS = {
    "recategorized": "Category corrected",
    "reprioritized": "Urgency changed",
    "relocated": "Place corrected",
}


def public_address(address: str, street: str | None, private_location: bool) -> str:
    """The place as the public may see it: the street only when the report may point at someone's home."""
    if private_location:
        return f"{street} (block level)" if street else "Location withheld (block level)"
    address = address if address != "geotag" else ""  # the old name of a place found from a geotag
    return address or street or ""


@dataclass(frozen=True)
class PublicEvent:
    at: dt.datetime  # in the city's time zone
    label: str
    note: str
    id: int = 0  # the event row's id: a feed entry's stable identity


@dataclass(frozen=True)
class PublicTicket:
    id: int
    ref: str
    service_code: str
    service_name: str
    status: str
    status_label: str
    is_open: bool
    address: str
    summary: str
    report_count: int
    lat: float | None  # the public point (block level when private), never the exact one
    lon: float | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    duplicate_of_id: int | None
    expected_at: dt.datetime | None = None  # the service's SLA due time, while the ticket is open
    timeline: list[PublicEvent] = field(default_factory=list)
    reason: str = ""  # why it ended (a merge, a rejection, a referral): the ending event's public note
    withdrawn: bool = False  # hidden by staff: the page says so and shows nothing else
    photos: list[PublicPhoto] = field(default_factory=list)  # approved by a dispatcher (services/photos.py)
    description: str = ""  # an Open311 submitter's own words, contacts removed; never a post's text
    line: list[tuple[float, float]] = field(default_factory=list)  # (lon, lat): a street-wide span


def _event_label(event: TicketEvent) -> str:
    if event.kind == "created":
        return "Reported"
    if event.kind == "status":
        return STATUS_LABELS.get(event.to_status or "", "Update")
    return EVENT_LABELS.get(event.kind, "Update")


def get_public_ticket(session: Session, ticket_id: int, timezone: str) -> PublicTicket | None:
    """The public projection of one ticket, or None when it does not exist or was never public (intake
    states, a non-public service). A rejected ticket shows why; a hidden one shows only that it was."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not ticket.service.public:
        return None
    if ticket.status == S.HIDDEN:
        return _withdrawn(ticket, ZoneInfo(timezone))
    if ticket.status not in ANNOUNCED_STATUSES:
        return None
    tz = ZoneInfo(timezone)
    events = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.is_public.is_(True))
        .order_by(TicketEvent.created_at, TicketEvent.id)
    )
    timeline = [
        PublicEvent(
            at=e.created_at.astimezone(tz),
            label=_event_label(e),
            note=e.public_note,
            id=e.id,
        )
        for e in events
        if e.public_note or e.kind in ("status", "created")
    ]
    duplicate_of = None
    if ticket.status == S.DUPLICATE and ticket.duplicate_of_id:
        target = session.get(Ticket, ticket.duplicate_of_id)
        if target is not None and target.status in PUBLIC_STATUSES:
            duplicate_of = target.id
    place = public_address(ticket.address, ticket.street, ticket.private_location)
    summary = ticket.summary.strip() or (
        f"{ticket.service.name} reported" + (f" at {place}." if place else ".")
    )
    return PublicTicket(
        id=ticket.id,
        ref=ticket.ref,
        service_code=ticket.service.code,
        service_name=ticket.service.name,
        status=ticket.status,
        status_label=STATUS_LABELS.get(ticket.status, ticket.status),
        is_open=ticket.status in {s.value for s in MAP_OPEN},
        address=place,
        summary=summary,
        report_count=max(ticket.report_count, 1),
        lat=ticket.public_lat,
        lon=ticket.public_lon,
        created_at=ticket.created_at.astimezone(tz),
        updated_at=ticket.updated_at.astimezone(tz),
        closed_at=ticket.closed_at.astimezone(tz) if ticket.closed_at else None,
        duplicate_of_id=duplicate_of,
        expected_at=ticket.sla_due_at.astimezone(tz)
        if ticket.sla_due_at is not None and ticket.status in {s.value for s in MAP_OPEN}
        else None,
        timeline=timeline,
        reason=_reason(timeline, ticket.status),
        # a rejected ticket's page explains why; its photos stay off like the rest of it
        photos=public_photos(session, [ticket.id])[ticket.id] if ticket.status in PUBLIC_STATUSES else [],
        description=_description(ticket),
        line=_line(session, ticket),
    )


def _description(ticket: Ticket) -> str:
    if ticket.source_channel not in OWN_WORDS_CHANNELS:
        return ""
    text = redact_contacts(ticket.description.strip())
    return "" if text == ticket.summary.strip() else text


def _line(session: Session, ticket: Ticket) -> list[tuple[float, float]]:
    """The street span a street-wide report covers ("between A and B"); none for a private place, whose
    public point is only its block (intake drops the span there already; this holds whatever wrote it)."""
    if ticket.private_location or ticket.public_lat is None:
        return []
    return spatial.line_points(session, Ticket.location_line, Ticket.id == ticket.id)


def _reason(timeline: list[PublicEvent], status: str) -> str:
    """The note of the last public event of an explained ending (its status change), else ""."""
    if status not in EXPLAINED_STATUSES:
        return ""
    label = STATUS_LABELS.get(status, "")
    return next((e.note for e in reversed(timeline) if e.label == label and e.note), "")


def _withdrawn(ticket: Ticket, tz: ZoneInfo) -> PublicTicket:
    """What the page of a hidden ticket says: its number and that it was withdrawn; no place, no words."""
    return PublicTicket(
        id=ticket.id,
        ref=ticket.ref,
        service_code=ticket.service.code,
        service_name=ticket.service.name,
        status=ticket.status,
        status_label=WITHDRAWN_LABEL,
        is_open=False,
        address="",
        summary=WITHDRAWN_SUMMARY,
        report_count=max(ticket.report_count, 1),
        lat=None,
        lon=None,
        created_at=ticket.created_at.astimezone(tz),
        updated_at=ticket.updated_at.astimezone(tz),
        closed_at=None,
        duplicate_of_id=None,
        withdrawn=True,
    )
