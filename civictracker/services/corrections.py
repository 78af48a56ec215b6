"""A dispatcher's corrections to a ticket (category, urgency, place): each an event, the followers told."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.geo.gazetteer import Gazetteer
from civictracker.geo.geocode import distance_m
from civictracker.geo.remote import RemoteGeocoder
from civictracker.models import Follower, MessageKind, Service, Ticket, TicketEvent
from civictracker.models.ticket import ACTIVE_STATUSES
from civictracker.models.types import utcnow
from civictracker.models.values import Location
from civictracker.services import notify
from civictracker.services.errors import DomainError, ValidationFailed
from civictracker.services.geocoding import locate_text
from civictracker.services.public import public_address
from civictracker.services.tickets import SYSTEM, Actor, EventNote, record_event, set_ticket_location

log = logging.getLogger(__name__)

# A dragged pin takes the street of the nearest centerline within this distance; farther, it has none.
PIN_STREET_M = 150.0
URGENT_SLA = dt.timedelta(hours=4)  # as create_ticket: hazards to life or safety are answered within hours
PUBLIC_NOTE_MAX = 2000
NO_NOTE = EventNote()  # frozen: one shared default is safe


@dataclass(frozen=True)
class Correction:
    """What a dispatcher changes; None keeps the ticket's own."""

    service: Service | None = None
    urgent: bool | None = None
    location: Location | None = None


def place_from_text(gazetteer: Gazetteer, text: str, remote: RemoteGeocoder | None = None) -> Location:
    """The place a dispatcher typed (an address, an intersection, a landmark), through the city geocoder."""
    text = text.strip()
    if not text:
        raise ValidationFailed("Type an address or an intersection.")
    if len(text) > 300:
        raise ValidationFailed("A place is limited to 300 characters.")
    result, _ = locate_text(gazetteer, text, remote=remote)
    location = Location.from_geocode(result, address=result.matched or text) if result.found else None
    if location is None:
        raise ValidationFailed(f"Could not place {text!r}: {result.reason or 'no match in the city'}.")
    return location


def place_from_pin(gazetteer: Gazetteer, lat: float, lon: float) -> Location:
    """A dragged pin: exact where it was dropped, with the street and segment under it (reverse lookup)."""
    if not gazetteer.contains(lat, lon):
        raise ValidationFailed(f"{lat:.5f}, {lon:.5f} is outside the city.")
    hit = gazetteer.nearest_segment(lat, lon, max_m=PIN_STREET_M)
    street = hit[0].street if hit else None
    return Location(lat, lon, "manual", 1.0, street or "", street, hit[0].id if hit else None)


def _sla_due(ticket: Ticket) -> dt.datetime:
    sla = dt.timedelta(hours=ticket.service.sla_hours)
    return ticket.created_at + (min(sla, URGENT_SLA) if ticket.priority > 0 else sla)


def _place(ticket: Ticket) -> dict[str, object]:
    return {"lat": ticket.lat, "lon": ticket.lon, "street": ticket.street, "segment_id": ticket.segment_id}


def _apply(ticket: Ticket, fix: Correction) -> list[tuple[str, str, str, dict[str, object]]]:
    """Change the ticket; (event kind, reply fragment kind, public words, data) for each real change."""
    changes: list[tuple[str, str, str, dict[str, object]]] = []
    if fix.service is not None and fix.service.id != ticket.service_id:
        if not fix.service.active:
            raise ValidationFailed(f"Service {fix.service.code!r} is not active.")
        old = ticket.service
        ticket.service, ticket.service_id = fix.service, fix.service.id
        words = f"Category changed from {old.name} to {fix.service.name}."
        changes.append(
            ("recategorized", "corrected_service", words, {"from": old.code, "to": fix.service.code})
        )
    if fix.urgent is not None and fix.urgent != (ticket.priority > 0):
        was, ticket.priority = ticket.priority, 1 if fix.urgent else 0
        kind, words = (
            ("corrected_urgent", "Marked urgent.")
            if fix.urgent
            else ("corrected_not_urgent", "No longer urgent.")
        )
        changes.append(("reprioritized", kind, words, {"from": was, "to": ticket.priority}))
    if fix.location is not None:
        before, old_point = _place(ticket), (ticket.lon, ticket.lat)
        set_ticket_location(ticket, fix.location)
        moved = None
        if old_point[0] is not None and old_point[1] is not None:
            moved = round(distance_m((old_point[0], old_point[1]), (fix.location.lon, fix.location.lat)))
        place = public_address(ticket.address, ticket.street, ticket.private_location) or "the new place"
        data: dict[str, object] = {
            "from": before,
            "to": _place(ticket),
            "moved_m": moved,
            "precision": ticket.precision,
        }
        changes.append(("relocated", "corrected_place", f"Place corrected to {place}.", data))
    if changes:
        ticket.sla_due_at = _sla_due(ticket)
    return changes


def correct_ticket(
    session: Session,
    ticket: Ticket,
    fix: Correction,
    *,
    replies: notify.ReplyContext,
    actor: Actor = SYSTEM,
    note: EventNote = NO_NOTE,
    now: dt.datetime | None = None,
) -> list[TicketEvent]:
    """Correct a live ticket's category, urgency or place: one public event per change (its words, then
    the dispatcher's `note.public`), and one reply per follower saying what changed, in their language."""
    if ticket.status not in ACTIVE_STATUSES:
        raise DomainError(f"Ticket {ticket.ref} is {ticket.status}; only an open ticket can be corrected.")
    if len(note.public) > PUBLIC_NOTE_MAX:
        raise ValidationFailed("A public note is limited to 2,000 characters.")
    now = now or utcnow()
    changes = _apply(ticket, fix)
    if not changes:
        raise ValidationFailed(f"Nothing to correct: {ticket.ref} already says that.")
    events = []
    # staff's optional words per follower language (the console's fields), kept on each event
    notes = notify.clean_notes(replies, (note.data or {}).get("notes"))
    for kind, _, words, data in changes:
        public = f"{words} {note.public.strip()}".strip()
        event_note = EventNote(
            public=public, internal=note.internal, data={**data, **({"notes": notes} if notes else {})}
        )
        events.append(record_event(session, ticket, kind, event_note, is_public=True, actor=actor, now=now))
    fragments = [fragment for _, fragment, _, _ in changes]
    _tell_followers(session, replies, ticket, events, fragments, (note.public, notes), now)
    log.info("ticket %s corrected by %s: %s", ticket.id, actor.name, [c[0] for c in changes])
    return events


def _tell_followers(
    session: Session,
    ctx: notify.ReplyContext,
    ticket: Ticket,
    events: list[TicketEvent],
    fragments: list[str],
    note: tuple[str, dict[str, str]],
    now: dt.datetime,
) -> None:
    """One short reply per active follower, keyed on the correction's first event: what changed, in the
    follower's language (the pack's corrected_* sentences), then the dispatcher's word in that language
    if given, else as typed, labelled with its language when it is another one (notify.note_for)."""
    typed, notes = note
    followers = session.scalars(
        select(Follower)
        .where(Follower.ticket_id == ticket.id, Follower.active.is_(True))
        .order_by(Follower.id)
    ).all()
    for follower in followers:
        said = " ".join(notify.compose(ctx, f, follower.lang, ticket) for f in fragments)
        key = f"correction:{events[0].id}:follower:{follower.id}"
        word = notify.note_for(ctx, typed, follower.lang, notes)
        reply = notify.Reply(key, MessageKind.CORRECTED, ticket, event=events[-1], note=f"{said} {word}")
        notify.queue_for_follower(session, ctx, follower, reply, now=now)
