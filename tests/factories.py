"""Small builders for test data that go through the real services."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from civictracker.models import Crew, Service, Ticket, TicketStatus
from civictracker.services.catalog import get_service
from civictracker.services.tickets import create_ticket

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
    return create_ticket(session, service(session, code), lat=lat, lon=lon, status=status, **kwargs)


def crew(session: Session, name: str = "Streets North", lat: float = 42.3886, lon: float = -71.1190) -> Crew:
    from civictracker.geo import spatial

    row = Crew(name=name, lat=lat, lon=lon, location=spatial.point(lat, lon))
    session.add(row)
    session.flush()
    return row
