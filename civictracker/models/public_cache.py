"""Tables kept by database triggers for fast public reads: a data version and the map's ticket cells."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Index, Integer
from sqlalchemy.orm import Mapped, mapped_column

from civictracker.extensions import db

# The triggers live in the migration (2026_12_06_9a7c3e5b1d20_public_read_cache): on tickets (insert,
# update, delete; PostgreSQL also truncate), ticket_events and services; the closing day's deltas in
# 2026_12_08_e4c8a1f5b9d3_map_closed_cells. Python never writes public_data_version or map_cell_deltas;
# services/map_open_cells.py folds deltas into map_cells and map_closed_cells.
VERSION_SLOTS = 32  # PostgreSQL bumps a slot no other transaction holds: concurrent writers never queue


class PublicDataVersion(db.Model):  # type: ignore[name-defined,misc]
    """Counters bumped by every write to tickets, ticket_events and services; their sum is the version."""

    __tablename__ = "public_data_version"

    slot: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger, default=0)


class MapGrid(db.Model):  # type: ignore[name-defined,misc]
    """The city grid map_cells is counted on (zoom 15; the street-level grid is it at zoom 17) and its box.

    One row (id 1); all NULL until the first map request builds the cells for its city."""

    __tablename__ = "map_grid"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cell_lon: Mapped[float | None] = mapped_column(Float, default=None)
    cell_lat: Mapped[float | None] = mapped_column(Float, default=None)
    min_lon: Mapped[float | None] = mapped_column(Float, default=None)
    min_lat: Mapped[float | None] = mapped_column(Float, default=None)
    max_lon: Mapped[float | None] = mapped_column(Float, default=None)
    max_lat: Mapped[float | None] = mapped_column(Float, default=None)
    # map_recent_cells holds the closed tickets of the days after this one (days since 1970-01-01): the
    # map's window of recently closed tickets as of that day; NULL until built
    recent_after_day: Mapped[int | None] = mapped_column(Integer, default=None)


class MapCell(db.Model):  # type: ignore[name-defined,misc]
    """Open tickets on the public map per (grid cell, service): count and integer sums (degrees x 1e7).

    Integer sums add and subtract without drift; sum_id is the ticket's id when the cell holds one."""

    __tablename__ = "map_cells"

    # the grid's zoom: the city grid's (CACHE_MAX_ZOOM) and the street-level one's (services/map_open_cells)
    zoom: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    gx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    gy: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, default=0)
    sum_lat_e7: Mapped[int] = mapped_column(BigInteger, default=0)
    sum_lon_e7: Mapped[int] = mapped_column(BigInteger, default=0)
    sum_id: Mapped[int] = mapped_column(BigInteger, default=0)


class MapClosedCell(db.Model):  # type: ignore[name-defined,misc]
    """Closed tickets on the public map per (grid cell, service, UTC day of closing), as MapCell counts the
    open ones: "closed in the last N days" sums N days' rows per cell instead of reading the tickets.

    Only the days the map can ask for are kept (services/map_closed_cells.KEEP_DAYS); older ones are
    pruned."""

    __tablename__ = "map_closed_cells"
    # the pruning of old days
    __table_args__ = (Index("ix_map_closed_cells_day", "day"),)

    zoom: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    gx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    gy: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    day: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)  # days since 1970-01-01
    n: Mapped[int] = mapped_column(Integer, default=0)
    sum_lat_e7: Mapped[int] = mapped_column(BigInteger, default=0)
    sum_lon_e7: Mapped[int] = mapped_column(BigInteger, default=0)
    sum_id: Mapped[int] = mapped_column(BigInteger, default=0)


class MapRecentCell(db.Model):  # type: ignore[name-defined,misc]
    """map_closed_cells' rows of the days after map_grid.recent_after_day summed per (zoom, cell, service):
    the map's window of recently closed tickets in one row per cell and service, as MapCell holds the
    open ones, slid a day at a time (services/map_recent_cells.py)."""

    __tablename__ = "map_recent_cells"

    zoom: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    gx: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    gy: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    service_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(Integer, default=0)
    sum_lat_e7: Mapped[int] = mapped_column(BigInteger, default=0)
    sum_lon_e7: Mapped[int] = mapped_column(BigInteger, default=0)
    sum_id: Mapped[int] = mapped_column(BigInteger, default=0)


class MapCellDelta(db.Model):  # type: ignore[name-defined,misc]
    """A ticket entering (+1) or leaving (-1) the open map (day NULL) or the closed map (day: the UTC day it
    was closed, days since 1970-01-01), appended by a trigger; inserts never contend."""

    __tablename__ = "map_cell_deltas"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    service_id: Mapped[int] = mapped_column(Integer)
    dn: Mapped[int] = mapped_column(Integer)
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    ticket_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[int | None] = mapped_column(Integer, default=None)
