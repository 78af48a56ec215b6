"""Geocoding of informal text against the Cambridge pack (expected points from the official data)."""

from __future__ import annotations

import pytest

from civictracker.geo import Gazetteer, extract_locations, geocode_text
from civictracker.geo.geocode import distance_m

# Official intersection nodes (intersections.csv), lon/lat.
HAMPSHIRE_WINDSOR = (-71.0947901, 42.3687650)
DANA_HARVARD = (-71.1096227, 42.3708077)
MASS_PROSPECT = (-71.1039911, 42.3655742)
MASS_NORFOLK = (-71.1020832, 42.3644245)


def _off(res: object, pt: tuple[float, float]) -> float:
    assert res.lat is not None and res.lon is not None, res  # type: ignore[attr-defined]
    return distance_m((res.lon, res.lat), pt)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "text",
    [
        "Hampshire St & Windsor St",
        "cor of hampshire & windsor",
        "windsor and hampshire",
        "corner of Windsor Street and Hampshire Street",
        "pothole at hampshre st and windsr st",
    ],
)
def test_intersection_styles(gz: Gazetteer, text: str) -> None:
    res = geocode_text(gz, text)
    assert res.precision == "intersection"
    assert _off(res, HAMPSHIRE_WINDSOR) < 30
    assert res.kind == "intersection" and res.matched and "&" in res.matched


def test_typo_lowers_confidence(gz: Gazetteer) -> None:
    exact = geocode_text(gz, "Hampshire St & Windsor St")
    typo = geocode_text(gz, "hampshre st & windsr st")
    assert exact.confidence >= 0.9
    assert typo.confidence < exact.confidence


def test_address_interpolated_on_right_segment(gz: Gazetteer) -> None:
    res = geocode_text(gz, "mattress dumped outside 150 Hampshire")
    assert res.precision == "interpolated" and res.street == "Hampshire St"
    seg = gz.segments[gz.seg_by_id[res.segment_id]]  # type: ignore[index]
    assert any(
        a is not None and b is not None and min(a, b) <= 150 <= max(a, b)
        for a, b in ((seg.l_from, seg.l_to), (seg.r_from, seg.r_to))
    )
    assert res.matched == "150 Hampshire St" and res.confidence >= 0.8


def test_address_range_and_rear(gz: Gazetteer) -> None:
    assert geocode_text(gz, "12-14 Elm St overflowing").street == "Elm St"
    phrases = extract_locations("78 rear Inman St barrels", gz)
    assert phrases[0].kind == "address" and phrases[0].number == "78"


def test_between_span_gives_midpoint_and_line(gz: Gazetteer) -> None:
    res = geocode_text(gz, "mass ave b/w prospect and norfolk")
    assert res.kind == "between" and res.precision == "segment"
    mid = ((MASS_PROSPECT[0] + MASS_NORFOLK[0]) / 2, (MASS_PROSPECT[1] + MASS_NORFOLK[1]) / 2)
    assert _off(res, mid) < 80
    assert res.line is not None and len(res.line) >= 2


def test_whole_street_has_line(gz: Gazetteer) -> None:
    res = geocode_text(gz, "all of Hampshire St needs repaving")
    assert res.precision == "street" and res.street == "Hampshire St"
    assert res.line is not None and len(res.line) > 10


def test_landmark(gz: Gazetteer) -> None:
    res = geocode_text(gz, "by the central sq T stop")
    assert res.precision == "place" and res.matched == "Central Square"
    assert _off(res, MASS_PROSPECT) < 100


def test_noisy_post(gz: Gazetteer) -> None:
    text = "@CambridgeMA light out at Dana & Harvard 😡 https://t.co/x #cambma #potholes"
    assert _off(geocode_text(gz, text), DANA_HARVARD) < 30


def test_extract_finds_every_phrase(gz: Gazetteer) -> None:
    kinds = [p.kind for p in extract_locations("fixed at Dana & Harvard; now do 150 Hampshire St", gz)]
    assert kinds == ["intersection", "address"]


@pytest.mark.parametrize(
    "text",
    [
        "thanks to the DPW crew!",
        "pothole on Fake Street and Nowhere Ave",
        "9999 Massachusetts Ave flooding",
        "Hampshire St & Garden St",
        "main problem is that nobody cares",
        "",
        "   ",
    ],
)
def test_not_found_gives_reason(gz: Gazetteer, text: str) -> None:
    res = geocode_text(gz, text)
    assert res.lat is None and res.lon is None
    assert res.reason


def test_streets_that_never_meet_say_so(gz: Gazetteer) -> None:
    assert "never meet" in (geocode_text(gz, "Hampshire St & Garden St").reason or "")
    assert "outside every address range" in (geocode_text(gz, "9999 Massachusetts Ave").reason or "")


def test_geotag_only_inside_city(gz: Gazetteer) -> None:
    inside = geocode_text(gz, "dead rat right here", geotag=(42.3763, -71.1157))
    assert inside.kind == "geotag" and inside.lat == pytest.approx(42.3763)
    for tag in [(0.0, 0.0), (40.7128, -74.0060), (91.0, 0.0), (float("nan"), 1.0)]:
        res = geocode_text(gz, "dead rat right here", geotag=tag)
        assert res.lat is None and "geotag ignored" in (res.reason or "")


def test_text_beats_geotag(gz: Gazetteer) -> None:
    res = geocode_text(gz, "Hampshire St & Windsor St", geotag=(42.3763, -71.1157))
    assert res.kind == "intersection"


def test_bad_input_never_crashes(gz: Gazetteer) -> None:
    long = ("pothole " * 1500) + "at Dana St & Harvard St"
    assert len(long) > 10_000
    geocode_text(gz, long)  # truncated, but must not crash or hang
    assert geocode_text(gz, "Dana \udcff St & Harvard St").found or True
    assert geocode_text(gz, None).reason  # type: ignore[arg-type]
    assert geocode_text(gz, "x" * 10_000).lat is None


def test_to_dict_contract(gz: Gazetteer) -> None:
    d = geocode_text(gz, "150 Hampshire St").to_dict()
    assert list(d)[:6] == ["lat", "lon", "precision", "confidence", "matched", "reason"]
    assert 0.0 <= d["confidence"] <= 1.0


def test_ambiguous_pair_is_not_high_confidence(gz: Gazetteer) -> None:
    res = geocode_text(gz, "Brattle St & Mt Auburn St")  # they meet at two places
    assert res.found and res.confidence <= 0.6 and res.reason
