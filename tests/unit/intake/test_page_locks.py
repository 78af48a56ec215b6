"""The lock names of a page (intake/locks.py): what two pages must not decide about at the same time."""

from __future__ import annotations

from civictracker.geo.types import GeocodeResult
from civictracker.intake.analysis import Analysis
from civictracker.intake.locks import cells, page_lock_names
from civictracker.models import InboundPost
from civictracker.triage.classify import TriageResult

SERVICES = ["pothole", "snow_ice", "streetlight"]


def _post(post_id: int, *, author: str = "a", reply_to: str | None = None, dm: bool = False) -> InboundPost:
    return InboundPost(
        id=post_id,
        channel="x",
        external_id=f"e{post_id}",
        author_id=author,
        in_reply_to_id=reply_to,
        is_dm=dm,
    )


def _analysis(lat: float, lon: float, service: str = "pothole", street: str = "Hampshire St") -> Analysis:
    triage = TriageResult(is_request=True, service_code=service, urgent=False, lang="en", confidence=0.9)
    loc = GeocodeResult(lat=lat, lon=lon, precision="interpolated", street=street)
    return Analysis(triage=triage, location=loc, usable_location=True)


def _names(posts: list[InboundPost], analyses: dict[int, Analysis]) -> list[str]:
    return page_lock_names(posts, analyses, radius_m=150, service_codes=SERVICES)


def test_a_report_locks_its_author_thread_street_and_the_cells_around_it() -> None:
    names = _names([_post(1)], {1: _analysis(42.3717, -71.1033)})
    assert "author:x:a" in names and "thread:x:e1" in names and "street:pothole:Hampshire St" in names
    near = [n for n in names if n.startswith("near:")]
    assert 1 <= len(near) <= 4 and all(n.startswith("near:pothole:") for n in near)
    assert names == sorted(names)


def test_two_reports_of_one_problem_share_a_lock_and_far_ones_do_not() -> None:
    here = set(_names([_post(1, author="a")], {1: _analysis(42.37170, -71.10330)}))
    next_door = set(_names([_post(2, author="b")], {2: _analysis(42.37175, -71.10340)}))
    across_town = set(_names([_post(3, author="c")], {3: _analysis(42.3900, -71.1400, street="Concord Ave")}))
    other_service = set(_names([_post(4, author="d")], {4: _analysis(42.37170, -71.10330, "streetlight")}))
    assert here & next_door
    assert not here & across_town and not here & other_service


def test_a_reply_shares_its_thread_with_the_post_it_answers_and_may_place_any_service() -> None:
    report = set(_names([_post(1)], {}))
    reply_names = _names([_post(2, author="z", reply_to="e1")], {2: _analysis(42.3717, -71.1033)})
    assert "thread:x:e1" in report & set(reply_names)
    assert {n.split(":")[1] for n in reply_names if n.startswith("near:")} == set(SERVICES)


def test_the_cells_cover_the_whole_dedupe_circle() -> None:
    for lat, lon in [(42.37199, -71.10499), (42.3740, -71.1050), (42.3, -71.0)]:
        found = cells(lat, lon, 150)
        assert 1 <= len(found) <= 4
        # a report 149 m away in any direction falls in one of these cells
        for dlat, dlon in [(0.00134, 0), (-0.00134, 0), (0, 0.0018), (0, -0.0018)]:
            assert cells(lat + dlat, lon + dlon, 0)[0] in found
