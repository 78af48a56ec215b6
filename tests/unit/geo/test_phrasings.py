"""Address phrasings, bare-name intersections, the city boundary and the address fallbacks (Cambridge pack)."""

from __future__ import annotations

from pathlib import Path

import pytest

from civictracker.geo import Gazetteer, GazetteerSpec, build_gazetteer, geocode_text
from civictracker.geo.geocode import distance_m
from civictracker.geo.importers import read_addresses_csv
from civictracker.geo.types import SegmentRecord


def _in_range(gz: Gazetteer, segment_id: str | None, number: int) -> bool:
    assert segment_id is not None
    seg = gz.segments[gz.seg_by_id[segment_id]]
    return any(
        a is not None and b is not None and min(a, b) <= number <= max(a, b)
        for a, b in ((seg.l_from, seg.l_to), (seg.r_from, seg.r_to))
    )


@pytest.mark.parametrize(
    ("text", "street", "number"),
    [
        ("Hampshire St 150", "Hampshire St", 150),
        ("Hampshire Street 150, Cambridge", "Hampshire St", 150),
        ("150 Hampshire, Cambridge MA 02139", "Hampshire St", 150),
        ("#12 Inman St", "Inman St", 12),
        ("No. 150 Hampshire St", "Hampshire St", 150),
        ("150 Hampshire St Apt 3", "Hampshire St", 150),
        ("150 Hampshire St, Apt. 3B", "Hampshire St", 150),
        ("Unit 2R, 150 Hampshire St", "Hampshire St", 150),
        ("150 Hampshire St #3", "Hampshire St", 150),
        ("rear of 150 Hampshire", "Hampshire St", 150),
        ("150 rear Hampshire", "Hampshire St", 150),
        ("Inman St 12 apt 3", "Inman St", 12),
        ("12-14 Elm St", "Elm St", 14),  # 12 is in no range; the span places it
    ],
)
def test_address_phrasings(gz: Gazetteer, text: str, street: str, number: int) -> None:
    res = geocode_text(gz, text)
    assert res.kind == "address" and res.precision == "interpolated" and res.street == street, res
    assert _in_range(gz, res.segment_id, number)


@pytest.mark.parametrize(
    "text",
    [
        "Mass Ave 2 hours of waiting",
        "took the 1 bus on Mass Ave",
        "Cambridge St 02139",
        "Main St 3 cars blocked",
    ],
)
def test_number_after_street_is_not_a_quantity_or_zip(gz: Gazetteer, text: str) -> None:
    assert geocode_text(gz, text).kind != "address"


def test_number_between_two_streets_belongs_to_the_second(gz: Gazetteer) -> None:
    res = geocode_text(gz, "Hampshire St 150 Cambridge St")
    assert res.street == "Cambridge St" and _in_range(gz, res.segment_id, 150)


def test_address_not_in_any_range_says_why(gz: Gazetteer) -> None:
    res = geocode_text(gz, "12-14 Hampshire")  # no 12 or 14 on Hampshire St in the official list
    assert not res.found and "outside every address range" in (res.reason or "")


def test_official_address_far_outside_ranges_is_street_level(gz: Gazetteer) -> None:
    # 254 Blanchard Rd is in the master address list, 155 numbers past the last centerline range.
    res = geocode_text(gz, "254 Blanchard Rd")
    assert res.precision == "street" and res.street == "Blanchard Rd" and res.confidence < 0.5
    assert "official address" in (res.reason or "")


# Official nodes (intersections.csv), lon/lat.
CLIFTON_JACKSON_GRAHAM = (-71.1355711, 42.3913821)  # "Clifton Pl & Jackson Pl & Graham Pl"
NORFOLK_NORFOLK_SUFFOLK = (-71.1004315, 42.3664601)  # "Norfolk St & Norfolk Ter & Suffolk St"


@pytest.mark.parametrize(
    ("text", "pt"),
    [
        ("Clifton & Jackson & Graham", CLIFTON_JACKSON_GRAHAM),
        ("Norfolk & Norfolk & Suffolk", NORFOLK_NORFOLK_SUFFOLK),
    ],
)
def test_bare_names_pick_the_variants_that_meet(gz: Gazetteer, text: str, pt: tuple[float, float]) -> None:
    res = geocode_text(gz, text)
    assert res.precision == "intersection" and distance_m((res.lon, res.lat), pt) < 30  # type: ignore[arg-type]


def test_bridge_named_without_bridge_only_where_it_meets(gz: Gazetteer) -> None:
    res = geocode_text(gz, "Harvard & Massachusetts & Memorial")
    assert res.matched == "Harvard Bridge & Massachusetts Ave & Memorial Dr"
    assert geocode_text(gz, "pothole on harvard st").street == "Harvard St"
    assert "Harvard Bridge" not in (geocode_text(gz, "Mass Ave is a mess").reason or "")
    assert geocode_text(gz, "waiting for weeks and weeks").kind != "intersection"


def test_boundary_is_a_polygon_not_the_bbox(gz: Gazetteer) -> None:
    assert gz.boundary_rings and gz.boundary_source == "file:boundary.geojson"
    # Just north of the Cambridge/Somerville line near Inman Square (the line runs along ~42.3744 here):
    # inside the bbox and within 400 m of Cambridge streets, but in Somerville.
    assert not gz.contains(42.3760, -71.0990)
    assert gz.contains(42.3735, -71.0990)  # just south of the line, Cambridge
    assert gz.contains(42.3745, -71.1167)  # Harvard Yard, far from any street centerline end
    assert not gz.contains(42.3795, -71.0950)  # Union Square, Somerville
    res = geocode_text(gz, "pothole here", geotag=(42.3760, -71.0990))
    assert not res.found and "outside the city" in (res.reason or "")
    # A GPS fix 20 m over the line (a resident on the edge street; GPS is often that far off) is still
    # Cambridge's; 60 m over it is not (tolerance 40 m).
    assert gz.contains(42.37460, -71.0990)
    assert not gz.contains(42.37496, -71.0990)


def test_boundary_file_is_used_when_given() -> None:
    segs = [
        SegmentRecord("a", "Main St", [(-71.100, 42.370), (-71.090, 42.370)]),
        SegmentRecord("b", "Elm St", [(-71.095, 42.365), (-71.095, 42.375)]),
    ]
    ring = [(-71.1, 42.366), (-71.09, 42.366), (-71.09, 42.371), (-71.1, 42.371), (-71.1, 42.366)]
    gz = build_gazetteer(segs, spec=GazetteerSpec(boundary=[ring], boundary_name="city.geojson"))
    assert gz.boundary_source == "file:city.geojson"
    assert gz.contains(42.3701, -71.0951)
    assert not gz.contains(42.3740, -71.0951)  # on Elm St, but outside the official line
    assert build_gazetteer(segs).contains(42.3740, -71.0951)  # the streets' hull keeps it


def test_official_points_layout_gives_rooftop(tmp_path: Path) -> None:
    path = tmp_path / "points.csv"
    path.write_text(
        "address_id,StNm,StName,Full_Addr,lon,lat\n"
        "1,11-A,Main St,11-A Main St,-71.0951,42.3702\n"
        "2,20,Main St,20 Main St,,\n",
        encoding="utf-8",
    )
    recs = read_addresses_csv(path)
    assert (recs[0].number, recs[0].suffix, recs[0].lon, recs[0].lat) == (11, "A", -71.0951, 42.3702)
    assert recs[1].lon is None
    segs = [SegmentRecord("a", "Main St", [(-71.100, 42.370), (-71.090, 42.370)], 1, 99, 2, 100)]
    gz = build_gazetteer(segs, recs)
    res = geocode_text(gz, "11A Main St")
    assert res.precision == "rooftop" and (res.lon, res.lat) == (-71.0951, 42.3702)
    assert geocode_text(gz, "20 Main St").precision == "interpolated"


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("Pothole at 1 Kendall Sq", "Kendall Square"),  # not 1 Kendall St, which has no such number
        ("trash everywhere at 5 Inman Sq", "Inman Square"),  # not 5 Inman St, 600 m away near Central
        ("12 Harvard Square needs plowing", "Harvard Square"),
        ("Illegal dumping 1 Brattle Sq", "Brattle Square"),  # not 1 Brattle Cir, 2 km west
    ],
)
def test_a_number_before_a_square_is_the_squares(gz: Gazetteer, text: str, place: str) -> None:
    res = geocode_text(gz, text)
    assert res.precision == "place" and res.matched == place


def test_a_park_a_number_past_the_ranges_is_still_a_place(gz: Gazetteer) -> None:
    # Donnelly Field's official address, 45 Berkshire St, is one number past the last centerline range.
    res = geocode_text(gz, "Broken bench at Donnelly Field")
    assert res.precision == "place" and res.matched == "Donnelly Field"
    assert res.street == "Berkshire St"


def test_a_square_that_is_also_a_street_keeps_its_house_numbers(gz: Gazetteer) -> None:
    res = geocode_text(gz, "Loud music at 1 Central Sq")
    assert res.kind == "address" and res.street == "Central Sq"
