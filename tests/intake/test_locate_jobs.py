"""geocode_ticket: locates a ticket from its address text, or leaves it pending with a reason; inline and on rq."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from civictracker.extensions import db
from civictracker.jobs.locate import geocode_ticket
from civictracker.models import Ticket, TicketEvent
from civictracker.queue import get_queue
from civictracker.services import tickets as ticket_service
from civictracker.services.users import create_api_key
from tests import factories
from tests.conftest import BACKENDS
from tests.intake.helpers import rq_app_on, work_burst


def _pending_ticket(text: str) -> Ticket:
    ticket = ticket_service.create_ticket(
        db.session,
        factories.service(db.session, "pothole"),
        ticket_service.NewTicket(location_text=text),
        actor=ticket_service.Actor(label="test"),
    )
    db.session.commit()
    assert ticket.geocode_status == "pending" and ticket.lat is None
    return ticket


def _location_events(ticket_id: int) -> list[TicketEvent]:
    stmt = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == "location")
    return list(db.session.scalars(stmt))


def test_address_is_located_once(app) -> None:  # type: ignore[no-untyped-def]
    ticket = _pending_ticket("57 Inman St")
    assert geocode_ticket(ticket.id) == "located"
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.geocode_status == "ok" and ticket.geocode_reason is None
    assert ticket.street == "Inman St" and ticket.precision == "interpolated"
    # 57 Inman St interpolated along its official centerline range: 42.369882, -71.103063.
    assert abs(ticket.lat - 42.369882) < 6e-4 and abs(ticket.lon - (-71.103063)) < 8e-4
    assert ticket.public_lat == ticket.lat and ticket.location is not None
    assert len(_location_events(ticket.id)) == 1
    assert geocode_ticket(ticket.id) == "skipped"  # twice changes nothing
    assert len(_location_events(ticket.id)) == 1


def test_intersection_text_is_located(app) -> None:  # type: ignore[no-untyped-def]
    ticket = _pending_ticket("corner of Cambridge St and Prospect St")
    assert geocode_ticket(ticket.id) == "located"
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.precision == "intersection" and ticket.address == "Cambridge St & Prospect St"


@pytest.mark.parametrize(
    ("text", "why"),
    [("12 Nowhereville Rd", "not located"), ("", "no address text"), ("Massachusetts Ave", "weak match")],
)
def test_not_found_stays_pending_with_one_reason(app, text: str, why: str) -> None:  # type: ignore[no-untyped-def]
    ticket = _pending_ticket(text)
    assert geocode_ticket(ticket.id) == "pending"
    assert geocode_ticket(ticket.id) == "pending"
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.geocode_status == "pending" and ticket.lat is None and why in ticket.geocode_reason
    (event,) = _location_events(ticket.id)  # the second run recorded nothing new
    assert not event.is_public and event.internal_note == ticket.geocode_reason


def test_missing_ticket_is_skipped(app) -> None:  # type: ignore[no-untyped-def]
    assert geocode_ticket(987654) == "skipped"


@pytest.fixture(params=BACKENDS)
def rq_app(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    with rq_app_on(request.param, tmp_path, prefix="ct-test-geo") as app:
        yield app


def test_open311_post_is_located_by_the_rq_worker(rq_app) -> None:  # type: ignore[no-untyped-def]
    _, key = create_api_key(db.session, "geo test")
    db.session.commit()
    response = rq_app.test_client().post(
        "/open311/v2/requests.json",
        data={"api_key": key, "service_code": "pothole", "address_string": "240 Hampshire St"},
    )
    assert response.status_code == 200, response.data
    ticket_id = int(response.get_json()[0]["service_request_id"])
    queue = get_queue(rq_app)
    assert queue.rq_queue().count == 1  # queued, not run: the ticket is still pending
    db.session.expire_all()
    assert db.session.get(Ticket, ticket_id).geocode_status == "pending"
    work_burst(rq_app)
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket_id)
    assert ticket.geocode_status == "ok" and ticket.street == "Hampshire St"
    assert (
        db.session.scalar(select(func.count()).select_from(TicketEvent).where(TicketEvent.kind == "location"))
        == 1
    )
