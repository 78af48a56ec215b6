"""The map's kept cell counts (open; closed by day): build for a city's grid, fold deltas, read, roll up."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cachetools import TTLCache
from sqlalchemy import ColumnElement, delete, func, insert, literal, select, text, union_all
from sqlalchemy.orm import Session

from civictracker.database import begin_write
from civictracker.models import MapCell, MapCellDelta, MapClosedCell, MapGrid, Ticket
from civictracker.models.transitions import values_of
from civictracker.models.types import utcnow
from civictracker.services.map_cells import CACHE_TTL_S, CellRow, Cluster
from civictracker.services.map_closed_cells import (
    closed_parts,
    count_closed,
    day_of,
    horizon,
    pending_closed,
    prune_closed,
    upsert_closed,
)
from civictracker.services.map_grid import (
    BaseRow,
    Bbox,
    Grid,
    add_to_cells,
    delta_sums,
    in_box,
    placed_in,
    rolled_rows,
    ticket_cells,
    ticket_sums,
)
from civictracker.services.map_recent_cells import add_recent, build_recent, slide_recent
from civictracker.services.public import CLOSED_RECENT_DAYS, MAP_OPEN

_CELL_KEY = ("zoom", "gx", "gy", "service_id")
COMPACT_AT = 500  # pending deltas folded into the kept cells once there are this many (a read stays small)


def _grid_row(session: Session, grid: Grid, *, lock: bool = False) -> MapGrid | None:
    """map_grid's row when the cells are built for this grid, else None. `lock` (PostgreSQL): the row
    locked until commit, which every fold, slide and rebuild takes first (the window's sums stay the sum of
    its days whatever runs at once; SQLite's write lock does the same)."""
    row = session.get(MapGrid, 1, populate_existing=True, with_for_update=lock or None)
    if row is None:
        return None
    built = (row.cell_lon, row.cell_lat, (row.min_lon, row.min_lat, row.max_lon, row.max_lat)) == (
        grid.cell_lon,
        grid.cell_lat,
        grid.box,
    )
    return row if built else None


def _grid_matches(session: Session, grid: Grid) -> bool:
    return _grid_row(session, grid) is not None


def _window_after(now: dt.datetime) -> int:
    """The day the map's closed window's whole days come after: the day its start falls in."""
    return day_of(now - dt.timedelta(days=CLOSED_RECENT_DAYS))


def rebuild_map_cells(session: Session, grid: Grid, now: dt.datetime | None = None) -> None:
    """Count every open ticket on the map into map_cells for this grid, and the recently closed ones into
    map_closed_cells, and the window's sum of those into map_recent_cells (first map request of a city, or
    init-db)."""
    now = now or utcnow()
    row = session.get(MapGrid, 1, with_for_update=True)  # first, as a fold takes it: no deadlock
    if session.get_bind().dialect.name == "postgresql":
        # No ticket write may land between the clearing of the deltas and the count: wait for writers.
        session.execute(text("LOCK TABLE tickets IN SHARE MODE"))
    # On SQLite the first DELETE takes the write lock, so the count below sees every committed ticket.
    session.execute(delete(MapCellDelta))
    session.execute(delete(MapCell))
    session.execute(delete(MapClosedCell))
    columns = ["zoom", "gx", "gy", "service_id", "n", "sum_lat_e7", "sum_lon_e7", "sum_id"]
    closed_columns = ["zoom", "gx", "gy", "service_id", "day", "n", "sum_lat_e7", "sum_lon_e7", "sum_id"]
    since_day = horizon(now)
    for kept in grid.kept():
        counted = _counted(session, kept, [Ticket.status.in_(values_of(MAP_OPEN))], zoom=True)
        session.execute(insert(MapCell).from_select(columns, counted))
        closed = count_closed(session, kept, since_day)
        session.execute(insert(MapClosedCell).from_select(closed_columns, closed))
    if session.get_bind().dialect.name == "postgresql":
        # fresh statistics: planned with none, a read of 46,000 closed day-rows took 86 ms, not 20
        session.execute(text("ANALYZE map_cells"))
        session.execute(text("ANALYZE map_closed_cells"))
    if row is None:
        row = MapGrid(id=1)
        session.add(row)
    row.cell_lon, row.cell_lat = grid.cell_lon, grid.cell_lat
    row.min_lon, row.min_lat, row.max_lon, row.max_lat = grid.box
    build_recent(session, row, _window_after(now))
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("ANALYZE map_recent_cells"))
    session.flush()


def _counted(session: Session, grid: Grid, conds: list[ColumnElement[bool]], *, zoom: bool = False) -> Any:
    """The placed tickets matching `conds`, counted per cell of the grid and service (map_cells' rows;
    `zoom`: the grid's zoom first, as map_cells keeps it)."""
    gx, gy = ticket_cells(session, grid)
    gx, gy = gx.label("gx"), gy.label("gy")
    return (
        select(
            *([literal(grid.zoom).label("zoom")] if zoom else []), gx, gy, Ticket.service_id, *ticket_sums()
        )
        .where(*conds, *placed_in(grid.box))
        .group_by(gx, gy, Ticket.service_id)
    )


def _pending(session: Session, grid: Grid, source: Any, *, zoom: bool = False) -> Any:
    """Open-map deltas of `source` (the table, or the rows a DELETE returned) summed per (cell, service);
    `zoom`: the grid's zoom first, as map_cells keeps it."""
    c = source.c
    gx, gy, sums = delta_sums(session, grid, c)
    gx, gy = gx.label("gx"), gy.label("gy")
    return (
        select(
            *([literal(grid.zoom).label("zoom")] if zoom else []),
            gx,
            gy,
            c.service_id,
            *sums,
            func.count().label("rows"),
        )
        .where(c.day.is_(None), in_box(c.lat, c.lon, grid.box))
        .group_by(gx, gy, c.service_id)
    )


def compact_map_cells(session: Session, grid: Grid, now: dt.datetime | None = None) -> None:
    """Fold the pending deltas into map_cells, map_closed_cells and map_recent_cells, and slide the closed
    window to the clock's day; concurrent compactions never fold one delta twice. Closing days older than
    any window are dropped (deltas and rows)."""
    d = MapCellDelta.__table__
    now = now or utcnow()
    since_day = horizon(now)
    postgres = session.get_bind().dialect.name == "postgresql"
    if not postgres:
        begin_write(session)  # the write lock first: a second compaction waits, then finds nothing
    grid_row = _grid_row(session, grid, lock=True)
    if postgres:
        # Only the deltas this statement deletes are folded: another compaction's DELETE took the rest.
        moved = (
            delete(d).returning(d.c.service_id, d.c.dn, d.c.lat, d.c.lon, d.c.ticket_id, d.c.day).cte("moved")
        )
        source = moved
    else:
        source = d
    # one statement: a PostgreSQL DELETE ... RETURNING is read once, by both parts
    opened = [
        _pending(session, g, source, zoom=True).add_columns(literal(0).label("closed")) for g in grid.kept()
    ]
    closed = [
        pending_closed(session, g, source, since_day).add_columns(literal(1).label("closed"))
        for g in grid.kept()
    ]
    rows = session.execute(union_all(*opened, *closed)).all()
    if source is d:
        session.execute(delete(d))
    # sorted: concurrent upserts lock the cells in one order
    add_to_cells(session, MapCell, _CELL_KEY, sorted(tuple(r[:8]) for r in rows if not r[-1]))
    folded = sorted(tuple(r[:9]) for r in rows if r[-1])
    upsert_closed(session, folded)
    if grid_row is not None:  # else a rebuild is due, which sums the window anew
        add_recent(session, grid_row, folded)
        slide_recent(session, grid_row, _window_after(now), since_day)
    session.execute(delete(MapCell).where(MapCell.n == 0))
    prune_closed(session, now, {r[4] for r in folded})
    session.flush()


def _kept_and_pending(session: Session, grid: Grid, cells: tuple[int, int, int, int] | None = None) -> Any:
    """map_cells' rows and the pending deltas per cell, as one UNION ALL (one snapshot); the last column
    counts the delta rows behind each (0 for map_cells). `cells` (gx0, gy0, gx1, gy1): only those."""
    base = select(
        MapCell.gx,
        MapCell.gy,
        MapCell.service_id,
        MapCell.n,
        MapCell.sum_lat_e7,
        MapCell.sum_lon_e7,
        MapCell.sum_id,
        literal(0).label("rows"),
    ).where(MapCell.zoom == grid.zoom)
    pending = _pending(session, grid, MapCellDelta.__table__)
    if cells is not None:
        gx0, gy0, gx1, gy1 = cells
        base = base.where(MapCell.gx.between(gx0, gx1), MapCell.gy.between(gy0, gy1))
        # the deltas' box: the cells' own edges (a few hundred rows at most, folded at COMPACT_AT)
        d = MapCellDelta.__table__.c
        pending = pending.where(in_box(d.lat, d.lon, grid.cells_box(cells)))
    return union_all(base, pending)


def read_open_cells(session: Session, grid: Grid) -> tuple[list[BaseRow], int]:
    """map_cells plus the pending deltas, in one statement (one snapshot), and the number pending."""
    rows = session.execute(_kept_and_pending(session, grid)).all()
    pending = sum(int(r[7]) for r in rows)
    if not pending:  # the usual case: map_cells alone, one row per key, no zero counts (folds drop them)
        return [tuple(r[:7]) for r in rows], 0  # type: ignore[misc]
    merged: dict[tuple[int, int, int], list[int]] = {}
    for gx, gy, service_id, n, slat, slon, sid, _ in rows:
        acc = merged.setdefault((int(gx), int(gy), int(service_id)), [0, 0, 0, 0])
        acc[0] += int(n)
        acc[1] += int(slat)
        acc[2] += int(slon)
        acc[3] += int(sid)
    cells = [(k[0], k[1], k[2], a[0], a[1], a[2], a[3]) for k, a in sorted(merged.items()) if a[0] > 0]
    return cells, pending


def open_cells(session: Session, grid: Grid) -> list[BaseRow]:
    """The open map's cells at the grid's zoom: built on first use for this grid, deltas folded when many."""
    ready_map_cells(session, grid)
    return read_open_cells(session, grid)[0]


def ready_map_cells(session: Session, grid: Grid, now: dt.datetime | None = None) -> None:
    """The kept cells built for this grid (else counted anew), the deltas folded when many, and the closed
    window slid when the clock has moved to a new day (once a day: a day's rows taken away)."""
    now = now or utcnow()
    row = _grid_row(session, grid)
    if row is None:
        rebuild_map_cells(session, grid, now)
    elif (row.recent_after_day or 0) < _window_after(now) or (
        session.scalar(select(func.count()).select_from(MapCellDelta)) or 0
    ) >= COMPACT_AT:
        compact_map_cells(session, grid, now)


def open_parts(session: Session, level: Grid, cells: tuple[int, int, int, int] | None = None) -> list[Any]:
    """The open map's rows of the kept grid `level` per (cell, service) as UNION ALL parts (gx, gy,
    service_id, n, sums): map_cells and the pending deltas."""
    parts = _kept_and_pending(session, level, cells).selects
    # without the last column (how many delta rows), which only read_open_cells uses
    return [part.with_only_columns(*list(part.selected_columns)[:7]) for part in parts]


def rolled_map_cells(
    session: Session,
    grid: Grid,
    zoom: int,
    service_ids: set[int],
    status: str,
    now: dt.datetime,
    view: Bbox | None = None,
) -> list[CellRow]:
    """The map's cells at a zoom <= FINE_ZOOM for these services and map status (open, closed, all: open
    and closed in one statement), rolled up from the kept grid for that zoom by the database, one row per
    cell: its most frequent service and its totals (rolled_rows' by_cell). `view`: only the cells at
    `zoom` that it touches. The caller makes sure the cells are built for `grid` (ready_map_cells)."""
    if not service_ids:
        return []
    level = grid.level_for(zoom)
    cells = level.cells_under(zoom, view) if view is not None else None
    parts: list[Any] = []
    if status != "closed":
        parts += open_parts(session, level, cells)
    if status != "open":
        parts += closed_parts(session, level, now - dt.timedelta(days=CLOSED_RECENT_DAYS), cells)
    c = union_all(*parts).subquery().c
    return rolled_rows(session, c, level.zoom - zoom, service_ids, cells, by_cell=True)


def rolled_open_cells(
    session: Session, grid: Grid, zoom: int, service_ids: set[int], view: Bbox | None = None
) -> list[CellRow]:
    """The open map's cells at a zoom <= FINE_ZOOM for these services, merged by the database from the
    city grid's cells (or the fine grid's, above the city grid's zoom): what roll_up(open_cells(...))
    gives, without reading every kept cell into Python first (at 1M tickets, reading and merging tens of
    thousands of cells took ~100 ms after each change of the data).
    `view`: only the cells at `zoom` that it touches (whole cells: a cluster's centre decides).
    The caller makes sure the cells are built for `grid` (ready_map_cells)."""
    if not service_ids:
        return []
    level = grid.level_for(zoom)
    cells = level.cells_under(zoom, view) if view is not None else None
    c = _kept_and_pending(session, level, cells).subquery().c
    return rolled_rows(session, c, level.zoom - zoom, service_ids, cells)


def count_inside(rows: list[CellRow], grid: Grid, view: Bbox) -> int:
    """Tickets in the cells (of `grid`, at its zoom) that lie wholly inside `view`: a lower bound of the
    tickets in view."""
    min_lon, min_lat, max_lon, max_lat = view
    total = 0
    for gx, gy, _service, n, *_ in rows:
        lon0, lat0 = gx * grid.cell_lon - 180.0, gy * grid.cell_lat - 90.0
        lon1, lat1 = lon0 + grid.cell_lon, lat0 + grid.cell_lat
        if min_lon <= lon0 and lon1 <= max_lon and min_lat <= lat0 and lat1 <= max_lat:
            total += n
    return total


# The city's clusters from the kept cells per (database, grid, data version, zoom, status, services), per
# worker process; CELL_CACHE_LOCK guards it.
KEPT_CLUSTER_CACHE: TTLCache[Any, list[Cluster]] = TTLCache(maxsize=64, ttl=CACHE_TTL_S)


def prepare_map_cells(session: Session, city: Bbox) -> bool:
    """Build the cells for this city's grid unless they are built (init-db, so no visitor waits for it)."""
    grid = Grid.for_city(city)
    if _grid_matches(session, grid):
        return False
    rebuild_map_cells(session, grid)
    return True
