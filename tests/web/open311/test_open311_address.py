"""POST with address_string or address_id: the geocode_ticket job places it on the right street, or says why not."""

from __future__ import annotations

import math

from sqlalchemy import select

from civictracker.models import Ticket, TicketEvent
from tests.web.open311.conftest import BASE, get

# 240 Hampshire St interpolated along its official centerline address range (cambridgegis street_centerlines).
HAMPSHIRE_240 = (42.373814, -71.101365)


def _post(client, data):  # type: ignore[no-untyped-def]
    response = client.post(f"{BASE}/requests.json", data={"service_code": "pothole", **data})
    assert response.status_code == 200, response.data
    return response.get_json()[0]


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    dy = (a[0] - b[0]) * 111_195
    dx = (a[1] - b[1]) * 111_195 * math.cos(math.radians(a[0]))
    return math.hypot(dx, dy)


def test_address_string_ends_located_on_the_right_street(client, db, api_key) -> None:  # type: ignore[no-untyped-def]
    created = _post(client, {"api_key": api_key, "address_string": "240 Hampshire St, Cambridge, MA 02139"})
    assert "being located" in created["service_notice"]  # written before the job ran
    db.expire_all()
    ticket = db.get(Ticket, int(created["service_request_id"]))
    assert ticket.geocode_status == "ok" and ticket.street == "Hampshire St"
    assert ticket.precision == "interpolated" and _metres((ticket.lat, ticket.lon), HAMPSHIRE_240) < 75
    events = db.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "location")
    )
    (event,) = list(events)
    assert not event.is_public and "240 Hampshire St" in event.internal_note
    shown = get(client, f"/requests/{ticket.id}.json").get_json()[0]
    assert shown["address"] == "240 Hampshire St" and abs(shown["lat"] - ticket.lat) < 1e-9


def test_unknown_street_stays_pending_with_a_reason(client, db, api_key) -> None:  # type: ignore[no-untyped-def]
    created = _post(client, {"api_key": api_key, "address_string": "55 Nowhereville Blvd"})
    db.expire_all()
    ticket = db.get(Ticket, int(created["service_request_id"]))
    assert ticket.geocode_status == "pending" and ticket.lat is None and ticket.location is None
    assert "55 Nowhereville Blvd" in ticket.geocode_reason and "dispatcher" in ticket.geocode_reason
    notes = db.scalars(
        select(TicketEvent.internal_note).where(
            TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "location"
        )
    ).all()
    assert notes == [ticket.geocode_reason]
    assert get(client, f"/requests/{ticket.id}.json").get_json()[0]["lat"] is None


def test_address_id_from_the_master_list_is_located(client, db, api_key) -> None:  # type: ignore[no-untyped-def]
    created = _post(client, {"api_key": api_key, "address_id": "14754"})  # 14 Aberdeen Ave
    db.expire_all()
    ticket = db.get(Ticket, int(created["service_request_id"]))
    assert ticket.location_text == "14 Aberdeen Ave"
    assert ticket.geocode_status == "ok" and ticket.street == "Aberdeen Ave" and ticket.lat is not None


def test_a_point_needs_no_job(client, db, api_key) -> None:  # type: ignore[no-untyped-def]
    created = _post(client, {"api_key": api_key, "lat": "42.3707", "long": "-71.0975"})
    assert "being located" not in created["service_notice"]
    db.expire_all()
    ticket = db.get(Ticket, int(created["service_request_id"]))
    assert ticket.geocode_status == "ok"
    assert not db.scalars(select(TicketEvent).where(TicketEvent.kind == "location")).all()
