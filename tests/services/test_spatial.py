"""Spatial SQL on both backends: distance in metres, radius, bbox and nearest, through the spatial index."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from civictracker.geo import spatial
from civictracker.models import Ticket
from tests import factories

# Two real Cambridge points ~about 1 km apart: Central Sq (Mass Ave & Prospect St) and Hampshire & Windsor.
CENTRAL = (42.3651, -71.1037)
HAMPSHIRE_WINDSOR = factories.HAMPSHIRE_WINDSOR


def test_haversine_matches_known_distance() -> None:
    d = spatial.haversine_m(*CENTRAL, *HAMPSHIRE_WINDSOR)
    assert 700 < d < 950


def test_distance_in_metres_agrees_with_haversine(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, lat=CENTRAL[0], lon=CENTRAL[1])
    expr = spatial.distance_m(db, Ticket.location, *HAMPSHIRE_WINDSOR)
    d = db.scalar(select(expr).where(Ticket.id == t.id))
    assert d == pytest.approx(spatial.haversine_m(*CENTRAL, *HAMPSHIRE_WINDSOR), rel=0.01)


def test_within_radius_and_nearest(db) -> None:  # type: ignore[no-untyped-def]
    near = factories.ticket(db, lat=HAMPSHIRE_WINDSOR[0] + 0.0003, lon=HAMPSHIRE_WINDSOR[1])  # ~33 m north
    mid = factories.ticket(db, lat=HAMPSHIRE_WINDSOR[0] + 0.0012, lon=HAMPSHIRE_WINDSOR[1])  # ~133 m
    far = factories.ticket(db, lat=CENTRAL[0], lon=CENTRAL[1])
    db.commit()
    inside = db.scalars(
        select(Ticket.id).where(
            spatial.within_radius(db, Ticket.location, "tickets", *HAMPSHIRE_WINDSOR, 150)
        )
    ).all()
    assert set(inside) == {near.id, mid.id}
    tight = db.scalars(
        select(Ticket.id).where(spatial.within_radius(db, Ticket.location, "tickets", *HAMPSHIRE_WINDSOR, 50))
    ).all()
    assert tight == [near.id]
    ranked = spatial.nearest(db, Ticket, Ticket.location, *HAMPSHIRE_WINDSOR, limit=3)
    assert [t.id for t, _ in ranked] == [near.id, mid.id, far.id]
    assert ranked[0][1] == pytest.approx(33.4, abs=2)


def test_within_bbox(db) -> None:  # type: ignore[no-untyped-def]
    a = factories.ticket(db, lat=CENTRAL[0], lon=CENTRAL[1])
    factories.ticket(db, lat=HAMPSHIRE_WINDSOR[0], lon=HAMPSHIRE_WINDSOR[1])
    db.commit()
    box = (CENTRAL[1] - 0.002, CENTRAL[0] - 0.002, CENTRAL[1] + 0.002, CENTRAL[0] + 0.002)
    ids = db.scalars(
        select(Ticket.id).where(spatial.within_bbox(db, Ticket.public_location, "tickets", box))
    ).all()
    assert ids == [a.id]


def test_geodesic_in_memory_measures_as_the_database_does(db) -> None:  # type: ignore[no-untyped-def]
    """Dedupe measures a page's unwritten tickets in memory: near the radius both must give one answer."""
    t = factories.ticket(db, lat=CENTRAL[0], lon=CENTRAL[1])
    for dlat, dlon in [(0.0003, 0.0), (0.0, 0.0018), (0.00095, -0.0011), (-0.0081, 0.0062)]:
        lat, lon = CENTRAL[0] + dlat, CENTRAL[1] + dlon
        in_db = db.scalar(select(spatial.distance_m(db, Ticket.location, lat, lon)).where(Ticket.id == t.id))
        assert spatial.geodesic_m(*CENTRAL, lat, lon) == pytest.approx(in_db, abs=0.05)


def test_nearest_query_ranks_like_nearest(db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import bindparam

    near = factories.ticket(db, lat=HAMPSHIRE_WINDSOR[0] + 0.0003, lon=HAMPSHIRE_WINDSOR[1])
    mid = factories.ticket(db, lat=HAMPSHIRE_WINDSOR[0] + 0.0012, lon=HAMPSHIRE_WINDSOR[1])
    factories.ticket(db, lat=CENTRAL[0], lon=CENTRAL[1])
    db.commit()
    query = spatial.NearestQuery(Ticket, Ticket.location, [Ticket.id], [Ticket.id != bindparam("not_id")])
    rows = query.run(db, *HAMPSHIRE_WINDSOR, 150, not_id=-1)
    expected = spatial.nearest(db, Ticket, Ticket.location, *HAMPSHIRE_WINDSOR, max_radius_m=150)
    assert [row[0] for row, _ in rows] == [near.id, mid.id] == [t.id for t, _ in expected]
    assert [d for _, d in rows] == pytest.approx([d for _, d in expected], abs=0.01)
    assert [row[0] for row, _ in query.run(db, *HAMPSHIRE_WINDSOR, 150, not_id=near.id)] == [mid.id]
