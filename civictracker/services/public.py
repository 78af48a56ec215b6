"""What the public sees of a ticket: the map's status sets and labels, block-level places, the ticket page."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.models import Ticket, TicketEvent, TicketStatus
from civictracker.models.ticket import ACTIVE_STATUSES, PUBLIC_STATUSES

S = TicketStatus

# What the map calls "open" and "closed": duplicates are drawn once, on the ticket they were merged into.
MAP_OPEN = ACTIVE_STATUSES
MAP_CLOSED = (S.RESOLVED, S.CLOSED, S.REFERRED)

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


def _event_label(event: TicketEvent) -> str:
    if event.kind == "created":
        return "Reported"
    if event.kind == "status":
        return STATUS_LABELS.get(event.to_status or "", "Update")
    return "Update"


def get_public_ticket(session: Session, ticket_id: int, timezone: str) -> PublicTicket | None:
    """The public projection of one ticket, or None when it does not exist or is not public."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.status not in PUBLIC_STATUSES or not ticket.service.public:
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
    )
