"""Open311 as real 311 apps use it: requests near a point, cross-origin reads, an address for a posted point."""

from __future__ import annotations

from flask import current_app

from civictracker.geo.reverse import place_name
from civictracker.runtime import runtime_of
from tests import factories
from tests.web.open311.conftest import BASE, get

# About 2 km from Hampshire & Windsor, still in Cambridge (Huron Ave near Fresh Pond Pkwy).
FAR = (42.3806, -71.1392)


def _ids(response):
    assert response.status_code == 200, response.data
    return {r["service_request_id"] for r in response.get_json()}


def test_lat_long_radius_keep_the_requests_near_the_point(client, db):
    near = factories.ticket(db)
    also_near = factories.ticket(db, "graffiti", lat=factories.HAMPSHIRE_WINDSOR[0] + 0.002)  # ~220 m north
    far = factories.ticket(db, lat=FAR[0], lon=FAR[1])
    db.commit()
    lat, lon = factories.HAMPSHIRE_WINDSOR
    assert _ids(get(client, "/requests.json", lat=lat, long=lon, radius=100)) == {str(near.id)}
    assert _ids(get(client, "/requests.json", lat=lat, long=lon)) == {
        str(near.id),
        str(also_near.id),
    }  # 500 m
    assert _ids(get(client, "/requests.json", lat=lat, long=lon, radius=5000)) == {
        str(near.id),
        str(also_near.id),
        str(far.id),
    }
    both = get(client, "/requests.json", lat=lat, long=lon, service_code="graffiti")
    assert _ids(both) == {str(also_near.id)}


def test_bad_geo_filters_are_400_with_a_reason(client, db):
    lat, lon = factories.HAMPSHIRE_WINDSOR
    cases = [
        ({"lat": lat}, "lat and long must be sent together"),
        ({"radius": 100}, "radius needs lat and long"),
        ({"lat": lat, "long": lon, "radius": 0}, "radius must be a whole number from 1 to 20000"),
        ({"lat": lat, "long": lon, "radius": 50000}, "radius must be a whole number from 1 to 20000"),
        ({"lat": 91, "long": lon}, "lat"),
        ({"lat": lat, "long": "east"}, "long"),
    ]
    for params, reason in cases:
        response = get(client, "/requests.json", **params)
        assert response.status_code == 400, params
        assert reason in response.get_json()[0]["description"], (params, response.get_json())


def test_reads_are_open_to_other_origins_and_writes_are_not(client, db, api_key):
    for path in ("/services.json", "/requests.json", "/discovery.json"):
        response = get(client, path)
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "*"
    posted = client.post(f"{BASE}/requests.json", data={"api_key": api_key, "service_code": "nope"})
    assert "Access-Control-Allow-Origin" not in posted.headers


def test_a_posted_point_gets_the_name_of_its_corner(client, db, api_key):
    lat, lon = factories.HAMPSHIRE_WINDSOR
    response = client.post(
        f"{BASE}/requests.json",
        data={"api_key": api_key, "service_code": "pothole", "lat": str(lat), "long": str(lon)},
    )
    assert response.status_code == 200, response.data
    rid = response.get_json()[0]["service_request_id"]
    expected = place_name(runtime_of(current_app).gazetteer(), lat, lon)
    assert expected and "&" in expected  # at a corner
    got = get(client, f"/requests/{rid}.json").get_json()[0]
    assert got["address"] == expected
