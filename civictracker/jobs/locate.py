"""Job: locate a ticket from its address text (Open311 address_string or address_id) with the gazetteer."""

from __future__ import annotations

import logging

from sqlalchemy import select

from civictracker.extensions import current_session
from civictracker.models import GeocodeStatus, Ticket
from civictracker.models.types import utcnow
from civictracker.models.values import Location
from civictracker.runtime import job_context, runtime_of
from civictracker.services import tickets as ticket_service
from civictracker.services.geocoding import locate_text

log = logging.getLogger(__name__)

ACTOR = ticket_service.Actor(label="geocoder")


def geocode_ticket(ticket_id: int) -> str:
    """Locate one pending ticket from its location text; when the city's data cannot, say why and leave it.

    Returns "located", "pending" (not found or not sure: the reason is on the ticket and in an internal event
    for staff), "skipped" (already located, or no such ticket). Running it twice changes nothing.
    """
    with job_context() as app:
        runtime = runtime_of(app)
        session = current_session()
        stmt = select(Ticket).where(Ticket.id == ticket_id)
        if session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(of=Ticket)  # a staff edit or a second worker never races this one
        ticket = session.scalar(stmt)
        if ticket is None or ticket.geocode_status == GeocodeStatus.OK or ticket.lat is not None:
            session.rollback()
            return "skipped"
        text = (ticket.location_text or "").strip()
        now = utcnow()
        loc, usable = locate_text(runtime.gazetteer(), text, remote=runtime.remote) if text else (None, False)
        if loc is not None and usable and loc.lat is not None and loc.lon is not None:
            place = Location.from_geocode(loc, address=(loc.matched or text)[:300])
            ticket_service.set_ticket_location(ticket, place)
            ticket_service.record_event(
                session,
                ticket,
                "location",
                ticket_service.EventNote(
                    internal=(
                        f"Located from the address text {text[:120]!r}: {loc.matched} "
                        f"({loc.precision}, confidence {loc.confidence:.2f})."
                    ),
                    data={"job": "geocode_ticket", "precision": loc.precision, "confidence": loc.confidence},
                ),
                actor=ACTOR,
                now=now,
            )
            session.commit()
            log.info("ticket %s located at %s (%s)", ticket_id, loc.matched, loc.precision)
            return "located"
        if loc is None:
            reason = "no address text to locate"
        elif loc.found:
            why = f"; {loc.reason}" if loc.reason else ""
            reason = (
                f"only a weak match: {loc.matched} ({loc.precision}, confidence {loc.confidence:.2f}){why}"
            )
        else:
            reason = loc.reason or "not found in the city's street data"
        reason = f"Address {text[:120]!r} not located: {reason}. A dispatcher must place it."
        if ticket.geocode_reason != reason:  # a second run records nothing new
            ticket.geocode_status = GeocodeStatus.PENDING
            ticket.geocode_reason = reason
            ticket_service.record_event(
                session,
                ticket,
                "location",
                ticket_service.EventNote(internal=reason, data={"job": "geocode_ticket", "located": False}),
                actor=ACTOR,
                now=now,
            )
        session.commit()
        log.info("ticket %s stays pending: %s", ticket_id, reason)
        return "pending"


def locate_pending_tickets(limit: int = 200) -> int:
    """Locate the tickets never tried (their job was not enqueued: Redis was away at the POST).

    A ticket tried and not located has its reason set and waits for a dispatcher; it is not retried.
    """
    with job_context():
        session = current_session()
        ids = list(
            session.scalars(
                select(Ticket.id)
                .where(
                    Ticket.geocode_status == GeocodeStatus.PENDING,
                    Ticket.lat.is_(None),
                    Ticket.geocode_reason.is_(None),
                )
                .order_by(Ticket.id)
                .limit(limit)
            )
        )
        session.rollback()
    return sum(geocode_ticket(ticket_id) == "located" for ticket_id in ids)
