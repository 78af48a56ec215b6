"""The lock names of a post (intake/locks.py): what two pages must not decide about at the same time."""

from __future__ import annotations

from civictracker.geo.types import GeocodeResult
from civictracker.intake.analysis import Analysis
from civictracker.intake.locks import (
    ServiceRule,
    cells,
    conflict,
    page_lock_names,
    post_lock_names,
    split_ready,
    within,
)
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
    return sorted(page_lock_names(posts, analyses, SERVICES))


def _locks(post: InboundPost, analysis: Analysis, asked: tuple[str, ...] = ()) -> dict[str, bool]:
    return post_lock_names(post, analysis, SERVICES, asked)


def test_a_report_locks_its_author_thread_and_the_cells_around_it() -> None:
    names = _names([_post(1)], {1: _analysis(42.3717, -71.1033)})
    assert "author:x:a" in names and "thread:x:e1" in names
    near = [n for n in names if n.startswith("near:")]
    assert 1 <= len(near) <= 9 and all(n.startswith("near:pothole:") for n in near)
    assert not [n for n in names if n.startswith("street:")]  # potholes merge by distance, not by street


def test_a_report_writes_its_own_cell_and_reads_the_others_of_its_circle() -> None:
    """Exclusive: the author, the thread and the cell its place is in (a ticket may be opened there);
    shared: the other cells its dedupe circle's box touches (it only looks for a ticket there)."""
    lat, lon = 42.37199, -71.10499
    locks = _locks(_post(1), _analysis(lat, lon))
    own = "near:pothole:{}:{}".format(*cells(lat, lon, 0)[0])
    assert {n for n, exclusive in locks.items() if exclusive} == {"author:x:a", "thread:x:e1", own}
    circle = {"near:pothole:{}:{}".format(*cell) for cell in cells(lat, lon, 150)}
    assert {n for n, exclusive in locks.items() if not exclusive} == circle - {own} and len(circle) > 1


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
        assert names == {"author:x:a": True, "thread:x:e1": True}, analysis


def test_a_placed_dm_locks_its_own_service_and_those_its_author_was_asked_about() -> None:
    """A DM answers our latest question to its author by DM, if any: the services asked about, besides
    its own as a report, not every service of the city."""
    dm = _post(1, dm=True)
    report = _locks(dm, _analysis(42.3717, -71.1033, "streetlight"))
    assert {n.split(":")[1] for n in report if n.startswith(("near:", "street:"))} == {"streetlight"}
    asked = _locks(dm, _analysis(42.3717, -71.1033, "streetlight"), asked=("snow_ice",))
    assert {n.split(":")[1] for n in asked if n.startswith("near:")} == {"streetlight", "snow_ice"}
    assert "street:snow_ice:Hampshire St" in asked and "street:streetlight:Hampshire St" not in asked
    chatter = _locks(dm, _analysis(42.3717, -71.1033, request=False))
    assert chatter == {"author:x:a": True, "thread:x:e1": True}  # asked nothing: it places nothing


def test_a_deferred_post_holds_back_the_later_posts_that_share_a_lock() -> None:
    names = {
        1: {"author:a": True, "near:1": True},
        2: {"author:b": True, "near:2": True},
        3: {"author:a": True},
        4: {"author:c": True},
    }
    assert split_ready([1, 2, 3, 4], names, busy={"near:1"}) == ([2, 4], [1, 3])
    assert split_ready([1, 2, 3, 4], names, busy=set()) == ([1, 2, 3, 4], [])


def test_a_deferred_post_holds_back_no_later_post_that_only_reads_the_same_cell() -> None:
    names = {
        1: {"author:a": True, "near:1": True, "near:2": False},
        2: {"author:b": True, "near:3": True, "near:2": False},  # reads a cell 1 reads too: goes on
        3: {"author:c": True, "near:2": True},  # writes a cell 1 reads: waits behind it
    }
    assert split_ready([1, 2, 3], names, busy={"near:1"}) == ([2], [1, 3])


def test_locks_conflict_unless_both_only_read() -> None:
    assert conflict({"near:1": False}, {"near:1": True}) and conflict({"near:1": True}, {"near:1": True})
    assert not conflict({"near:1": False}, {"near:1": False}) and not conflict({"near:1": True}, {})


def test_two_reports_of_one_problem_conflict_and_far_ones_do_not() -> None:
    here = _locks(_post(1, author="a"), _analysis(42.37170, -71.10330))
    next_door = _locks(_post(2, author="b"), _analysis(42.37175, -71.10340))
    across_town = _locks(_post(3, author="c"), _analysis(42.3900, -71.1400, street="Concord Ave"))
    other_service = _locks(_post(4, author="d"), _analysis(42.37170, -71.10330, "streetlight"))
    assert conflict(here, next_door)
    assert not conflict(here, across_town) and not conflict(here, other_service)


def test_reports_within_the_radius_always_conflict_and_fewer_farther_ones_do() -> None:
    """Wherever two reports fall in their cells: 140 m apart (either could merge into the other's ticket)
    they exclude each other. Farther apart, they conflict only where one's circle reaches the cell the
    other writes, not wherever their circles touch a common cell, as when every cell was exclusive."""
    sharing = conflicting = 0
    for i in range(40):
        lat, lon = 42.3700 + i * 0.00037, -71.1100 + i * 0.00041  # every offset within a cell
        here = _locks(_post(1, author="a"), _analysis(lat, lon))
        for dlat, dlon in [(0.00126, 0), (-0.00126, 0), (0, 0.0017), (0, -0.0017), (0.0009, 0.0012)]:
            near = _locks(_post(2, author="b"), _analysis(lat + dlat, lon + dlon))
            assert conflict(here, near), (lat, lon, dlat, dlon)
        for dlat, dlon in [(0.0029, 0), (0, -0.0039), (0.0022, 0.0030)]:  # 320-370 m away
            far = _locks(_post(3, author="c"), _analysis(lat + dlat, lon + dlon))
            sharing += bool(set(here) & set(far))
            conflicting += conflict(here, far)
    assert conflicting < sharing / 2, (conflicting, sharing)


def test_a_reply_shares_its_thread_with_the_post_it_answers_and_may_place_any_service() -> None:
    report = set(_names([_post(1)], {}))
    reply_names = _names([_post(2, author="z", reply_to="e1")], {2: _analysis(42.3717, -71.1033)})
    assert "thread:x:e1" in report & set(reply_names)
    assert {n.split(":")[1] for n in reply_names if n.startswith("near:")} == set(SERVICES)


def test_the_cells_cover_the_whole_dedupe_circle() -> None:
    for lat, lon in [(42.37199, -71.10499), (42.3740, -71.1050), (42.3, -71.0)]:
        found = cells(lat, lon, 150)
        assert 1 <= len(found) <= 9
        # a report 149 m away in any direction falls in one of these cells
        for dlat, dlon in [(0.00134, 0), (-0.00134, 0), (0, 0.0018), (0, -0.0018)]:
            assert cells(lat + dlat, lon + dlon, 0)[0] in found


def test_a_round_takes_posts_in_order_up_to_its_lock_budget() -> None:
    names = {1: {"a": True, "b": False}, 2: {"b": False, "c": True}, 3: {"d": True}, 4: {"a": True}}
    assert within([1, 2, 3, 4], names, 3) == ([1, 2], [3, 4])  # 4 would fit, but keeps its order
    assert within([1, 2, 3, 4], names, 10) == ([1, 2, 3, 4], [])
    assert within([1, 2], names, 1) == ([1], [2])  # one post at least, whatever it needs
