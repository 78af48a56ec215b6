"""map_recent_cells, the closed window summed per cell: slid a day by taking the day leaving away, or summed
anew when that day's rows are gone, and never read unless slid to the view's day (the day-rows are)."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import select, update

from civictracker.models import MapGrid, MapRecentCell, Service, TicketStatus
from civictracker.services import map_closed_cells, public_map
from civictracker.services import map_open_cells as cells_svc
from civictracker.services.map_closed_cells import day_of, day_start, rolled_closed_cells
from civictracker.services.map_recent_cells import _summed
from civictracker.services.public import CLOSED_RECENT_DAYS
from tests import factories
from tests.services.test_map_cells import (
    CITY,
    GRID,
    _close,
    _closed_reference,
    _features,
    _random_tickets,
)

# noon: the window's first day is cut by the clock in its middle, not at midnight
NOW = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0, microsecond=0)


def _leaving_day_tickets(db, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """Closed tickets on the window's first whole days (the days a slide of one to five days takes away)."""
    first = cells_svc._window_after(now) + 1
    rng = random.Random(3)
    for day in range(first, first + 5):
        for _ in range(6):
            _closed_ticket(db, rng, day_start(day) + dt.timedelta(hours=rng.uniform(0, 24)))


def _closed_ticket(db, rng: random.Random, closed_at: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    code = rng.choice(["pothole", "trash", "graffiti"])
    lat, lon = rng.uniform(CITY[1], CITY[3]), rng.uniform(CITY[0], CITY[2])
    t = factories.ticket(db, code, lat=lat, lon=lon)
    t.status = TicketStatus.RESOLVED
    t.closed_at = closed_at
    db.flush()


def _built(db, now: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """Tickets closed over 40 days and on each of the window's first days, all folded as of `now`."""
    _random_tickets(db, 400, seed=21, now=now)
    _leaving_day_tickets(db, now)
    cells_svc.rebuild_map_cells(db, GRID, now)
    assert _after_day(db) == cells_svc._window_after(now)


def _after_day(db) -> int | None:  # type: ignore[no-untyped-def]
    return db.scalar(
        select(MapGrid.recent_after_day).where(MapGrid.id == 1).execution_options(populate_existing=True)
    )


def _table(db) -> list[tuple[int, ...]]:  # type: ignore[no-untyped-def]
    cols = [
        getattr(MapRecentCell, c)
        for c in ("zoom", "gx", "gy", "service_id", "n", "sum_lat_e7", "sum_lon_e7", "sum_id")
    ]
    return sorted(tuple(r) for r in db.execute(select(*cols)))


def _window_summed(db, after_day: int) -> list[tuple[int, ...]]:  # type: ignore[no-untyped-def]
    return sorted(tuple(r) for r in db.execute(_summed(after_day)) if r[4] != 0)


def _closed_rolled(db, now: dt.datetime, zoom: int) -> list[tuple[int, ...]]:  # type: ignore[no-untyped-def]
    """The kept closed cells as of `now`, read as the map reads them (no ready_map_cells: as they stand)."""
    db.flush()
    services = set(db.scalars(select(Service.id)))
    rows = rolled_closed_cells(db, GRID, zoom, services, now - dt.timedelta(days=CLOSED_RECENT_DAYS))
    return sorted((gx, gy, sid, n, first) for gx, gy, sid, n, first, _, _ in rows)


def _views_right(db, monkeypatch, now: dt.datetime, seed: int) -> None:  # type: ignore[no-untyped-def]
    """Random viewports, closed and all: the map as of `now` equals counting the tickets; and the kept
    closed cells equal a direct count at both kept zooms and a low one."""
    for zoom in (17, 15, 12):
        assert _closed_rolled(db, now, zoom) == _closed_reference(db, now, zoom), zoom
    monkeypatch.setattr(public_map, "MAX_POINTS", 20)
    rng = random.Random(seed)
    for i in range(16):
        zoom = rng.randint(3, 17)
        w, h = (rng.uniform(0.002, 0.12), rng.uniform(0.002, 0.06)) if zoom <= 15 else (0.02, 0.012)
        x, y = rng.uniform(CITY[0], CITY[2] - w / 2), rng.uniform(CITY[1], CITY[3] - h / 2)
        bbox = (x, y, min(x + w, CITY[2]), min(y + h, CITY[3]))
        services = rng.choice([(), ("pothole",), ("trash", "graffiti")])
        status = ("closed", "all")[i % 2]
        new = _features(db, zoom, bbox, services, status, now)
        with monkeypatch.context() as m:
            m.setattr(public_map, "_on_grid", lambda _filters: False)  # the old path: count the tickets
            m.setattr(public_map, "CACHE_MAX_ZOOM", 17)
            old = _features(db, zoom, bbox, services, status, now)
        assert _close(new, old), (zoom, bbox, services, status)


def test_a_slide_of_one_day_takes_the_day_leaving_away(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _built(db, NOW)
    before = _table(db)
    later = NOW + dt.timedelta(days=1)
    after = cells_svc._window_after(later)
    # the day leaving is still kept: a day's rows taken away, not a rebuild
    assert after - 1 >= map_closed_cells.horizon(later)
    assert _window_summed(db, after) != before  # the day leaving holds tickets: the slide changes the sums
    cells_svc.ready_map_cells(db, GRID, later)  # a new UTC day: compacts, which slides
    assert _after_day(db) == after
    assert _table(db) == _window_summed(db, after)
    _views_right(db, monkeypatch, later, seed=1)


def test_a_slide_past_pruned_days_sums_the_window_anew(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _built(db, NOW)
    later = NOW + dt.timedelta(days=5)
    after = cells_svc._window_after(later)
    # the days leaving are no longer kept, their rows already dropped: only a rebuild gives the window
    map_closed_cells.prune_closed(db, later, set())
    assert cells_svc._window_after(NOW) + 1 < map_closed_cells.horizon(later)
    cells_svc.ready_map_cells(db, GRID, later)
    assert _after_day(db) == after
    assert _table(db) == _window_summed(db, after)
    _views_right(db, monkeypatch, later, seed=2)


def test_a_window_not_slid_to_the_views_day_is_not_read(db, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    _built(db, NOW)
    slid = _after_day(db)
    # the table as it stands is wrong for any other day: a read that trusted it would show it
    db.execute(update(MapRecentCell).values(n=MapRecentCell.n + 1000))
    db.flush()
    # a view a day ahead of the window (no slide yet: read as they stand) and one behind it (never slid
    # backwards, even through the map's own ready_map_cells)
    ahead, behind = NOW + dt.timedelta(days=1), NOW - dt.timedelta(days=1)
    for now in (ahead, behind):
        for zoom in (17, 15, 12):
            assert _closed_rolled(db, now, zoom) == _closed_reference(db, now, zoom), (now, zoom)
    _views_right(db, monkeypatch, behind, seed=3)
    assert _after_day(db) == slid
    # and the guard reads the table when slid to the view's day: the corruption shows
    assert _closed_rolled(db, NOW, 15) != _closed_reference(db, NOW, 15)
    assert day_of(NOW - dt.timedelta(days=CLOSED_RECENT_DAYS)) == slid
