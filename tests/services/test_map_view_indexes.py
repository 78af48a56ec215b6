"""The public map's views read an index of the tickets the filter can show, and answer exactly as a plain
count of the tickets table would: the map's R*Tree (SQLite) follows every ticket, a large view's list walks
the newest tickets first and falls back to the index, and each plan uses the index meant for it."""

from __future__ import annotations

import datetime as dt
import importlib.util
import random
import re
from typing import Any

import pytest
from sqlalchemy import text, update

from civictracker.extensions import db as ext_db
from civictracker.geo import spatial
from civictracker.models import Ticket, TicketStatus
from civictracker.paths import MIGRATIONS_DIR
from civictracker.services import map_list, public_map
from civictracker.services.public import MAP_CLOSED, MAP_OPEN
from tests import factories
from tests.services.test_query_plans import recorded

CITY = (-71.1605, 42.3525, -71.064, 42.4045)
S = TicketStatus


def _migration() -> Any:
    path = next((MIGRATIONS_DIR / "versions").glob("*_b5e2d8f1c3a7_*.py"))
    spec = importlib.util.spec_from_file_location("map_view_indexes", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_map_index_holds_the_statuses_the_map_shows() -> None:
    from civictracker.geo.spatial import MAP_OPEN_UNTIL

    migration = _migration()
    assert set(migration.MAP_OPEN) == {s.value for s in MAP_OPEN}
    assert set(migration.MAP_CLOSED) == {s.value for s in MAP_CLOSED}
    assert migration.OPEN_UNTIL == MAP_OPEN_UNTIL


def test_the_map_rtree_follows_each_ticket(db, backend) -> None:  # type: ignore[no-untyped-def]
    """SQLite: open tickets are in idx_map_tickets until MAP_OPEN_UNTIL, closed ones until their closing
    day, the others (hidden, new, rejected) not at all. PostgreSQL has its partial index instead."""
    if backend == "postgis":
        assert db.execute(text("SELECT to_regclass('ix_tickets_map_closed')")).scalar() is not None
        return
    _history(db, 1, seed=1)
    t = db.query(Ticket).one()
    db.execute(update(Ticket).where(Ticket.id == t.id).values(status=S.OPEN.value, closed_at=None))
    rows = text("SELECT min_until, max_until FROM idx_map_tickets WHERE id = :id")
    assert db.execute(rows, {"id": t.id}).all() == [(9_000_000.0, 9_000_000.0)]
    closed_at = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    db.execute(update(Ticket).where(Ticket.id == t.id).values(status=S.RESOLVED.value, closed_at=closed_at))
    [(low, high)] = db.execute(rows, {"id": t.id}).all()
    day = db.execute(text("SELECT julianday('2026-12-01 12:00:00')")).scalar()
    assert low <= day <= high and high - low <= 0.5  # float32, rounded outwards
    for status in (S.HIDDEN, S.NEW, S.REJECTED):
        db.execute(update(Ticket).where(Ticket.id == t.id).values(status=status.value))
        assert db.execute(rows, {"id": t.id}).all() == []
    db.execute(update(Ticket).where(Ticket.id == t.id).values(status=S.REOPENED.value))
    assert db.execute(rows, {"id": t.id}).all() == [(9_000_000.0, 9_000_000.0)]
    db.execute(text("DELETE FROM tickets"))
    assert db.execute(text("SELECT count(*) FROM idx_map_tickets")).scalar() == 0


def _history(db, n: int, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Open, recently closed, long closed and hidden tickets; half of them on one street."""
    rng = random.Random(seed)
    codes = ["pothole", "trash", "graffiti", "streetlight"]
    service_ids = {c: factories.service(db, c).id for c in codes}
    now = dt.datetime.now(dt.UTC)
    rows = []
    for i in range(n):
        if i % 2:
            lat, lon = 42.3707 + rng.uniform(-0.0005, 0.0005), -71.0975 + rng.uniform(-0.006, 0.006)
        else:
            lat, lon = rng.uniform(CITY[1], CITY[3]), rng.uniform(CITY[0], CITY[2])
        status = rng.choice([*MAP_OPEN, S.RESOLVED, S.CLOSED, S.REFERRED, S.HIDDEN])
        closed = status in MAP_CLOSED
        rows.append(
            {
                "service_id": service_ids[rng.choice(codes)],
                "status": status.value,
                "lat": lat,
                "lon": lon,
                "public_lat": lat,
                "public_lon": lon,
                "location": spatial.point(lat, lon),
                "public_location": spatial.point(lat, lon),
                "summary": "x",
                "created_at": now - dt.timedelta(days=rng.uniform(0, 90)),
                "closed_at": now - dt.timedelta(days=rng.uniform(0, 60)) if closed else None,
            }
        )
    db.execute(Ticket.__table__.insert(), rows)
    db.flush()


def _answers(db, bbox: tuple[float, ...], zoom: int, status: str) -> tuple[Any, Any]:  # type: ignore[no-untyped-def]
    view = public_map.Viewport(bbox, False, None, CITY)  # type: ignore[arg-type]
    filters = public_map.MapFilters(status=status)
    now = dt.datetime.now(dt.UTC)
    features = public_map.map_geojson(db, view, zoom, filters, now=now)
    listed = map_list.reports_in_view(db, view, filters, now=now)
    return features, listed


def _exact_only(session, bbox, filters, now, *, newest_first=False):  # type: ignore[no-untyped-def]
    return spatial.within_bbox_points(
        session,
        Ticket.public_location,
        Ticket.public_lat,
        Ticket.public_lon,
        "tickets",
        bbox,
        use_index=False,
    )


def test_views_answer_as_counting_the_table(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Random views at every zoom and status: the indexes (and the list's walk of the newest, with a window
    small enough to fall back half the time) give what a plain read of the table gives."""
    _history(db, 700, seed=3)
    monkeypatch.setattr(map_list, "NEWEST_WINDOW", 60)
    monkeypatch.setattr(public_map, "_on_grid", lambda _filters: False)  # count tickets, not the cells
    rng = random.Random(8)
    walked = 0
    for _ in range(36):
        zoom = rng.randint(11, 19)
        w, h = rng.uniform(0.002, 0.1), rng.uniform(0.002, 0.05)
        x, y = rng.uniform(CITY[0], CITY[2] - w / 2), rng.uniform(CITY[1], CITY[3] - h / 2)
        bbox = (x, y, min(x + w, CITY[2]), min(y + h, CITY[3]))
        status = rng.choice(["open", "closed", "all"])
        new = _answers(db, bbox, zoom, status)
        view = public_map.Viewport(bbox, False, None, CITY)  # type: ignore[arg-type]
        filters = public_map.MapFilters(status=status)
        walked += map_list._newest_in_large_view(db, view, filters, dt.datetime.now(dt.UTC), 26) is not None
        with monkeypatch.context() as m:
            m.setattr(public_map, "in_view", _exact_only)
            m.setattr(map_list, "in_view", _exact_only)
            m.setattr(map_list, "_newest_in_large_view", lambda *a: None)
            old = _answers(db, bbox, zoom, status)
        assert new[1] == old[1], (zoom, bbox, status)  # the list
        assert _same_features(new[0], old[0]), (zoom, bbox, status)
    assert walked >= 1 or ext_db.engine.dialect.name == "postgresql"


def _same_features(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """The same markers and groups; a group's centre from integer sums of 1e-7 degrees (the grid's cells)
    may differ from float sums in the last rounded digit."""
    if (a["total"], a["mode"], len(a["features"])) != (b["total"], b["mode"], len(b["features"])):
        return False

    def key(f: dict[str, Any]) -> tuple[Any, ...]:
        p = f["properties"]
        return (p.get("count", 1), p.get("id"), p["service"], *f["geometry"]["coordinates"])

    return all(
        x[:3] == y[:3] and abs(x[3] - y[3]) <= 1.1e-5 and abs(x[4] - y[4]) <= 1.1e-5
        for x, y in zip(sorted(map(key, a["features"])), sorted(map(key, b["features"])), strict=True)
    )


def _plans(statements: list[tuple[str, Any]]) -> list[str]:
    out = []
    with ext_db.engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            if "tickets" not in statement or "public_lat" not in statement:
                continue
            if postgres:
                plan = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
            else:
                plan = [(r[3],) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
            out.append("\n".join(r[0] for r in plan))
        conn.rollback()
    return out


@pytest.mark.parametrize(
    ("case", "bbox", "zoom", "status"),
    [
        ("street view, open", (-71.1000, 42.3690, -71.0950, 42.3720), 17, "open"),
        ("large view list, open", CITY, 13, "open"),
        ("street view, closed", (-71.1000, 42.3690, -71.0950, 42.3720), 17, "closed"),
        ("city, all", CITY, 13, "all"),
    ],
)
def test_each_view_reads_the_index_meant_for_it(app, backend, case, bbox, zoom, status) -> None:  # type: ignore[no-untyped-def]
    _history(ext_db.session, 120, seed=5)
    with recorded() as statements:
        _answers(ext_db.session, bbox, zoom, status)
        ext_db.session.rollback()
    plans = _plans(statements)
    assert plans, case
    joined = "\n---\n".join(plans)
    assert "SpatialIndex" not in joined and not re.search(r"^SCAN tickets\b", joined, re.M), joined
    assert "Seq Scan on tickets" not in joined, joined
    if backend == "postgis":
        if status == "closed":
            assert "ix_tickets_map_closed" in joined, joined
        return
    if case == "street view, open":
        assert "INDEX ix_tickets_public_map" in joined, joined  # the covering index, not a spatial one
    elif case.startswith("large view list"):
        assert "INTEGER PRIMARY KEY (rowid>?)" in joined, joined  # the newest first, walked back
    elif case == "city, all":
        assert "COVERING INDEX ix_tickets_map_closed_cover" in joined, joined  # closed cells, city-wide
    else:
        assert re.search(r"idx_map_tickets VIRTUAL TABLE INDEX \d+:\S*D5", joined), joined  # `until` asked
