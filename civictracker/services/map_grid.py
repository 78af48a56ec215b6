"""The grids the map's kept cells are counted on: cell keys, and the integer sums they add up."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, and_, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from civictracker.geo import spatial
from civictracker.models import Ticket
from civictracker.services.map_cells import CACHE_MAX_ZOOM, CellRow, cell_size

Bbox = tuple[float, float, float, float]
BaseRow = tuple[int, int, int, int, int, int, int]  # gx, gy, service_id, n, sum lat e7, sum lon e7, sum id
E7 = 10_000_000.0
# The cells are kept at three zooms: the city grid's (CACHE_MAX_ZOOM, merged for 14-15), a finer one for
# street-level views, so a view of a busy street reads a few hundred cells, not the tens of thousands of
# tickets in it (half of 1M tickets on one street: 250-500 ms per uncached view at zoom 16 counting
# tickets), and a coarser one merged for every zoom up to 13, the map's first view: at 1M tickets its
# cells are a twelfth of the city grid's (1,100 against 13,000 open; 19,000 against 47,000 closed by day).
FINE_ZOOM = 17
COARSE_ZOOM = 13


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

    def kept(self) -> tuple[Grid, Grid, Grid]:
        """The grids the cells are kept on for this city grid: the coarse one, its own, the street one."""
        return (
            self.at(self.zoom + COARSE_ZOOM - CACHE_MAX_ZOOM),
            self,
            self.at(self.zoom + FINE_ZOOM - CACHE_MAX_ZOOM),
        )

    def level_for(self, zoom: int) -> Grid:
        """The kept grid a view at `zoom` (<= FINE_ZOOM) merges its cells from: the coarsest one that is
        no coarser than `zoom`."""
        coarse, own, fine = self.kept()
        return fine if zoom > own.zoom else own if zoom > coarse.zoom else coarse

    def cells_under(self, zoom: int, view: Bbox) -> tuple[int, int, int, int]:
        """(gx0, gy0, gx1, gy1): this grid's cells inside the cells of `zoom` that `view` touches."""
        shift = self.zoom - zoom
        span_lon, span_lat = self.cell_lon * (1 << shift), self.cell_lat * (1 << shift)
        min_lon, min_lat, max_lon, max_lat = view
        x0, x1 = math.floor((min_lon + 180.0) / span_lon), math.floor((max_lon + 180.0) / span_lon)
        y0, y1 = math.floor((min_lat + 90.0) / span_lat), math.floor((max_lat + 90.0) / span_lat)
        return x0 << shift, y0 << shift, ((x1 + 1) << shift) - 1, ((y1 + 1) << shift) - 1

    def cells_box(self, cells: tuple[int, int, int, int]) -> Bbox:
        """The edges of the cells (gx0, gy0, gx1, gy1) of this grid."""
        gx0, gy0, gx1, gy1 = cells
        return (
            gx0 * self.cell_lon - 180.0,
            gy0 * self.cell_lat - 90.0,
            (gx1 + 1) * self.cell_lon - 180.0,
            (gy1 + 1) * self.cell_lat - 90.0,
        )


def in_box(lat: Any, lon: Any, box: Bbox) -> ColumnElement[bool]:
    min_lon, min_lat, max_lon, max_lat = box
    return and_(lon >= min_lon, lon <= max_lon, lat >= min_lat, lat <= max_lat)


def e7(column: Any) -> ColumnElement[int]:
    # The same expression wherever a point is added or taken away, so the integer sums cancel exactly.
    return func.round(column * E7).cast(BigInteger)


def delta_sums(
    session: Session, grid: Grid, c: Any
) -> tuple[ColumnElement[int], ColumnElement[int], list[Any]]:
    """The cells of `grid` that delta rows `c` fall in, and their signed count and integer sums to add up."""
    gx, gy = spatial.grid_cell_keys(session, c.lat, c.lon, grid.cell_lon, grid.cell_lat)
    # Cast: PostgreSQL sums bigints as numeric, which would make a whole union Decimal.
    sums = [
        func.sum(c.dn).cast(BigInteger).label("n"),
        func.sum(c.dn * e7(c.lat)).cast(BigInteger).label("sum_lat_e7"),
        func.sum(c.dn * e7(c.lon)).cast(BigInteger).label("sum_lon_e7"),
        func.sum(c.dn * c.ticket_id).cast(BigInteger).label("sum_id"),
    ]
    return gx, gy, sums


def ticket_cells(session: Session, grid: Grid) -> tuple[ColumnElement[int], ColumnElement[int]]:
    """The cell of `grid` each ticket's public point falls in."""
    return spatial.grid_cell_keys(session, Ticket.public_lat, Ticket.public_lon, grid.cell_lon, grid.cell_lat)


def ticket_sums() -> list[Any]:
    """A group of tickets' count and integer sums, as the kept cells hold them (SUMS)."""
    # Cast: PostgreSQL sums bigints as numeric, which would make a whole union Decimal.
    return [
        func.count().cast(BigInteger).label("n"),
        func.sum(e7(Ticket.public_lat)).cast(BigInteger).label("sum_lat_e7"),
        func.sum(e7(Ticket.public_lon)).cast(BigInteger).label("sum_lon_e7"),
        func.sum(Ticket.id).cast(BigInteger).label("sum_id"),
    ]


def placed_in(box: Bbox) -> list[ColumnElement[bool]]:
    """The tickets the map places in `box` (a public point inside it)."""
    return [
        Ticket.public_lat.is_not(None),
        Ticket.public_lon.is_not(None),
        in_box(Ticket.public_lat, Ticket.public_lon, box),
    ]


SUMS = ("n", "sum_lat_e7", "sum_lon_e7", "sum_id")  # what a kept cell adds up, after its key columns


def add_to_cells(session: Session, model: Any, key: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Add rows (the `key` columns, then SUMS) to a kept-cells table: a new key is inserted, a known one
    has its counts and sums increased (one upsert statement; the caller sorts rows for a lock order)."""
    if not rows:
        return
    values = [dict(zip((*key, *SUMS), r, strict=True)) for r in rows]
    dialect = session.get_bind().dialect.name
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model).values(values)
    added = {name: getattr(model, name) + getattr(stmt.excluded, name) for name in SUMS}
    session.execute(stmt.on_conflict_do_update(index_elements=list(key), set_=added))


def rolled_rows(
    session: Session,
    c: Any,
    shift: int,
    service_ids: set[int],
    cells: tuple[int, int, int, int] | None,
    *,
    by_cell: bool = False,
) -> list[CellRow]:
    """Rows `c` (gx, gy, service_id, n and sums: kept cells and pending deltas of one grid) merged by the
    database into the cells `shift` zoom levels coarser, for these services; `cells` (gx0, gy0, gx1, gy1
    of the rows' grid): only those. `by_cell`: one row per cell, its services merged too: the service_id
    is the cell's most frequent one (a tie to the lowest id, as the map draws it) and the count and sums
    are the whole cell's (the city at zoom 15: 950 rows, not 14,000 for Python to fetch and add up)."""
    zx, zy = c.gx.op(">>")(shift).label("zx"), c.gy.op(">>")(shift).label("zy")
    n = func.sum(c.n).cast(BigInteger)
    stmt = (
        select(
            zx,
            zy,
            c.service_id,
            n.label("n"),
            func.sum(c.sum_lat_e7).cast(BigInteger).label("sum_lat_e7"),
            func.sum(c.sum_lon_e7).cast(BigInteger).label("sum_lon_e7"),
            func.sum(c.sum_id).cast(BigInteger).label("sum_id"),
        )
        .where(c.service_id.in_(sorted(service_ids)))
        .group_by(zx, zy, c.service_id)
        .having(n > 0)
    )
    if cells is not None:
        stmt = stmt.where(c.gx.between(cells[0], cells[2]), c.gy.between(cells[1], cells[3]))
    if by_cell:
        stmt = _merged_services(stmt.subquery())
    # The "first id" of a cell matters only when it holds one ticket: then the id sum is that ticket's id.
    # Core rows, not the ORM's (a third of the time for 13,000 rows): the callers flushed the session.
    return [
        (x, y, sid, k, ids if k == 1 else 0, slat / E7, slon / E7)
        for x, y, sid, k, slat, slon, ids in session.connection().execute(stmt).all()
    ]


def _merged_services(per: Any) -> Any:
    """Rows per (cell, service) `per` as one row per cell: its most frequent service and its totals."""
    cell = (per.c.zx, per.c.zy)

    def total(column: Any) -> Any:
        return func.sum(column).over(partition_by=cell).cast(BigInteger)

    ranked = select(
        per.c.zx,
        per.c.zy,
        per.c.service_id,
        total(per.c.n).label("n"),
        total(per.c.sum_lat_e7).label("sum_lat_e7"),
        total(per.c.sum_lon_e7).label("sum_lon_e7"),
        total(per.c.sum_id).label("sum_id"),
        func.row_number().over(partition_by=cell, order_by=(per.c.n.desc(), per.c.service_id)).label("rank"),
    ).subquery()
    r = ranked.c
    return select(r.zx, r.zy, r.service_id, r.n, r.sum_lat_e7, r.sum_lon_e7, r.sum_id).where(r.rank == 1)
