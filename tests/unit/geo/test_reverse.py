"""A geotag is named as a resident would name the spot: the corner, else the street; never "geotag"."""

from __future__ import annotations

from civictracker.geo.gazetteer import Gazetteer
from civictracker.geo.geocode import geocode_text
from civictracker.geo.reverse import place_name


def test_a_geotag_is_named_by_its_corner_or_street(gz: Gazetteer) -> None:
    # by Massachusetts Ave and Magazine St (Central Square), and mid-block on Ellery St
    corner = geocode_text(gz, "pothole right here", geotag=(42.3656, -71.1040))
    assert corner.kind == "geotag" and corner.matched == "Massachusetts Ave & Magazine St"
    assert place_name(gz, 42.3736, -71.1097) == "Ellery St"
    # a geotag on a street the post names keeps that street first
    on_street = geocode_text(gz, "pothole on Magazine St", geotag=(42.3656, -71.1040))
    assert on_street.matched is not None and on_street.matched.startswith("Magazine St")
    assert "geotag" not in (on_street.matched or "")
    assert place_name(gz, 42.0, -70.0) is None  # far from every street: no name is made up
