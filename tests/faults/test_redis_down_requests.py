"""Redis down at an Open311 POST: the ticket is stored, the answer is 200, a retry creates nothing new,
and the periodic locate job finds the ticket the request could not enqueue."""

from __future__ import annotations

from typing import Any

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import func, select

from civictracker.jobs.locate import locate_pending_tickets
from civictracker.models import GeocodeStatus, Ticket
from civictracker.queue import get_queue
from civictracker.services.users import create_api_key
from civictracker.web.open311.views import GEOCODER_EXTENSION
from tests.web.open311.conftest import BASE


def _redis_down(*_a: Any, **_k: Any) -> None:
    raise RedisConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def test_open311_post_with_redis_down_answers_the_ticket_once(  # type: ignore[no-untyped-def]
    app, client, db, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, api_key = create_api_key(db, "test client")
    db.commit()
    monkeypatch.setattr(get_queue(app), "enqueue", _redis_down)
    # the request does not locate it itself (the city's quick geocoder off): the job must
    monkeypatch.setitem(app.extensions, GEOCODER_EXTENSION, None)
    data = {
        "api_key": api_key,
        "service_code": "pothole",
        "address_string": "150 Hampshire St, Cambridge, MA",
        "source_id": "app-7f3a-1",
    }
    first = client.post(f"{BASE}/requests.json", data=data)
    assert first.status_code == 200, first.get_data(as_text=True)
    again = client.post(f"{BASE}/requests.json", data=data)  # the client's retry
    assert again.status_code == 200
    assert again.get_json()[0]["service_request_id"] == first.get_json()[0]["service_request_id"]
    assert db.scalar(select(func.count()).select_from(Ticket)) == 1
    ticket = db.scalar(select(Ticket))
    assert ticket.lat is None and ticket.geocode_status == GeocodeStatus.PENDING
    monkeypatch.undo()  # Redis is back; the scheduler's locate-pending job finds the ticket
    assert locate_pending_tickets() == 1
    db.expire_all()
    assert db.scalar(select(Ticket)).geocode_status == GeocodeStatus.OK
