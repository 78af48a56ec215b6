"""Ticket workflows: create, change status through the one transition table, assign, merge, locate."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.orm import Session

from civictracker.geo import spatial
from civictracker.models import Crew, Service, Ticket, TicketEvent, TicketStatus, User
from civictracker.models.ticket import (
    ACTIVE_STATUSES,
    ANNOUNCED_STATUSES,
    CLOSED_STATUSES,
    PUBLIC_STATUSES,
    TICKET_TRANSITIONS,
    GeocodeStatus,
)
from civictracker.models.transitions import can_move
from civictracker.models.types import utcnow
from civictracker.models.values import Location
from civictracker.services import notify
from civictracker.services.errors import DomainError, InvalidTransition, ValidationFailed

log = logging.getLogger(__name__)
S = TicketStatus

# The state machine is models.ticket.TICKET_TRANSITIONS; TRANSITIONS is its name here for the views.
TRANSITIONS = TICKET_TRANSITIONS

# Public notes used when staff give none: no silent public change.
DEFAULT_PUBLIC_NOTES: dict[TicketStatus, str] = {
    S.OPEN: "Report received.",
    S.NEEDS_LOCATION: "We need a location to act on this report.",
    S.ACKNOWLEDGED: "The city has reviewed this report.",
    S.ASSIGNED: "A crew has been assigned.",
    S.IN_PROGRESS: "Work is in progress.",
    S.RESOLVED: "The problem has been fixed.",
    S.CLOSED: "This report is closed.",
    S.REOPENED: "This report has been reopened.",
    S.DUPLICATE: "This report was merged into another report of the same problem.",
    S.REFERRED: "This report was referred to the responsible agency.",
    # Said to the resident and on the page when staff give no reason: a rejection is never silent.
    S.REJECTED: "It is not something the city's crews can act on.",
    S.HIDDEN: "",
}


def can_transition(from_status: str, to_status: str) -> bool:
    return can_move(TICKET_TRANSITIONS, from_status, to_status)


def is_public_status(status: str) -> bool:
    return status in PUBLIC_STATUSES


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a staff user, a named part of the system ("intake", "resident", a job), or both.

    The label wins when given; a user alone is named by role and id; neither is "system"."""

    user: User | None = None
    label: str | None = None

    @property
    def name(self) -> str:
        if self.label:
            return self.label
        return f"{self.user.role}:{self.user.id}" if self.user is not None else "system"

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user is not None else None


SYSTEM = Actor()  # frozen: one shared default is safe


@dataclass(frozen=True)
class EventNote:
    """What an event says besides its statuses: words for the public, words for staff, facts as data.

    `data`: ids and figures the console and the jobs read back (post id, crew, precision), never shown."""

    public: str = ""
    internal: str = ""
    data: dict[str, Any] | None = None


def set_ticket_location(ticket: Ticket, location: Location | None, *, private: bool | None = None) -> None:
    """Set the exact point and the public one (block level when the place may be someone's home).

    None clears the place; `private` (None: leave as is) says whether the place may be someone's home."""
    if private is not None:
        ticket.private_location = private
    if location is None:
        ticket.location = ticket.public_location = None
        ticket.lat = ticket.lon = ticket.public_lat = ticket.public_lon = None
        return
    lat, lon = location.lat, location.lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationFailed(f"Coordinates out of range: lat={lat}, lon={lon}.")
    ticket.lat, ticket.lon = lat, lon
    ticket.location = spatial.point(lat, lon)
    ticket.precision = location.precision
    ticket.confidence = location.confidence
    ticket.address = location.address
    ticket.street = location.street
    ticket.segment_id = location.segment_id
    line = location.line
    ticket.location_line = spatial.linestring(list(line)) if line and len(line) >= 2 else None
    if ticket.private_location:
        # ~110 m grid: enough for a crew to be told "this block", not enough to point at one house.
        plat, plon = round(lat, 3), round(lon, 3)
        ticket.public_lat, ticket.public_lon = plat, plon
        ticket.address = location.street or ""
    else:
        plat, plon = lat, lon
        ticket.public_lat, ticket.public_lon = lat, lon
    ticket.public_location = spatial.point(plat, plon)
    ticket.geocode_status = GeocodeStatus.OK
    ticket.geocode_reason = None


@dataclass(frozen=True)
class NewTicket:
    """What a new ticket says: status, public words, place and origin (create_ticket adds the rest).

    `follower_count`: the followers the caller adds right after (intake: the reporter), so the row is
    inserted with its count instead of updated a moment later. `public_note`: the created event's note
    (None: the status's default)."""

    status: TicketStatus = S.OPEN
    summary: str = ""
    description: str = ""
    location_text: str = ""
    location: Location | None = None
    private_location: bool = False
    urgent: bool = False
    lang: str = "en"
    source_channel: str = "web"
    triage: dict[str, Any] | None = None
    attributes: dict[str, Any] | None = None
    media_url: str | None = None
    api_source_id: str | None = None
    public_note: str | None = None
    follower_count: int = 0


def create_ticket(
    session: Session,
    service: Service,
    new: NewTicket = NewTicket(),  # frozen: one shared default is safe
    *,
    actor: Actor = SYSTEM,
    now: dt.datetime | None = None,
    ticket_id: int | None = None,
) -> Ticket:
    """A new ticket with its 'created' event; status is open, or needs_location/new from intake.

    `ticket_id`: an id the caller took from the table's `IdAllocator`; the ticket then waits for the
    caller's next flush (it has its id already).
    """
    status = new.status
    if status not in (S.NEW, S.NEEDS_LOCATION, S.OPEN):
        raise ValidationFailed(f"A ticket starts as new, needs_location or open, not {status!r}.")
    if not service.active:
        raise ValidationFailed(f"Service {service.code!r} is not active.")
    if len(new.description) > 4000:
        raise ValidationFailed("The description is limited to 4,000 characters.")
    now = now or utcnow()
    sla = dt.timedelta(hours=service.sla_hours)
    if new.urgent:
        sla = min(sla, dt.timedelta(hours=4))  # hazards to life or safety are answered within hours
    ticket = Ticket(
        id=ticket_id,
        service=service,
        service_id=service.id,
        status=status.value,
        priority=1 if new.urgent else 0,
        summary=new.summary,
        description=new.description,
        location_text=new.location_text,
        lang=new.lang,
        source_channel=new.source_channel,
        private_location=new.private_location,
        triage=new.triage or {},
        attributes=new.attributes or {},
        media_url=new.media_url,
        api_source_id=new.api_source_id,
        report_count=1,
        follower_count=new.follower_count,
        created_at=now,
        updated_at=now,
        sla_due_at=now + sla,
        geocode_status=GeocodeStatus.PENDING,
    )
    if new.location is not None:
        set_ticket_location(ticket, new.location)
    session.add(ticket)
    note = new.public_note if new.public_note is not None else DEFAULT_PUBLIC_NOTES.get(status, "")
    created = TicketEvent(
        ticket=ticket,
        ticket_id=ticket.id,
        kind="created",
        from_status=None,
        to_status=status.value,
        public_note=note,
        internal_note="",
        is_public=is_public_status(status.value),
        actor_user_id=actor.user_id,
        actor_label=actor.name,
        data={},
        created_at=now,
    )
    _add_event(session, created, flush=False)
    if ticket_id is None:
        session.flush()  # the ticket gets its id, its event in the same flush (via the relationship)
    return ticket


def _add_event(session: Session, event: TicketEvent, *, flush: bool = True) -> TicketEvent:
    session.add(event)
    if flush:
        session.flush()  # callers key notifications on the event's id
    return event


def record_event(
    session: Session,
    ticket: Ticket,
    kind: str,
    note: EventNote = EventNote(),  # frozen: one shared default is safe
    *,
    is_public: bool = False,
    actor: Actor = SYSTEM,
    now: dt.datetime | None = None,
    flush: bool = True,
) -> TicketEvent:
    """An event that changes no status (a note, a new report, a location fix, a confirmation).

    flush=False when nothing is keyed on the event's id yet: it is written with the caller's next flush.
    """
    now = now or utcnow()
    ticket.updated_at = now
    event = TicketEvent(
        ticket=ticket,
        ticket_id=ticket.id,
        kind=kind,
        from_status=ticket.status,
        to_status=ticket.status,
        public_note=note.public,
        internal_note=note.internal,
        is_public=is_public,
        actor_user_id=actor.user_id,
        actor_label=actor.name,
        data=note.data or {},
        created_at=now,
    )
    return _add_event(session, event, flush=flush)


def change_status(
    session: Session,
    ticket: Ticket,
    to_status: TicketStatus | str,
    *,
    replies: notify.ReplyContext,
    actor: Actor = SYSTEM,
    note: EventNote = EventNote(),  # frozen: one shared default is safe
    now: dt.datetime | None = None,
) -> TicketEvent:
    """Move a ticket along the state machine; writes the event; refuses what the table does not allow.

    `replies`: the city's reply context; every public change is answered in each follower's thread.
    `note.public`: empty for the status's default public note; the event is public when its status is."""
    try:
        target = S(to_status)
    except ValueError:
        raise ValidationFailed(f"Unknown status {to_status!r}.") from None
    if not can_transition(ticket.status, target):
        raise InvalidTransition(ticket.status, target.value)
    if len(note.public) > 2000:
        raise ValidationFailed("A public note is limited to 2,000 characters.")
    if note.data and "notes" in note.data:  # staff's optional words per follower language
        note = replace(note, data={**note.data, "notes": notify.clean_notes(replies, note.data["notes"])})
    now = now or utcnow()
    from_status = ticket.status
    ticket.status = target.value
    ticket.updated_at = now
    if target in CLOSED_STATUSES:
        ticket.closed_at = now
    elif target in (S.REOPENED, S.OPEN):
        ticket.closed_at = None
    public_note = note.public.strip() or DEFAULT_PUBLIC_NOTES.get(target, "")
    event = _add_event(
        session,
        TicketEvent(
            ticket=ticket,
            ticket_id=ticket.id,
            kind="status",
            from_status=from_status,
            to_status=target.value,
            public_note=public_note,
            internal_note=note.internal,
            is_public=target in ANNOUNCED_STATUSES and bool(public_note),
            actor_user_id=actor.user_id,
            actor_label=actor.name,
            # a default note is the city's English words, not staff's: replies say it in the resident's
            # language through their template and leave the note out (notify.reply_note)
            data={**(note.data or {}), **({} if note.public.strip() else {"default_note": True})},
            created_at=now,
        ),
    )
    if event.is_public:
        # Every public change is answered in each follower's thread, once (idempotency key per event).
        notify.queue_event_notifications(session, replies, ticket, event, now=now)
    return event


def assign_crew(
    session: Session,
    ticket: Ticket,
    crew: Crew | None,
    *,
    replies: notify.ReplyContext,
    actor: Actor = SYSTEM,
    public_note: str | None = None,
    internal_note: str = "",
    now: dt.datetime | None = None,
) -> TicketEvent:
    """Assign (or unassign with None) a crew; moves an open ticket to assigned with a public note."""
    if ticket.status not in ACTIVE_STATUSES:
        raise DomainError(f"Ticket {ticket.ref} is {ticket.status}; only an open ticket can be assigned.")
    if crew is not None and not crew.active:
        raise DomainError(f"Crew {crew.name!r} is not active.")
    now = now or utcnow()
    previous = ticket.crew.name if ticket.crew else None
    ticket.crew_id = crew.id if crew else None
    ticket.crew = crew
    data = {"crew_id": crew.id if crew else None, "crew": crew.name if crew else None, "previous": previous}
    if crew is not None and ticket.status in (S.OPEN, S.ACKNOWLEDGED, S.REOPENED):
        note = EventNote(public=public_note or "", internal=internal_note, data=data)
        return change_status(session, ticket, S.ASSIGNED, replies=replies, actor=actor, note=note, now=now)
    if crew is None and ticket.status in (S.ASSIGNED, S.IN_PROGRESS):
        note = EventNote(public=public_note or "", internal=internal_note or "Crew unassigned.", data=data)
        return change_status(
            session, ticket, S.ACKNOWLEDGED, replies=replies, actor=actor, note=note, now=now
        )
    # A reassignment between crews changes nothing the public sees.
    return record_event(
        session, ticket, "assigned", EventNote(internal=internal_note, data=data), actor=actor, now=now
    )


def merge_tickets(
    session: Session,
    duplicate: Ticket,
    into: Ticket,
    *,
    replies: notify.ReplyContext,
    actor: Actor = SYSTEM,
    public_note: str | None = None,
    now: dt.datetime | None = None,
) -> TicketEvent:
    """Mark `duplicate` as a duplicate of `into`; its reports and followers move to `into`."""
    from civictracker.models import Follower, InboundPost

    if duplicate.id == into.id:
        raise DomainError("A ticket cannot be merged into itself.")
    if into.status == S.DUPLICATE:
        raise DomainError(
            f"Ticket {into.ref} is itself a duplicate; merge into {into.duplicate_of_id} instead."
        )
    now = now or utcnow()
    existing = {f.reporter_id for f in session.query(Follower).filter_by(ticket_id=into.id)}
    moved = 0
    for follower in session.query(Follower).filter_by(ticket_id=duplicate.id, active=True):
        if follower.reporter_id in existing:
            continue
        session.add(
            Follower(
                ticket_id=into.id,
                reporter_id=follower.reporter_id,
                post_id=follower.post_id,
                thread=follower.thread,
                lang=follower.lang,
            )
        )
        moved += 1
    session.query(InboundPost).filter_by(ticket_id=duplicate.id).update({"ticket_id": into.id})
    into.report_count += duplicate.report_count
    into.follower_count += moved
    into.priority = max(into.priority, duplicate.priority)
    duplicate.duplicate_of_id = into.id
    event = change_status(
        session,
        duplicate,
        S.DUPLICATE,
        replies=replies,
        actor=actor,
        note=EventNote(
            public=public_note or f"Merged into report {into.ref}, which tracks the same problem.",
            data={"into": into.id},
        ),
        now=now,
    )
    record_event(
        session,
        into,
        "merged",
        EventNote(
            internal=f"{duplicate.ref} merged in ({duplicate.report_count} report(s), {moved} follower(s)).",
            data={"from": duplicate.id},
        ),
        actor=actor,
        now=now,
    )
    return event
