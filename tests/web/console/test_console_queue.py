"""The queue (order, filters, pagination, bad parameters), bulk assign, and the console map's data."""

from __future__ import annotations

import datetime as dt
import re

from console_helpers import logged_in
from sqlalchemy import func, select

from civictracker.models import Ticket, TicketEvent
from civictracker.models.types import utcnow
from tests import factories


def _refs(html: bytes) -> list[int]:
    return [int(x) for x in re.findall(rb'href="/console/tickets/(\d+)"', html)]


def test_queue_orders_by_urgency_then_sla_due_then_age_and_filters(client, db):
    now = utcnow()
    old = factories.ticket(db, now=now - dt.timedelta(days=5))  # pothole SLA 72 h: overdue
    new = factories.ticket(db, now=now - dt.timedelta(hours=1))
    urgent = factories.ticket(db, urgent=True, now=now - dt.timedelta(minutes=5))
    graffiti = factories.ticket(db, "graffiti", now=now - dt.timedelta(days=1))
    closed = factories.ticket(db)
    closed.status = "closed"
    db.commit()
    logged_in(client, db)
    r = client.get("/console/queue")
    assert r.status_code == 200
    order = _refs(r.data)
    assert order[0] == urgent.id
    assert order.index(old.id) < order.index(new.id)
    assert closed.id not in order
    assert _refs(client.get("/console/queue?service=graffiti").data) == [graffiti.id]
    assert _refs(client.get("/console/queue?urgent=1").data) == [urgent.id]
    assert _refs(client.get("/console/queue?overdue=1").data) == [old.id]
    assert set(_refs(client.get("/console/queue?crew=0").data)) == {old.id, new.id, urgent.id, graffiti.id}


def test_queue_paginates(client, db):
    for _ in range(53):
        factories.ticket(db)
    db.commit()
    logged_in(client, db)
    first = _refs(client.get("/console/queue").data)
    second = _refs(client.get("/console/queue?page=2").data)
    assert len(first) == 50 and len(second) == 3 and not set(first) & set(second)
    assert b"page 2 of 2" in client.get("/console/queue?page=2").data


def test_bad_query_parameters_give_400_and_are_not_reflected(client, db):
    logged_in(client, db)
    for query in [
        "status=open'%20OR%201=1--",
        "service=%3Cscript%3Ealert(1)%3C/script%3E",
        "crew=1;DROP%20TABLE%20tickets",
        "page=abc",
        "page=0",
        "urgent=%3Cscript%3E",
    ]:
        r = client.get(f"/console/queue?{query}")
        assert r.status_code == 400, query
        assert b"<script>" not in r.data
    assert db.scalar(select(func.count()).select_from(Ticket)) == 0


def test_bulk_assign_all_or_nothing(client, db):
    crew = factories.crew(db)
    a, b = factories.ticket(db), factories.ticket(db)
    done = factories.ticket(db)
    done.status = "resolved"
    db.commit()
    user = logged_in(client, db)
    r = client.post("/console/bulk-assign", data={"crew_id": crew.id, "ticket_ids": [a.id, done.id]})
    assert r.status_code == 400 and b"Nothing was assigned" in r.data
    db.expire_all()
    assert a.crew_id is None and a.status == "open"
    r = client.post("/console/bulk-assign", data={"crew_id": crew.id, "ticket_ids": [a.id, b.id]})
    assert r.status_code == 302
    db.expire_all()
    assert (a.status, b.status) == ("assigned", "assigned") and a.crew_id == b.crew_id == crew.id
    actors = db.scalars(select(TicketEvent.actor_user_id).where(TicketEvent.to_status == "assigned")).all()
    assert actors == [user.id, user.id]
    r = client.post("/console/bulk-assign", data={"crew_id": crew.id, "ticket_ids": ["1 OR 1=1"]})
    assert r.status_code == 400


def test_map_data_is_bounded_and_validates_bbox(client, db):
    factories.crew(db)
    t = factories.ticket(db, summary="<b>bold</b>")
    factories.ticket(db, lat=42.0, lon=-70.0)  # outside the box
    db.commit()
    logged_in(client, db)
    r = client.get("/console/map.json?bbox=-71.2,42.3,-71.0,42.45")
    assert r.status_code == 200
    data = r.get_json()
    assert [x["id"] for x in data["tickets"]] == [t.id] and data["truncated"] is False
    assert data["crews"][0]["name"] == "Streets North"
    for bad in ["", "1,2,3", "a,b,c,d", "-71,42,-72,43", "-200,42,-71,43", "nan,1,2,3"]:
        assert client.get(f"/console/map.json?bbox={bad}").status_code == 400, bad
    assert client.get("/console/map.json?bbox=-180,-90,180,90").status_code == 200
    assert client.get("/console/map").status_code == 200
