"""The map's recently closed tickets per cell and closing day, kept by triggers: count, fold, read."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    delete,
    func,
    literal,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from civictracker.geo import spatial
from civictracker.models import MapCellDelta, MapClosedCell, Ticket
from civictracker.services.map_cells import CellRow
from civictracker.services.map_grid import (
    Grid,
    add_to_cells,
    delta_sums,
    in_box,
    placed_in,
    rolled_rows,
    ticket_cells,
    ticket_sums,
)
from civictracker.services.map_recent_cells import kept_closed
from civictracker.services.public import CLOSED_RECENT_DAYS, MAP_CLOSED

# Closing days kept: the map's window, the day it starts in, and a margin for clocks a little apart (a
# row older than every window is never read; its deltas are dropped when folded).
KEEP_DAYS = CLOSED_RECENT_DAYS + 2
EPOCH = dt.date(1970, 1, 1)
CLOSED_VALUES = sorted(s.value for s in MAP_CLOSED)


def day_of(moment: dt.datetime) -> int:
    """The UTC day of a moment, in days since 1970-01-01 (what the triggers store)."""
    return (moment.astimezone(dt.UTC).date() - EPOCH).days


def day_start(day: int) -> dt.datetime:
    return dt.datetime.combine(EPOCH + dt.timedelta(days=day), dt.time(), tzinfo=dt.UTC)


def closed_day(session: Session, column: Any) -> ColumnElement[int]:
    """The UTC day of a closing time in SQL, as the triggers compute it (migration e4c8a1f5b9d3)."""
    if spatial.dialect_of(session) == "postgresql":
        day = func.date(func.timezone("UTC", column)) - literal_column("DATE '1970-01-01'")
        return day.cast(Integer)  # type: ignore[no-any-return]
    # SQLite keeps UTC times as 'YYYY-MM-DD HH:MM:SS...': the date part, exactly (julianday of a date is n.5)
    return (func.julianday(func.substr(column, 1, 10)) - 2440587.5).cast(Integer)


def horizon(now: dt.datetime) -> int:
    """The oldest closing day kept."""
    return day_of(now) - KEEP_DAYS


def count_closed(session: Session, grid: Grid, since_day: int) -> Any:
    """The closed tickets on the map closed on `since_day` or later, counted per (zoom, cell, service,
    day): map_closed_cells' rows for this grid."""
    gx, gy = ticket_cells(session, grid)
    day = closed_day(session, Ticket.closed_at)
    return (
        select(
            literal(grid.zoom).label("zoom"),
            gx.label("gx"),
            gy.label("gy"),
            Ticket.service_id,
            day.label("day"),
            *ticket_sums(),
        )
        .where(
            Ticket.status.in_(CLOSED_VALUES),
            Ticket.closed_at >= day_start(since_day),
            *placed_in(grid.box),
        )
        .group_by(gx, gy, Ticket.service_id, day)
    )


def pending_closed(session: Session, grid: Grid, source: Any, since_day: int) -> Any:
    """The closing deltas of `source` (the table, or the rows a DELETE returned) from `since_day` on, summed
    per (zoom, cell, service, day)."""
    c = source.c
    gx, gy, sums = delta_sums(session, grid, c)
    return (
        select(literal(grid.zoom).label("zoom"), gx.label("gx"), gy.label("gy"), c.service_id, c.day, *sums)
        .where(c.day >= since_day, in_box(c.lat, c.lon, grid.box))
        .group_by(gx, gy, c.service_id, c.day)
    )


def upsert_closed(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Add folded rows (zoom, gx, gy, service_id, day, n, sums) to map_closed_cells."""
    add_to_cells(session, MapClosedCell, ("zoom", "gx", "gy", "service_id", "day"), rows)


def prune_closed(session: Session, now: dt.datetime, days: set[int]) -> None:
    """Drop the rows emptied on the folded `days` and the days no window reaches any more (both by the day
    index: not a scan of every kept day's rows at each fold)."""
    if days:
        emptied = delete(MapClosedCell).where(MapClosedCell.day.in_(sorted(days)), MapClosedCell.n == 0)
        session.execute(emptied)
    session.execute(delete(MapClosedCell).where(MapClosedCell.day < horizon(now)))


def _edge_tickets(session: Session, level: Grid, since: dt.datetime, until: dt.datetime, box: Any) -> Any:
    """The closed tickets closed in [since, until) (the window's first, partial day), counted per cell."""
    gx, gy = ticket_cells(session, level)
    return (
        select(gx.label("gx"), gy.label("gy"), Ticket.service_id, *ticket_sums())
        .where(
            Ticket.status.in_(CLOSED_VALUES),
            # written in, as filter_conditions does: a moving bound makes PostgreSQL's generic plans bad
            Ticket.closed_at >= literal(since, Ticket.closed_at.type, literal_execute=True),
            Ticket.closed_at < literal(until, Ticket.closed_at.type, literal_execute=True),
            *placed_in(box),
        )
        .group_by(gx, gy, Ticket.service_id)
    )


def closed_parts(
    session: Session, level: Grid, since: dt.datetime, cells: tuple[int, int, int, int] | None = None
) -> list[Any]:
    """The map's tickets closed since `since` (the clock's window) per cell of the kept grid `level` and
    service, as UNION ALL parts (gx, gy, service_id, n, sums) for the caller to merge: the whole days
    after the one `since` falls in from map_recent_cells (or map_closed_cells' day-rows) and the pending
    deltas, that first day's part from the tickets themselves (an index range of one day). The same
    counts as reading the closed tickets. `cells` (gx0, gy0, gx1, gy1 of `level`): only those."""
    first = day_of(since)
    d = MapCellDelta.__table__.c
    gx, gy, sums = delta_sums(session, level, d)
    pending = (
        select(gx.label("gx"), gy.label("gy"), d.service_id, *sums)
        .where(d.day > first, in_box(d.lat, d.lon, level.box))
        .group_by(gx, gy, d.service_id)
    )
    box = level.box
    if cells is not None:
        edges = level.cells_box(cells)
        box = (max(box[0], edges[0]), max(box[1], edges[1]), min(box[2], edges[2]), min(box[3], edges[3]))
        pending = pending.where(in_box(d.lat, d.lon, box))
    edge = _edge_tickets(session, level, since, day_start(first + 1), box)
    return [*kept_closed(level.zoom, first, cells), pending, edge]


def rolled_closed_cells(
    session: Session,
    grid: Grid,
    zoom: int,
    service_ids: set[int],
    since: dt.datetime,
    cells: tuple[int, int, int, int] | None = None,
) -> list[CellRow]:
    """The map's tickets closed since `since` per cell of `zoom` (<= FINE_ZOOM) and service, merged by the
    database from the kept grid's rows (closed_parts). The caller makes sure the cells are built for
    `grid` (map_open_cells.ready_map_cells). `cells` (gx0, gy0, gx1, gy1 of the kept grid for `zoom`):
    only those."""
    if not service_ids:
        return []
    level = grid.level_for(zoom)
    c = union_all(*closed_parts(session, level, since, cells)).subquery().c
    return rolled_rows(session, c, level.zoom - zoom, service_ids, cells)
