"""Helpers for the Open311 tests: API keys, a service with attributes, bulk tickets, XML parsing."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from civictracker.geo import spatial
from civictracker.models import Service, Ticket
from civictracker.models.types import utcnow
from civictracker.services.users import create_api_key
from tests import factories

BASE = "/open311/v2"
W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(Z|[+-]\d{2}:\d{2})$")

POTHOLE_ATTRIBUTES: list[dict[str, Any]] = [
    {
        "code": "depth",
        "datatype": "singlevaluelist",
        "required": True,
        "order": 1,
        "description": "How deep is it?",
        "values": [{"key": "shallow", "name": "Shallow"}, {"key": "deep", "name": "Deeper than a hand"}],
    },
    {
        "code": "hazards",
        "datatype": "multivaluelist",
        "required": False,
        "order": 2,
        "description": "What is nearby?",
        "values": [{"key": "bike", "name": "Bike lane"}, {"key": "crosswalk", "name": "Crosswalk"}],
    },
    {"code": "note", "datatype": "string", "required": False, "order": 3, "description": "Anything else"},
]


def get(client: Any, path: str, **params: Any) -> Any:
    return client.get(BASE + path, query_string=params)


def xml_root(response: Any) -> ET.Element:
    assert response.data.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(response.data)


@pytest.fixture()
def api_key(db: Session) -> str:
    _, key = create_api_key(db, "test client")
    db.commit()
    return key


@pytest.fixture()
def pothole_with_attributes(db: Session) -> Iterator[Service]:
    """The pothole service with a definition; the catalog outlives a test, so it is restored afterwards."""
    service = factories.service(db, "pothole")
    service.attributes = POTHOLE_ATTRIBUTES
    db.commit()
    yield service
    db.rollback()
    service = factories.service(db, "pothole")
    service.attributes = []
    db.commit()


def bulk_tickets(
    db: Session, n: int, *, code: str = "pothole", status: str = "open", start: dt.datetime | None = None
) -> None:
    """n tickets in one INSERT, one second apart going back from `start` (no events: fast)."""
    service_id = db.scalar(select(Service.id).where(Service.code == code))
    start = start or utcnow() - dt.timedelta(hours=1)
    lat, lon = factories.HAMPSHIRE_WINDSOR
    rows = []
    for i in range(n):
        at = start - dt.timedelta(seconds=i)
        rows.append(
            {
                "service_id": service_id,
                "status": status,
                "lat": lat,
                "lon": lon,
                "public_lat": lat,
                "public_lon": lon,
                "location": spatial.point(lat, lon),
                "public_location": spatial.point(lat, lon),
                "summary": f"bulk {i}",
                "created_at": at,
                "updated_at": at,
                "source_channel": "web",
                "geocode_status": "ok",
                "report_count": 1,
            }
        )
    db.execute(insert(Ticket), rows)
    db.commit()
