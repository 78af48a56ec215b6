"""The lock names of a post (intake/locks.py): what two pages must not decide about at the same time."""

from __future__ import annotations

from civictracker.geo.types import GeocodeResult
from civictracker.intake.analysis import Analysis
from civictracker.intake.locks import ServiceRule, cells, page_lock_names, post_lock_names, split_ready
from civictracker.models import InboundPost
from civictracker.triage.classify import TriageResult

SERVICES = {
    "pothole": ServiceRule(150),
    "snow_ice": ServiceRule(150, street_wide=True),
    "streetlight": ServiceRule(150),
}


def _post(post_id: int, *, author: str = "a", reply_to: str | None = None, dm: bool = False) -> InboundPost:
    return InboundPost(
        id=post_id,
        channel="x",
        external_id=f"e{post_id}",
        author_id=author,
        in_reply_to_id=reply_to,
        is_dm=dm,
    )


def _analysis(
    lat: float,
    lon: float,
    service: str = "pothole",
    street: str = "Hampshire St",
    *,
    request: bool = True,
    usable: bool = True,
) -> Analysis:
    triage = TriageResult(is_request=request, service_code=service, urgent=False, lang="en", confidence=0.9)
    loc = GeocodeResult(lat=lat, lon=lon, precision="interpolated", street=street)
    return Analysis(triage=triage, location=loc, usable_location=usable)


def _names(posts: list[InboundPost], analyses: dict[int, Analysis]) -> list[str]:
    return page_lock_names(posts, analyses, SERVICES)


def test_a_report_locks_its_author_thread_and_the_cells_around_it() -> None:
    names = _names([_post(1)], {1: _analysis(42.3717, -71.1033)})
    assert "author:x:a" in names and "thread:x:e1" in names
    near = [n for n in names if n.startswith("near:")]
    assert 1 <= len(near) <= 4 and all(n.startswith("near:pothole:") for n in near)
    assert not [n for n in names if n.startswith("street:")]  # potholes merge by distance, not by street
    assert names == sorted(names)


def test_a_street_wide_report_locks_its_street_too() -> None:
    names = _names([_post(1)], {1: _analysis(42.3717, -71.1033, "snow_ice")})
    assert "street:snow_ice:Hampshire St" in names
    assert any(n.startswith("near:snow_ice:") for n in names)


def test_a_post_that_can_open_or_merge_no_placed_ticket_takes_no_place_lock() -> None:
    """Not a request, or no usable place: its author and thread only, so it never waits on a place."""
    for analysis in (
        _analysis(42.3717, -71.1033, request=False),
        _analysis(42.3717, -71.1033, usable=False),
        None,
    ):
        names = post_lock_names(_post(1), analysis, SERVICES)
        assert names == {"author:x:a", "thread:x:e1"}, analysis


def test_a_placed_dm_may_answer_a_question_about_any_service() -> None:
    names = post_lock_names(_post(1, dm=True), _analysis(42.3717, -71.1033, request=False), SERVICES)
    assert {n.split(":")[1] for n in names if n.startswith("near:")} == set(SERVICES)
    assert "street:snow_ice:Hampshire St" in names and "street:pothole:Hampshire St" not in names


def test_a_deferred_post_holds_back_the_later_posts_that_share_a_lock() -> None:
    names = {1: {"author:a", "near:1"}, 2: {"author:b", "near:2"}, 3: {"author:a"}, 4: {"author:c"}}
    assert split_ready([1, 2, 3, 4], names, busy={"near:1"}) == ([2, 4], [1, 3])
    assert split_ready([1, 2, 3, 4], names, busy=set()) == ([1, 2, 3, 4], [])


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
