"""The map's window of recently closed tickets summed per cell and service: build, fold, slide, read."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import BigInteger, delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from civictracker.models import MapClosedCell, MapGrid, MapRecentCell
from civictracker.services.map_grid import SUMS, add_to_cells

# Why a window table: the closed map sums ~30 day-rows per cell and service from map_closed_cells; at 1M
# tickets the city at zoom 15 read 47,000 of them per uncached view (75 ms on PostgreSQL, a sort that spilt
# to disk), against 13,500 here. map_closed_cells stays the truth: this table is map_closed_cells' rows of
# the days after map_grid.recent_after_day, summed, and every writer keeps that true (the fold adds the
# new rows of those days, the slide takes away the days the window leaves). A read trusts it only for the
# day it was slid to, in the same statement (kept_closed): else it sums the day-rows, as before.
COLUMNS = ("zoom", "gx", "gy", "service_id", *SUMS)


def _summed(after_day: int, until_day: int | None = None) -> Any:
    """map_closed_cells' rows of the days in (after_day, until_day] summed per (zoom, cell, service)."""
    c = MapClosedCell
    stmt = select(
        c.zoom,
        c.gx,
        c.gy,
        c.service_id,
        *(func.sum(getattr(c, name)).cast(BigInteger).label(name) for name in SUMS),
    ).where(c.day > after_day)
    if until_day is not None:
        stmt = stmt.where(c.day <= until_day)
    return stmt.group_by(c.zoom, c.gx, c.gy, c.service_id)


def build_recent(session: Session, grid_row: MapGrid, after_day: int) -> None:
    """Sum map_closed_cells' days after `after_day` into map_recent_cells anew (the caller holds the write
    lock, or map_grid's row: see slide_recent)."""
    session.execute(delete(MapRecentCell))
    session.execute(insert(MapRecentCell).from_select(list(COLUMNS), _summed(after_day)))
    grid_row.recent_after_day = after_day
    session.flush()


def slide_recent(session: Session, grid_row: MapGrid, after_day: int, oldest_kept: int) -> None:
    """Move the window to the days after `after_day`: take away the days it leaves (a day's rows, not a
    rebuild), or sum it anew when those days are no longer kept (`oldest_kept`: map_closed_cells' first
    day). Never backwards: a window behind the clock is only read through the day-rows.
    The caller holds the write lock (SQLite) or map_grid's row (PostgreSQL), as a fold does."""
    current = grid_row.recent_after_day
    if current is not None and current >= after_day:
        return
    if current is None or current + 1 < oldest_kept:
        build_recent(session, grid_row, after_day)
        return
    gone = _summed(current, after_day).subquery()
    r = MapRecentCell
    key = (r.zoom == gone.c.zoom, r.gx == gone.c.gx, r.gy == gone.c.gy, r.service_id == gone.c.service_id)
    session.execute(
        update(r)
        .where(*key)
        .values({name: getattr(r, name) - getattr(gone.c, name) for name in SUMS})
        .execution_options(synchronize_session=False)
    )
    session.execute(delete(r).where(r.n == 0))
    grid_row.recent_after_day = after_day
    session.flush()


def add_recent(session: Session, grid_row: MapGrid, folded: list[tuple[Any, ...]]) -> None:
    """Add the folded day-rows (zoom, gx, gy, service_id, day, n, sums) of the window's days to it."""
    after_day = grid_row.recent_after_day
    if after_day is None:
        return
    sums: dict[tuple[int, int, int, int], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for zoom, gx, gy, service_id, day, *values in folded:
        if day > after_day:
            acc = sums[zoom, gx, gy, service_id]
            for i, v in enumerate(values):
                acc[i] += int(v)
    if not sums:
        return
    # sorted: concurrent upserts lock the cells in one order
    add_to_cells(session, MapRecentCell, COLUMNS[:4], [(*k, *v) for k, v in sorted(sums.items())])
    session.execute(delete(MapRecentCell).where(MapRecentCell.n == 0))


def kept_closed(zoom: int, after_day: int, cells: tuple[int, int, int, int] | None) -> list[Any]:
    """The folded closed tickets of the days after `after_day` at the kept grid `zoom`, per (cell, service)
    (gx, gy, service_id, n, sums): map_recent_cells when it was slid to that day, else map_closed_cells'
    day-rows. One snapshot: both parts go in the caller's one statement, each guarded by map_grid's day."""
    slid = exists().where(MapGrid.id == 1, MapGrid.recent_after_day == after_day)
    r, c = MapRecentCell, MapClosedCell
    recent = select(
        r.gx, r.gy, r.service_id, r.n.cast(BigInteger).label("n"), r.sum_lat_e7, r.sum_lon_e7, r.sum_id
    ).where(r.zoom == zoom, slid)
    days = select(
        c.gx, c.gy, c.service_id, c.n.cast(BigInteger).label("n"), c.sum_lat_e7, c.sum_lon_e7, c.sum_id
    ).where(c.zoom == zoom, c.day > after_day, ~slid)
    if cells is not None:
        gx0, gy0, gx1, gy1 = cells
        recent = recent.where(r.gx.between(gx0, gx1), r.gy.between(gy0, gy1))
        days = days.where(c.gx.between(gx0, gx1), c.gy.between(gy0, gy1))
    return [recent, days]
