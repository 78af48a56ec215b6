"""Tickets with no place: listed apart in the queue ("Needs a place"), counted (never drawn) on the map."""

from __future__ import annotations

import re

from console_helpers import logged_in

from civictracker.models import TicketStatus
from tests import factories

CAMBRIDGE = "-71.2,42.3,-71.0,42.45"


def _table(page: str) -> str:
    return re.search(r'<table class="queue">.*?</table>', page, re.S).group(0)  # type: ignore[union-attr]


def test_queue_lists_tickets_without_a_place_apart(client, db) -> None:  # type: ignore[no-untyped-def]
    placed = factories.ticket(db)
    unplaced = factories.ticket(
        db, lat=None, lon=None, status=TicketStatus.NEEDS_LOCATION, summary="somewhere"
    )
    db.commit()
    logged_in(client, db)
    page = client.get("/console/queue").data.decode()
    section = re.search(r'<section class="box needs-place".*?</section>', page, re.S).group(0)  # type: ignore[union-attr]
    assert "Needs a place (1)" in section and unplaced.ref in section and placed.ref not in section
    assert placed.ref in _table(page) and unplaced.ref not in _table(page)
    only = client.get("/console/queue?place=none").data.decode()
    assert unplaced.ref in _table(only) and placed.ref not in _table(only)
    r = client.get("/console/queue?place=somewhere")
    assert r.status_code == 400 and b"place" in r.data


def test_map_says_how_many_it_shows_and_why_the_rest_are_missing(client, db) -> None:  # type: ignore[no-untyped-def]
    for _ in range(3):
        factories.ticket(db)
    factories.ticket(db, lat=42.2, lon=-70.5)  # located, outside the view asked for
    for _ in range(2):
        factories.ticket(db, lat=None, lon=None, status=TicketStatus.NEEDS_LOCATION)
    closed = factories.ticket(db)
    closed.status = TicketStatus.CLOSED.value
    db.commit()
    logged_in(client, db)
    data = client.get(f"/console/map.json?bbox={CAMBRIDGE}").get_json()
    assert len(data["tickets"]) == 3
    assert data["counts"] == {"open": 6, "shown": 3, "no_location": 2, "outside_view": 1, "beyond_limit": 0}
    assert all(t["lat"] is not None for t in data["tickets"])
    page = client.get("/console/map").data.decode()
    assert "Not shown: " in page and "with no place yet" in page and "beyond the limit" in page


def test_map_counts_tickets_beyond_its_limit(client, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from civictracker.web.console import queue

    monkeypatch.setattr(queue, "MAP_LIMIT", 2)
    for _ in range(3):
        factories.ticket(db)
    db.commit()
    logged_in(client, db)
    data = client.get(f"/console/map.json?bbox={CAMBRIDGE}").get_json()
    assert data["truncated"] is True and len(data["tickets"]) == 2
    assert data["counts"] == {"open": 3, "shown": 2, "no_location": 0, "outside_view": 0, "beyond_limit": 1}
