"""A crew's home base: typed as an address (the offline geocoder places it) or clicked on the map."""

from __future__ import annotations

import html

from console_helpers import logged_in
from sqlalchemy import func, select

from civictracker.models import AdminEvent, Crew

# Where the Cambridge pack's offline geocoder puts the corner (flask civictracker geocode "Hampshire St & Windsor St").
HAMPSHIRE_WINDSOR = (42.368765, -71.0947901)


def _crew(db, name: str) -> Crew | None:  # type: ignore[no-untyped-def]
    return db.scalar(select(Crew).where(Crew.name == name))


def test_typed_intersection_is_geocoded_to_the_home_base(client, db) -> None:  # type: ignore[no-untyped-def]
    logged_in(client, db, "admin")
    r = client.post(
        "/console/admin/crews",
        data={"name": "Yard East", "address": "Hampshire St and Windsor St", "available": "y", "active": "y"},
    )
    assert r.status_code == 302, r.data
    crew = _crew(db, "Yard East")
    assert crew is not None and crew.lat is not None and crew.lon is not None
    assert abs(crew.lat - HAMPSHIRE_WINDSOR[0]) < 0.001 and abs(crew.lon - HAMPSHIRE_WINDSOR[1]) < 0.001
    assert "Hampshire" in crew.base_address and "Windsor" in crew.base_address
    event = db.scalar(select(AdminEvent).where(AdminEvent.target_kind == "crew"))
    assert event.data["base_address"] == crew.base_address and event.data["lat"] == crew.lat
    assert html.escape(crew.base_address) in client.get("/console/admin/crews").data.decode()
    bases = client.get("/console/map.json?bbox=-71.2,42.3,-71.0,42.45").get_json()["crews"]
    assert bases == [
        {
            "id": crew.id,
            "name": "Yard East",
            "lat": crew.lat,
            "lon": crew.lon,
            "available": True,
            "base": crew.base_address,
        }
    ]


def test_a_click_sets_the_point_and_drops_an_address_that_no_longer_names_it(client, db) -> None:  # type: ignore[no-untyped-def]
    logged_in(client, db, "admin")
    client.post(
        "/console/admin/crews", data={"name": "Yard", "address": "Hampshire St and Windsor St", "active": "y"}
    )
    crew = _crew(db, "Yard")
    r = client.post(
        f"/console/admin/crews/{crew.id}",
        data={
            "name": "Yard",
            "address": crew.base_address,
            "lat": "42.3800",
            "lon": "-71.1100",
            "active": "y",
        },
    )
    assert r.status_code == 302
    db.expire_all()
    assert (crew.lat, crew.lon, crew.base_address) == (42.38, -71.11, "")


def test_an_address_the_city_does_not_know_is_a_400_and_changes_nothing(client, db) -> None:  # type: ignore[no-untyped-def]
    logged_in(client, db, "admin")
    r = client.post(
        "/console/admin/crews", data={"name": "Nowhere", "address": "Rue de Rivoli and Rue du Louvre"}
    )
    assert r.status_code == 400 and b"Could not place" in r.data
    assert _crew(db, "Nowhere") is None
    assert not db.scalar(select(func.count()).select_from(AdminEvent).where(AdminEvent.target_kind == "crew"))
    found = client.get("/console/admin/geocode?q=Hampshire St and Windsor St").get_json()
    assert abs(found["lat"] - HAMPSHIRE_WINDSOR[0]) < 0.001
    bad = client.get("/console/admin/geocode?q=")
    assert bad.status_code == 400 and "Type an address" in bad.get_json()["error"]
