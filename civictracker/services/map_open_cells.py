"""The open map's cell counts, kept by triggers: build for a city's grid, fold deltas, read, roll up."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from cachetools import TTLCache
from sqlalchemy import BigInteger, ColumnElement, and_, delete, func, insert, literal, select, text, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from civictracker.database import begin_write
from civictracker.geo import spatial
from civictracker.models import MapCell, MapCellDelta, MapGrid, Ticket
from civictracker.models.transitions import values_of
from civictracker.services.map_cells import CACHE_MAX_ZOOM, CACHE_TTL_S, CellRow, Cluster, cell_size
from civictracker.services.public import MAP_OPEN

Bbox = tuple[float, float, float, float]
BaseRow = tuple[int, int, int, int, int, int, int]  # gx, gy, service_id, n, sum lat e7, sum lon e7, sum id
COMPACT_AT = 500  # pending deltas folded into map_cells once there are this many (a read stays small)
E7 = 10_000_000.0
# The open cells are kept at two zooms: the city grid's (CACHE_MAX_ZOOM, merged for every zoom below) and
# a finer one for street-level views, so a view of a busy street reads a few hundred cells, not the tens of
# thousands of open tickets in it (half of 1M tickets on one street: 250-500 ms per uncached view at zoom
# 16 counting tickets). The low zooms keep merging the coarse cells: from the fine ones, 4x the rows.
FINE_ZOOM = 17


@dataclass(frozen=True)
class Grid:
    """A grid of one zoom over one city (map_grid holds the city grid, at CACHE_MAX_ZOOM); a coarser zoom
    is its cells merged."""

    cell_lon: float
    cell_lat: float
    box: Bbox
    zoom: int = CACHE_MAX_ZOOM

    @classmethod
    def for_city(cls, city: Bbox) -> Grid:
        # cell_size doubles exactly per zoom level (powers of two), so the cell of a point at zoom z is
        # its cell on this grid shifted right by (grid zoom - z) bits: the same integer the SQL computes.
        cell_lon, cell_lat = cell_size(CACHE_MAX_ZOOM, (city[1] + city[3]) / 2)
        return cls(cell_lon, cell_lat, city)

    def at(self, zoom: int) -> Grid:
        """The same grid at another zoom (exact: the cell sizes scale by powers of two)."""
        scale = 2.0 ** (self.zoom - zoom)
        return Grid(self.cell_lon * scale, self.cell_lat * scale, self.box, zoom)

    def kept(self) -> tuple[Grid, Grid]:
        """The two grids map_cells keeps for this city grid: its own and the street-level one."""
        return self, self.at(self.zoom + FINE_ZOOM - CACHE_MAX_ZOOM)

    def cells_under(self, zoom: int, view: Bbox) -> tuple[int, int, int, int]:
        """(gx0, gy0, gx1, gy1): this grid's cells inside the cells of `zoom` that `view` touches."""
        shift = self.zoom - zoom
        span_lon, span_lat = self.cell_lon * (1 << shift), self.cell_lat * (1 << shift)
        min_lon, min_lat, max_lon, max_lat = view
        x0, x1 = math.floor((min_lon + 180.0) / span_lon), math.floor((max_lon + 180.0) / span_lon)
        y0, y1 = math.floor((min_lat + 90.0) / span_lat), math.floor((max_lat + 90.0) / span_lat)
        return x0 << shift, y0 << shift, ((x1 + 1) << shift) - 1, ((y1 + 1) << shift) - 1


def _in_box(lat: Any, lon: Any, box: Bbox) -> ColumnElement[bool]:
    min_lon, min_lat, max_lon, max_lat = box
    return and_(lon >= min_lon, lon <= max_lon, lat >= min_lat, lat <= max_lat)


def _e7(column: Any) -> ColumnElement[int]:
    # The same expression wherever a point is added or taken away, so the integer sums cancel exactly.
    return func.round(column * E7).cast(BigInteger)


def _grid_matches(session: Session, grid: Grid) -> bool:
    row = session.get(MapGrid, 1, populate_existing=True)
    if row is None:
        return False
    return (row.cell_lon, row.cell_lat, (row.min_lon, row.min_lat, row.max_lon, row.max_lat)) == (
        grid.cell_lon,
        grid.cell_lat,
        grid.box,
    )


def rebuild_map_cells(session: Session, grid: Grid) -> None:
    """Count every open ticket on the map into map_cells for this grid (first map request of a city)."""
    if session.get_bind().dialect.name == "postgresql":
        # No ticket write may land between the clearing of the deltas and the count: wait for writers.
        session.execute(text("LOCK TABLE tickets IN SHARE MODE"))
    # On SQLite the first DELETE takes the write lock, so the count below sees every committed ticket.
    session.execute(delete(MapCellDelta))
    session.execute(delete(MapCell))
    columns = ["zoom", "gx", "gy", "service_id", "n", "sum_lat_e7", "sum_lon_e7", "sum_id"]
    for kept in grid.kept():
        counted = _counted(session, kept, [Ticket.status.in_(values_of(MAP_OPEN))], zoom=True)
        session.execute(insert(MapCell).from_select(columns, counted))
    row = session.get(MapGrid, 1)
    if row is None:
        row = MapGrid(id=1)
        session.add(row)
    row.cell_lon, row.cell_lat = grid.cell_lon, grid.cell_lat
    row.min_lon, row.min_lat, row.max_lon, row.max_lat = grid.box
    session.flush()


def _counted(session: Session, grid: Grid, conds: list[ColumnElement[bool]], *, zoom: bool = False) -> Any:
    """The placed tickets matching `conds`, counted per cell of the grid and service (map_cells' rows;
    `zoom`: the grid's zoom first, as map_cells keeps it)."""
    gx, gy = spatial.grid_cell_keys(
        session, Ticket.public_lat, Ticket.public_lon, grid.cell_lon, grid.cell_lat
    )
    gx, gy = gx.label("gx"), gy.label("gy")
    return (
        select(
            *([literal(grid.zoom).label("zoom")] if zoom else []),
            gx,
            gy,
            Ticket.service_id,
            func.count(),
            func.sum(_e7(Ticket.public_lat)),
            func.sum(_e7(Ticket.public_lon)),
            func.sum(Ticket.id),
        )
        .where(
            *conds,
            Ticket.public_lat.is_not(None),
            Ticket.public_lon.is_not(None),
            _in_box(Ticket.public_lat, Ticket.public_lon, grid.box),
        )
        .group_by(gx, gy, Ticket.service_id)
    )


def cells_where(session: Session, grid: Grid, conds: list[ColumnElement[bool]]) -> list[BaseRow]:
    """Tickets matching `conds` counted into the grid's cells as map_cells counts the open ones (the
    recently closed, for the map's other status filters): rows roll_up takes, with the open cells too."""
    return [tuple(int(v) for v in r) for r in session.execute(_counted(session, grid, conds))]  # type: ignore[misc]


def _pending(session: Session, grid: Grid, source: Any, *, zoom: bool = False) -> Any:
    """Deltas of `source` (the table, or the rows a DELETE returned) summed per (cell, service);
    `zoom`: the grid's zoom first, as map_cells keeps it."""
    c = source.c
    gx, gy = spatial.grid_cell_keys(session, c.lat, c.lon, grid.cell_lon, grid.cell_lat)
    gx, gy = gx.label("gx"), gy.label("gy")
    return (
        select(
            *([literal(grid.zoom).label("zoom")] if zoom else []),
            gx,
            gy,
            c.service_id,
            # Cast: PostgreSQL sums bigints as numeric, which would make the whole union Decimal.
            func.sum(c.dn).cast(BigInteger).label("n"),
            func.sum(c.dn * _e7(c.lat)).cast(BigInteger).label("sum_lat_e7"),
            func.sum(c.dn * _e7(c.lon)).cast(BigInteger).label("sum_lon_e7"),
            func.sum(c.dn * c.ticket_id).cast(BigInteger).label("sum_id"),
            func.count().label("rows"),
        )
        .where(_in_box(c.lat, c.lon, grid.box))
        .group_by(gx, gy, c.service_id)
    )


def compact_map_cells(session: Session, grid: Grid) -> None:
    """Fold the pending deltas into map_cells; concurrent compactions never fold one delta twice."""
    d = MapCellDelta.__table__
    if session.get_bind().dialect.name == "postgresql":
        # Only the deltas this statement deletes are folded: another compaction's DELETE took the rest.
        moved = delete(d).returning(d.c.service_id, d.c.dn, d.c.lat, d.c.lon, d.c.ticket_id).cte("moved")
        both = union_all(*(_pending(session, g, moved, zoom=True) for g in grid.kept()))
        rows = [tuple(r[:8]) for r in session.execute(both)]
    else:
        begin_write(session)  # the write lock first: a second compaction waits, then finds nothing
        both = union_all(*(_pending(session, g, d, zoom=True) for g in grid.kept()))
        rows = [tuple(r[:8]) for r in session.execute(both)]
        session.execute(delete(d))
    _upsert(session, sorted(rows))  # sorted: concurrent upserts lock the cells in one order
    session.execute(delete(MapCell).where(MapCell.n == 0))
    session.flush()


def _upsert(session: Session, rows: list[tuple[Any, ...]]) -> None:
    if not rows:
        return
    keys = ("zoom", "gx", "gy", "service_id", "n", "sum_lat_e7", "sum_lon_e7", "sum_id")
    values = [dict(zip(keys, r, strict=True)) for r in rows]
    dialect = session.get_bind().dialect.name
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(MapCell).values(values)
    excluded = stmt.excluded
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["zoom", "gx", "gy", "service_id"],
            set_={
                "n": MapCell.n + excluded.n,
                "sum_lat_e7": MapCell.sum_lat_e7 + excluded.sum_lat_e7,
                "sum_lon_e7": MapCell.sum_lon_e7 + excluded.sum_lon_e7,
                "sum_id": MapCell.sum_id + excluded.sum_id,
            },
        )
    )


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
        box = (
            gx0 * grid.cell_lon - 180.0,
            gy0 * grid.cell_lat - 90.0,
            (gx1 + 1) * grid.cell_lon - 180.0,
            (gy1 + 1) * grid.cell_lat - 90.0,
        )
        pending = pending.where(_in_box(d.lat, d.lon, box))
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
    if not _grid_matches(session, grid):
        rebuild_map_cells(session, grid)
    cells, pending = read_open_cells(session, grid)
    if pending >= COMPACT_AT:
        compact_map_cells(session, grid)
    return cells


def rolled_open_cells(
    session: Session, grid: Grid, zoom: int, service_ids: set[int], view: Bbox | None = None
) -> list[CellRow]:
    """The open map's cells at a zoom <= FINE_ZOOM for these services, merged by the database from the
    city grid's cells (or the fine grid's, above the city grid's zoom): what roll_up(open_cells(...))
    gives, without reading every kept cell into Python first (at 1M tickets, reading and merging tens of
    thousands of cells took ~100 ms after each change of the data).
    `view`: only the cells at `zoom` that it touches (whole cells: a cluster's centre decides)."""
    if not service_ids:
        return []
    if not _grid_matches(session, grid):
        rebuild_map_cells(session, grid)
    elif (session.scalar(select(func.count()).select_from(MapCellDelta)) or 0) >= COMPACT_AT:
        compact_map_cells(session, grid)
    level = grid.kept()[1] if zoom > grid.zoom else grid
    shift = level.zoom - zoom
    cells = level.cells_under(zoom, view) if view is not None else None
    c = _kept_and_pending(session, level, cells).subquery().c
    gx, gy = c.gx.op(">>")(shift).label("zx"), c.gy.op(">>")(shift).label("zy")
    n = func.sum(c.n).cast(BigInteger)
    stmt = (
        select(
            gx,
            gy,
            c.service_id,
            n,
            func.sum(c.sum_lat_e7).cast(BigInteger),
            func.sum(c.sum_lon_e7).cast(BigInteger),
            func.sum(c.sum_id).cast(BigInteger),
        )
        .where(c.service_id.in_(sorted(service_ids)))
        .group_by(gx, gy, c.service_id)
        .having(n > 0)
    )
    if cells is not None:
        gx0, gy0, gx1, gy1 = cells
        stmt = stmt.where(c.gx.between(gx0, gx1), c.gy.between(gy0, gy1))
    # The "first id" of a cell matters only when it holds one ticket: then the id sum is that ticket's id.
    return [
        (int(x), int(y), int(sid), int(k), int(ids) if k == 1 else 0, int(slat) / E7, int(slon) / E7)
        for x, y, sid, k, slat, slon, ids in session.execute(stmt)
    ]


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


def roll_up(cells: list[BaseRow], grid: Grid, zoom: int, service_ids: set[int]) -> list[CellRow]:
    """The `grid`'s cells at a zoom <= the grid's for these services, as cell_rows would count them."""
    shift = grid.zoom - zoom
    acc: dict[tuple[int, int, int], list[int]] = {}
    for gx, gy, service_id, n, slat, slon, sid in cells:
        if service_id not in service_ids:
            continue
        a = acc.setdefault((gx >> shift, gy >> shift, service_id), [0, 0, 0, 0])
        a[0] += n
        a[1] += slat
        a[2] += slon
        a[3] += sid
    # The "first id" of a cell matters only when it holds one ticket: then the id sum is that ticket's id.
    return [
        (gx, gy, service_id, n, sid if n == 1 else 0, slat / E7, slon / E7)
        for (gx, gy, service_id), (n, slat, slon, sid) in acc.items()
    ]


# The city's counted cells per (database, grid, data version), and the open clusters per zoom and service
# filter, per worker process; CELL_CACHE_LOCK guards both.
OPEN_CELL_CACHE: TTLCache[Any, list[BaseRow]] = TTLCache(maxsize=8, ttl=CACHE_TTL_S)
OPEN_CLUSTER_CACHE: TTLCache[Any, list[Cluster]] = TTLCache(maxsize=64, ttl=CACHE_TTL_S)


def prepare_map_cells(session: Session, city: Bbox) -> bool:
    """Build the cells for this city's grid unless they are built (init-db, so no visitor waits for it)."""
    grid = Grid.for_city(city)
    if _grid_matches(session, grid):
        return False
    rebuild_map_cells(session, grid)
    return True
