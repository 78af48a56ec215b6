"""The viewport endpoint: bounded GeoJSON, clusters vs points by zoom, filters, and bbox validation."""

from __future__ import annotations

import datetime as dt

import pytest

from civictracker.models import TicketStatus
from civictracker.services import public_map
from civictracker.services.tickets import change_status
from tests import factories

CITY = "-71.1605,42.3525,-71.064,42.4045"
STREET = "-71.1000,42.3695,-71.0950,42.3720"  # a few blocks around Hampshire & Windsor


def _get(client, query: str):  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/map.geojson?{query}")
    return resp, resp.get_json()


def test_street_zoom_returns_individual_public_tickets(client, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, address="1 Hampshire St")
    factories.ticket(db, "trash", lat=42.3708, lon=-71.0970, address="5 Windsor St")
    hidden = factories.ticket(db, lat=42.3709, lon=-71.0972)
    change_status(db, hidden, TicketStatus.HIDDEN, replies=factories.replies())
    factories.ticket(db, status=TicketStatus.NEEDS_LOCATION, lat=None, lon=None)
    factories.ticket(db, status=TicketStatus.NEW, lat=42.3706, lon=-71.0974, public_note="")
    db.commit()
    resp, data = _get(client, f"bbox={STREET}&zoom=18")
    assert resp.status_code == 200
    assert resp.mimetype == "application/geo+json"
    assert "max-age" in resp.headers["Cache-Control"]
    assert data["type"] == "FeatureCollection" and data["mode"] == "points"
    ids = {f["properties"]["id"] for f in data["features"]}
    assert len(ids) == 2 and t.id in ids and hidden.id not in ids
    props = next(f["properties"] for f in data["features"] if f["properties"]["id"] == t.id)
    assert props == {
        "id": t.id,
        "service": "pothole",
        "status": "open",
        "title": "Pothole · 1 Hampshire St",
        "url": f"/tickets/{t.id}",
    }


def test_city_zoom_clusters_with_count_and_dominant_service(client, db) -> None:  # type: ignore[no-untyped-def]
    for i in range(5):
        factories.ticket(db, "pothole", lat=42.3707 + i * 0.0001, lon=-71.0975)
    for i in range(2):
        factories.ticket(db, "graffiti", lat=42.3707 + i * 0.0001, lon=-71.0976)
    factories.ticket(db, "tree", lat=42.3950, lon=-71.1400, address="Far away Rd")  # alone in its cell
    db.commit()
    resp, data = _get(client, f"bbox={CITY}&zoom=13")
    assert resp.status_code == 200 and data["mode"] == "clusters" and data["total"] == 8
    clusters = [f for f in data["features"] if f["properties"].get("cluster")]
    assert len(clusters) == 1
    assert clusters[0]["properties"] == {"cluster": True, "count": 7, "service": "pothole"}
    lon, lat = clusters[0]["geometry"]["coordinates"]
    assert 42.3707 <= lat <= 42.3712 and -71.0977 <= lon <= -71.0974
    singles = [f for f in data["features"] if not f["properties"].get("cluster")]
    assert [f["properties"]["service"] for f in singles] == ["tree"]


def test_dense_street_view_falls_back_to_clusters(client, db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(public_map, "MAX_POINTS", 3)
    for i in range(6):
        factories.ticket(db, lat=42.3707 + i * 0.00002, lon=-71.0975)
    db.commit()
    _, data = _get(client, f"bbox={STREET}&zoom=18")
    assert data["mode"] == "clusters" and data["total"] == 6
    assert sum(f["properties"].get("count", 1) for f in data["features"]) == 6


def test_filters_service_status_and_age(client, db) -> None:  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    factories.ticket(db, "pothole")
    old = factories.ticket(db, "trash", lat=42.3708, lon=-71.0974, now=now - dt.timedelta(days=100))
    done = factories.ticket(db, "graffiti", lat=42.3706, lon=-71.0976)
    change_status(db, done, TicketStatus.RESOLVED, replies=factories.replies())
    db.commit()

    def services(query: str) -> list[str]:
        _, data = _get(client, f"bbox={STREET}&zoom=18&{query}")
        return sorted(f["properties"]["service"] for f in data["features"])

    assert services("") == ["pothole", "trash"]  # default: open only
    assert services("status=closed") == ["graffiti"]
    assert services("status=all") == ["graffiti", "pothole", "trash"]
    assert services("service=trash") == ["trash"]
    assert services("service=trash,pothole") == ["pothole", "trash"]
    assert services("max_age_days=30") == ["pothole"]
    assert old.id


@pytest.mark.parametrize(
    "query",
    [
        "bbox=1,2,3&zoom=13",
        "bbox=a,b,c,d&zoom=13",
        "bbox=-71.1,42.4,-71.2,42.3&zoom=13",  # min > max
        "bbox=nan,42.3,-71.0,42.4&zoom=13",
        "bbox=-71.2,-95,-71.0,42.4&zoom=13",
        f"bbox={CITY}&zoom=99",
        f"bbox={CITY}&zoom=inf",
        f"bbox={CITY}&zoom=13&status=everything",
        f"bbox={CITY}&zoom=13&max_age_days=-3",
        f"bbox={CITY}&zoom=13&service=<script>alert(1)</script>",
        f"bbox={CITY}&zoom=13&service=' OR 1=1 --",
    ],
)
def test_bad_parameters_get_400_json(client, query: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get(f"/api/map.geojson?{query}")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body["code"] == 400 and body["description"]
    assert "<script>" not in resp.get_data(as_text=True)


def test_globe_bbox_is_clipped_to_the_city_and_says_so(client, db) -> None:  # type: ignore[no-untyped-def]
    factories.ticket(db)
    db.commit()
    resp, data = _get(client, "bbox=-180,-85,180,85&zoom=2")
    assert resp.status_code == 200
    assert "clipped" in data["notice"]
    min_lon, min_lat, max_lon, max_lat = data["bbox"]
    assert -71.2 < min_lon < max_lon < -71.0 and 42.3 < min_lat < max_lat < 42.45
    assert data["total"] == 1
    _, outside = _get(client, "bbox=2.2,48.8,2.4,48.9&zoom=13")  # Paris
    assert outside["features"] == [] and "outside the city" in outside["notice"]


def test_feature_count_is_bounded_at_absurd_zoom(client, db) -> None:  # type: ignore[no-untyped-def]
    for i in range(30):
        factories.ticket(db, lat=42.36 + i * 0.001, lon=-71.15 + i * 0.002)
    db.commit()
    _, data = _get(client, f"bbox={CITY}&zoom=22")
    assert data["total"] == 30 and len(data["features"]) <= public_map.MAX_FEATURES
