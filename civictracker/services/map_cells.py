"""The map's grid cells: ticket counts per cell in SQL, a city-wide cache of them, their clusters."""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from typing import Any

from cachetools import TTLCache
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from civictracker.geo import spatial
from civictracker.models import Ticket
from civictracker.services.public_version import public_data_version

CELL_PX = 64  # cluster cell size on screen
CellRow = tuple[int, int, int, int, int, float, float]  # gx, gy, service_id, count, min id, sum lat, sum lon
CACHE_MAX_ZOOM = 15  # up to this zoom, clusters are computed city-wide and cached
CACHE_TTL_S = 60.0


def cell_size(zoom: int, lat: float) -> tuple[float, float]:
    """Degrees of (lon, lat) covered by CELL_PX screen pixels at this Web Mercator zoom and latitude."""
    lon_deg = CELL_PX * 360.0 / (256 * 2**zoom)
    return lon_deg, lon_deg * math.cos(math.radians(lat))


# City-wide cell counts per (database, zoom, filters, data version): an LRU whose entries also expire,
# kept per worker process (good enough for a map). cachetools' caches are not thread-safe: hence the lock.
CELL_CACHE: TTLCache[Any, list[CellRow]] = TTLCache(maxsize=64, ttl=CACHE_TTL_S)
CELL_CACHE_LOCK = threading.Lock()


def data_version(session: Session) -> int:
    """The public data version (O(1): counters bumped by triggers), the key of every cached cell list."""
    return public_data_version(session)


def cell_rows(
    session: Session, conds: list[ColumnElement[bool]], cell_lon: float, cell_lat: float
) -> list[CellRow]:
    """Counts per (grid cell, service), with the first id and coordinate sums for the centroid."""
    gx, gy = spatial.grid_cell_keys(session, Ticket.public_lat, Ticket.public_lon, cell_lon, cell_lat)
    gx, gy = gx.label("gx"), gy.label("gy")
    stmt = (
        select(
            gx,
            gy,
            Ticket.service_id,
            func.count(),
            func.min(Ticket.id),
            func.sum(Ticket.public_lat),
            func.sum(Ticket.public_lon),
        )
        .where(*conds)
        .group_by(gx, gy, Ticket.service_id)
    )
    rows = session.execute(stmt)
    return [
        (int(a), int(b), int(c), int(d), int(e), float(f or 0), float(g or 0)) for a, b, c, d, e, f, g in rows
    ]


@dataclass
class Cluster:
    """One grid cell summed over services: its tickets, coordinate sums, count per service (or, from rows
    the database merged per cell, its most frequent service alone), lowest id."""

    first: int
    n: int = 0
    lat: float = 0.0
    lon: float = 0.0
    by: dict[int, int] = field(default_factory=dict)

    def inside(self, bbox: tuple[float, float, float, float]) -> bool:
        min_lon, min_lat, max_lon, max_lat = bbox
        return min_lon <= self.lon / self.n <= max_lon and min_lat <= self.lat / self.n <= max_lat


def clusters_of(rows: list[CellRow]) -> list[Cluster]:
    """The cells of `cell_rows`, each summed over its services, in the order the rows first name them."""
    clusters: dict[tuple[int, int], Cluster] = {}
    for gx, gy, service_id, n, first_id, sum_lat, sum_lon in rows:
        c = clusters.get((gx, gy))
        if c is None:  # one Cluster per cell, not one per row (13,000 rows at zoom 15 over a big city)
            clusters[gx, gy] = Cluster(first_id, n, sum_lat, sum_lon, {service_id: n})
            continue
        c.n += n
        c.lat += sum_lat
        c.lon += sum_lon
        c.by[service_id] = c.by.get(service_id, 0) + n
        c.first = min(c.first, first_id)
    return list(clusters.values())
