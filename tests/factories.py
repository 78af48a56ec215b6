"""Small builders for test data that go through the real services."""

from __future__ import annotations

from typing import Any

from flask import current_app
from sqlalchemy.orm import Session

from civictracker.models import Crew, Service, Ticket, TicketStatus
from civictracker.models.values import Location
from civictracker.runtime import runtime_of
from civictracker.services.catalog import get_service
from civictracker.services.notify import ReplyContext
from civictracker.services.tickets import NewTicket, create_ticket

# Hampshire St & Windsor St, Cambridge (official intersection point).
HAMPSHIRE_WINDSOR = (42.3707, -71.0975)


def service(session: Session, code: str = "pothole") -> Service:
    svc = get_service(session, code)
    assert svc is not None, f"service {code} not loaded"
    return svc


def ticket(
    session: Session,
    code: str = "pothole",
    *,
    lat: float | None = HAMPSHIRE_WINDSOR[0],
    lon: float | None = HAMPSHIRE_WINDSOR[1],
    status: TicketStatus = TicketStatus.OPEN,
    **kwargs: Any,
) -> Ticket:
    """A ticket through create_ticket; `kwargs` are NewTicket's fields, Location's (address, street ...)
    and create_ticket's own (actor, now, ticket_id)."""
    place = {k: kwargs.pop(k) for k in _PLACE_FIELDS & kwargs.keys()}
    own = {k: kwargs.pop(k) for k in _CREATE_FIELDS & kwargs.keys()}
    location = Location(lat, lon, **place) if lat is not None and lon is not None else None
    new = NewTicket(status=status, location=location, **kwargs)
    return create_ticket(session, service(session, code), new, **own)


_PLACE_FIELDS = {"precision", "confidence", "address", "street", "segment_id", "line"}
_CREATE_FIELDS = {"actor", "now", "ticket_id"}


def replies() -> ReplyContext:
    """The app's reply context, as the web views and jobs pass it to the ticket services."""
    return runtime_of(current_app).replies


def crew(
    session: Session,
    name: str = "Streets North",
    lat: float = 42.3886,
    lon: float = -71.1190,
    skills: tuple[str, ...] = (),
) -> Crew:
    """A crew at a point; `skills`: the codes of the services it handles."""
    from civictracker.geo import spatial

    row = Crew(name=name, lat=lat, lon=lon, location=spatial.point(lat, lon))
    row.services = [service(session, code) for code in skills]
    session.add(row)
    session.flush()
    return row
