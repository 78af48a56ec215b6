"""Crew suggestions: skill for the ticket's service first, then distance (in bands), then load."""

from __future__ import annotations

from civictracker.models import TicketStatus
from civictracker.services import dispatch
from civictracker.services import tickets as svc
from tests import factories


def _names(suggestions) -> list[str]:  # type: ignore[no-untyped-def]
    return [s.crew.name for s in suggestions]


def test_a_skilled_crew_beats_a_nearer_one_that_does_not_do_the_job(db) -> None:  # type: ignore[no-untyped-def]
    factories.crew(db, "Water & Sewer", 42.3709, -71.0976, skills=("water_sewer", "flooding"))  # 30 m away
    factories.crew(db, "Streets North", 42.3886, -71.1190, skills=("pothole", "sidewalk"))  # 2.5 km away
    pothole = factories.ticket(db, "pothole")
    ranked = dispatch.suggest_crews(db, pothole)
    assert _names(ranked) == ["Streets North", "Water & Sewer"]
    assert ranked[0].skilled and not ranked[1].skilled and ranked[0].distance_m > 2000
    flood = factories.ticket(db, "flooding")
    assert _names(dispatch.suggest_crews(db, flood)) == ["Water & Sewer", "Streets North"]


def test_load_decides_between_skilled_crews_in_the_same_distance_band(db) -> None:  # type: ignore[no-untyped-def]
    busy = factories.crew(db, "Busy", 42.3709, -71.0976, skills=("pothole",))  # ~30 m
    factories.crew(db, "Idle", 42.3730, -71.0990, skills=("pothole",))  # ~280 m
    factories.crew(db, "Far idle", 42.3886, -71.1190, skills=("pothole",))  # 2.5 km
    for _ in range(2):
        svc.assign_crew(db, factories.ticket(db), busy, replies=factories.replies())
    done = factories.ticket(db)
    svc.assign_crew(db, done, busy, replies=factories.replies())
    svc.change_status(db, done, TicketStatus.RESOLVED, replies=factories.replies())  # no longer load
    ranked = dispatch.suggest_crews(db, factories.ticket(db))
    assert _names(ranked) == ["Idle", "Busy", "Far idle"]
    assert [s.open_tickets for s in ranked] == [0, 2, 0]


def test_no_place_no_suggestion_and_unavailable_crews_are_left_out(db) -> None:  # type: ignore[no-untyped-def]
    off = factories.crew(db, "Off duty", 42.3709, -71.0976, skills=("pothole",))
    off.available = False
    assert dispatch.suggest_crews(db, factories.ticket(db)) == []
    assert dispatch.suggest_crews(db, factories.ticket(db, lat=None, lon=None)) == []
