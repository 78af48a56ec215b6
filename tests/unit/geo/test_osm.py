"""OpenStreetMap import: named highway ways -> segments, shared nodes -> intersections, addr:* -> points."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civictracker.geo import build_gazetteer, geocode_text, load_gazetteer
from civictracker.geo.importers import read_osm

OSM_DIR = Path(__file__).resolve().parents[4] / "shared" / "data" / "osm_samples"

pytestmark = pytest.mark.skipif(not OSM_DIR.exists(), reason="shared OSM samples not present")


def test_west_oakland_streets_intersections_and_addresses() -> None:
    segs, addrs, _places = read_osm(OSM_DIR / "West-Oakland.osm.bz2")
    gz = build_gazetteer(segs, addrs)
    assert {"7th Street", "Wood Street", "Willow Street"} <= set(gz.streets)
    assert gz.intersections_of("7th Street", "Wood Street")
    res = geocode_text(gz, "7th St and Wood St")
    assert res.precision == "intersection" and res.matched == "7th Street & Wood Street"
    res = geocode_text(gz, "1612 7th Street")
    assert res.precision == "rooftop" and res.confidence > 0.9


def test_munich_xml(tmp_path: Path) -> None:
    segs, addrs, _ = read_osm(OSM_DIR / "planet_munich_small.osm")
    gz = build_gazetteer(segs, addrs)
    assert gz.intersections_of("Goethestraße", "Haydnstraße")
    assert geocode_text(gz, "Goethestraße & Haydnstraße").precision == "intersection"
    assert any(a.street == "Goethestraße" for a in addrs)


def test_osm_pack_loads_through_city_json(tmp_path: Path) -> None:
    (tmp_path / "city.json").write_text(
        json.dumps(
            {"slug": "oak", "streets": {"file": str(OSM_DIR / "West-Oakland.osm.bz2"), "format": "osm"}}
        )
    )
    gz = load_gazetteer(tmp_path, tmp_path / "cache")
    assert "Wood Street" in gz.streets
