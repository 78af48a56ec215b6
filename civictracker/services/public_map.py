"""The public map's data: viewport and filter parsing, and a bounded GeoJSON of clusters or tickets."""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, literal, literal_column, or_, select
from sqlalchemy.orm import Session

from civictracker.database import written
from civictracker.geo import spatial
from civictracker.models import Service, Ticket
from civictracker.models.transitions import values_of
from civictracker.models.types import utcnow
from civictracker.services.errors import ValidationFailed
from civictracker.services.map_cells import (
    CACHE_MAX_ZOOM,
    CELL_CACHE,
    CELL_CACHE_LOCK,
    CellRow,
    Cluster,
    cell_rows,
    cell_size,
    clusters_of,
    data_version,
)
from civictracker.services.map_grid import COARSE_ZOOM, FINE_ZOOM, Grid
from civictracker.services.map_open_cells import (
    KEPT_CLUSTER_CACHE,
    count_inside,
    ready_map_cells,
    rolled_map_cells,
)
from civictracker.services.public import CLOSED_RECENT_DAYS, MAP_CLOSED, MAP_OPEN, public_address

Bbox = tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat


class MapStatus(enum.StrEnum):
    """The map's status filter (not a ticket status): open tickets, recently closed ones, or both."""

    OPEN = "open"
    CLOSED = "closed"
    ALL = "all"


STATUS_CHOICES = tuple(MapStatus)
MAX_FEATURES = 1000  # hard cap on features in one response, clusters or points
MAX_POINTS = 400  # individual points above this are clustered instead (keeps a response < ~150 KB)
POINTS_ZOOM = 17  # from this zoom on, a viewport with few enough tickets is sent unclustered
LINE_ZOOM = 16  # from this zoom on, a street-wide ticket (snow between two corners) carries its line
MIN_ZOOM, MAX_ZOOM = 0, 22
_CODE_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class MapFilters:
    services: tuple[str, ...] = ()  # service codes; empty: all public services
    status: str = MapStatus.OPEN  # open | closed (recently) | all
    max_age_days: int | None = None  # only tickets created within this many days


@dataclass(frozen=True)
class Viewport:
    bbox: Bbox
    clipped: bool
    notice: str | None
    city: Bbox | None = None  # the city's bbox: low-zoom clusters are computed city-wide and cached


def parse_bbox(raw: str | None, city_bbox: Bbox) -> Viewport:
    """Validate `minLon,minLat,maxLon,maxLat` and clip it to the city; raises ValidationFailed."""
    if not raw:
        return Viewport(city_bbox, False, "No bbox given: the whole city is shown.", city_bbox)
    parts = raw.split(",")
    if len(parts) != 4:
        raise ValidationFailed("bbox must be four numbers: minLon,minLat,maxLon,maxLat.")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValidationFailed("bbox must be four numbers: minLon,minLat,maxLon,maxLat.") from None
    if not all(math.isfinite(v) for v in values):
        raise ValidationFailed("bbox values must be finite numbers.")
    min_lon, min_lat, max_lon, max_lat = values
    if min_lon >= max_lon or min_lat >= max_lat:
        raise ValidationFailed("bbox must have minLon < maxLon and minLat < maxLat.")
    if not (-90 <= min_lat <= 90 and -90 <= max_lat <= 90):
        raise ValidationFailed("bbox latitudes must be between -90 and 90.")
    # Longitudes beyond +/-180 happen when a map is panned around the world; clipping handles them.
    c_min_lon, c_min_lat, c_max_lon, c_max_lat = city_bbox
    clipped = (
        max(min_lon, c_min_lon),
        max(min_lat, c_min_lat),
        min(max_lon, c_max_lon),
        min(max_lat, c_max_lat),
    )
    if clipped[0] >= clipped[2] or clipped[1] >= clipped[3]:
        return Viewport(clipped, True, "The requested area is outside the city: nothing to show.", city_bbox)
    if clipped != (min_lon, min_lat, max_lon, max_lat):
        return Viewport(
            clipped,
            True,
            "The requested area extends beyond the city; it was clipped to the city.",
            city_bbox,
        )
    return Viewport(clipped, False, None, city_bbox)


def parse_filters(
    session: Session, services: list[str], status: str | None, max_age_days: str | None
) -> MapFilters:
    """Validate the map's filter parameters; unknown values are refused with a message, not ignored."""
    codes: list[str] = []
    for raw in services:
        codes.extend(c.strip() for c in raw.split(",") if c.strip())
    if codes:
        known = set(session.scalars(select(Service.code).where(Service.public.is_(True))))
        unknown = sorted(set(codes) - known)
        if unknown:
            # Echo only code-shaped values: the message must not carry a caller's markup back out.
            shown = [c for c in unknown if _CODE_RE.fullmatch(c)][:10]
            named = f": {', '.join(shown)}" if shown else ""
            raise ValidationFailed(
                f"Unknown service code(s){named}. GET /open311/v2/services.json lists them."
            )
    status = (status or MapStatus.OPEN).strip().lower()
    if status not in STATUS_CHOICES:
        raise ValidationFailed("status must be one of: open, closed, all.")
    age: int | None = None
    if max_age_days not in (None, ""):
        try:
            age = int(str(max_age_days))
        except ValueError:
            raise ValidationFailed("max_age_days must be a whole number of days.") from None
        if not 1 <= age <= 3650:
            raise ValidationFailed("max_age_days must be between 1 and 3650.")
    return MapFilters(services=tuple(sorted(set(codes))), status=status, max_age_days=age)


def filter_conditions(
    session: Session, filters: MapFilters, now: dt.datetime, *, indexed: bool = True
) -> list[ColumnElement[bool]]:
    """The filter as conditions on tickets. indexed=False (SQLite only): each column written `+column`,
    which SQLite's planner never answers from an index, so a walk of the newest tickets reads them by id
    (the rowid range) rather than every open ticket by status."""

    def col(column: Any) -> Any:
        return column if indexed else literal_column(f"+tickets.{column.key}", column.type)

    status, closed_at = col(Ticket.status), col(Ticket.closed_at)
    conds: list[ColumnElement[bool]] = [col(Ticket.public_lat).is_not(None)]
    recent = now - dt.timedelta(days=CLOSED_RECENT_DAYS)
    open_cond = status.in_(written(values_of(MAP_OPEN)))
    # The time written in, too: a statement bound to a moving time is prepared after five runs, and
    # PostgreSQL's generic plan for it sorted every closed ticket (1.8 s at 1M, against 0.1 s).
    closed_cond = and_(
        status.in_(written(s.value for s in MAP_CLOSED)),
        closed_at >= literal(recent, Ticket.closed_at.type, literal_execute=True),
    )
    if filters.status == MapStatus.OPEN:
        conds.append(open_cond)
    elif filters.status == MapStatus.CLOSED:
        conds.append(closed_cond)
    else:
        conds.append(or_(open_cond, closed_cond))
    if filters.max_age_days:
        conds.append(col(Ticket.created_at) >= now - dt.timedelta(days=filters.max_age_days))
    services = _service_ids(session, filters.services)
    conds.append(col(Ticket.service_id).in_(services))
    return conds


def in_view(
    session: Session, bbox: Bbox, filters: MapFilters, now: dt.datetime, *, newest_first: bool = False
) -> ColumnElement[bool]:
    """Tickets in the box, asked of an index of the tickets the filter can show, never of one of every
    ticket ever made (a street-level view of a busy street holds tens of thousands).

    Open: the covering index ix_tickets_public_map (status, lon, lat, service) answers from the index
    alone, faster than an R*Tree whose every row must then be read (SQLite: 38 against 66 ms for 17,000
    open tickets in view), and PostgreSQL, offered its GiST index too, ANDed in one of every ticket.
    Recently closed (or both): SQLite asks the map's R*Tree by closing day (spatial.MAP_CLOSED_SINCE),
    since the closing time is in no covering index; PostgreSQL its partial GiST index of the closed
    tickets by closing time and place. `newest_first` (the list: the newest few in view): PostgreSQL is
    offered its GiST index as well, or its planner walks every ticket back from the newest for a view that
    holds none (143 ms at 1M)."""
    status = MapStatus(filters.status)
    since = (now - dt.timedelta(days=CLOSED_RECENT_DAYS)).astimezone(dt.UTC)
    # to the second, earlier than the exact test's time: the index never drops a row that test keeps
    params = {"map_since": since.strftime("%Y-%m-%d %H:%M:%S")}
    rtree = spatial.MAP_CLOSED_SINCE if status == MapStatus.CLOSED else spatial.MAP_OPEN_OR_CLOSED_SINCE
    return spatial.within_bbox_points(
        session,
        Ticket.public_location,
        Ticket.public_lat,
        Ticket.public_lon,
        "tickets",
        bbox,
        use_index=status != MapStatus.OPEN or (newest_first and spatial.dialect_of(session) == "postgresql"),
        rtree=(rtree, params),
    )


def _service_ids(session: Session, codes: tuple[str, ...]) -> list[int]:
    stmt = select(Service.id).where(Service.public.is_(True))
    if codes:
        stmt = stmt.where(Service.code.in_(codes))
    return list(session.scalars(stmt))


def map_geojson(
    session: Session,
    viewport: Viewport,
    zoom: int,
    filters: MapFilters,
    *,
    ticket_url: str = "/tickets/{id}",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """A bounded FeatureCollection for the viewport: clusters (count, dominant service) or single tickets."""
    now = now or utcnow()
    collection: dict[str, Any] = {
        "type": "FeatureCollection",
        "features": [],
        "bbox": [round(v, 6) for v in viewport.bbox],
        "zoom": zoom,
        "mode": "clusters",
        "total": 0,
        "truncated": False,
    }
    if viewport.notice:
        collection["notice"] = viewport.notice
    min_lon, min_lat, max_lon, max_lat = viewport.bbox
    if min_lon >= max_lon or min_lat >= max_lat:
        return collection
    zoom = max(MIN_ZOOM, min(MAX_ZOOM, zoom))
    conds = filter_conditions(session, filters, now)
    view_cond = in_view(session, viewport.bbox, filters, now)
    codes = codes_of(session)
    lines = zoom >= LINE_ZOOM
    street: list[CellRow] | None = None  # the kept cells under the view, merged to this zoom
    surely_many = False
    city = viewport.city if _on_grid(filters) else None  # None: the tickets are counted, not the cells
    # Above the coarse grid's zoom, only the cells under the view are read: a city-wide read at zoom 14-15
    # merges 13,000 cells at 1M tickets (150 ms) for a view of a few hundred. Up to zoom 13 the city's
    # clusters come from the coarse grid in one cheap read, cached for every pan at that zoom.
    if city is not None and COARSE_ZOOM < zoom <= FINE_ZOOM and _few_cells(viewport, zoom):
        services = set(_service_ids(session, filters.services))
        grid = Grid.for_city(city)
        ready_map_cells(session, grid, now)
        street = _kept_rows(session, grid, zoom, services, filters.status, now, viewport.bbox)
        # the cells wholly in view already hold more tickets than are sent as points: no point read
        surely_many = zoom >= POINTS_ZOOM and count_inside(street, grid.at(zoom), viewport.bbox) > MAX_POINTS
    if zoom >= POINTS_ZOOM and not surely_many:
        rows = point_rows(session, [*conds, view_cond], MAX_POINTS + 1, lines=lines)
        if len(rows) <= MAX_POINTS:
            collection["mode"] = "points"
            collection["total"] = len(rows)
            collection["features"] = [_point_feature(r, codes, ticket_url) for r in rows]
            return collection
    if street is not None:
        clusters = [c for c in clusters_of(street) if c.inside(viewport.bbox)]
    elif zoom <= CACHE_MAX_ZOOM and city is not None:
        services = set(_service_ids(session, filters.services))
        clusters = _grid_clusters(session, zoom, services, filters.status, city, viewport.bbox, now)
    elif zoom <= CACHE_MAX_ZOOM and viewport.city is not None:
        in_city = in_view(session, viewport.city, filters, now)
        clusters = _city_clusters(session, [*conds, in_city], zoom, filters, viewport.city, viewport.bbox)
    else:
        clusters = _view_clusters(session, [*conds, view_cond], zoom, viewport.bbox)
    # the biggest first; single tickets by id, so the ones drawn as points (MAX_POINTS) are the same
    # whichever way the cells were counted
    ordered = sorted(clusters, key=lambda c: (-c.n, c.first if c.n == 1 else 0))
    collection["total"] = sum(c.n for c in ordered)
    if len(ordered) > MAX_FEATURES:
        collection["truncated"] = True
        ordered = ordered[:MAX_FEATURES]
    collection["features"] = _cluster_features(session, ordered, codes, ticket_url, lines=lines)
    return collection


def _cells_in_view(view: Bbox, zoom: int) -> tuple[float, float, float]:
    """(cell lon, cell lat) in degrees at this zoom and the view's latitude, and the cells in the view."""
    min_lon, min_lat, max_lon, max_lat = view
    cell_lon, cell_lat = cell_size(zoom, (min_lat + max_lat) / 2)
    return cell_lon, cell_lat, ((max_lon - min_lon) / cell_lon) * ((max_lat - min_lat) / cell_lat)


def _few_cells(viewport: Viewport, zoom: int) -> bool:
    """The view holds no more cells of this zoom than a response may carry (else _view_clusters coarsens)."""
    return _cells_in_view(viewport.bbox, zoom)[2] <= MAX_FEATURES


def _on_grid(filters: MapFilters) -> bool:
    """Tickets of any age: counted from the cells the triggers keep (open ones per cell, closed ones per
    cell and closing day); the age filter depends on the clock in a way no kept cell follows."""
    return not filters.max_age_days


def _kept_rows(
    session: Session,
    grid: Grid,
    zoom: int,
    services: set[int],
    status: str,
    now: dt.datetime,
    view: Bbox | None = None,
) -> list[CellRow]:
    """The kept cells for this status at `zoom`, merged by the database: open, recently closed, or both in
    one statement, one row per cell (its most frequent service and totals: clusters_of makes a Cluster
    whose `by` holds that service alone, which is all _cluster_features asks of it). A cell's first id
    matters only when it holds one ticket; the window is what filter_conditions asks of closed_at.
    `view`: only the cells at `zoom` that it touches."""
    return rolled_map_cells(session, grid, zoom, services, status, now, view)


def _grid_clusters(
    session: Session,
    zoom: int,
    services: set[int],
    status: str,
    city: Bbox,
    view: Bbox,
    now: dt.datetime,
) -> list[Cluster]:
    """The clusters whose centre is in view, from the cells the triggers keep (no ticket scan).

    The database merges the kept cells of the city per zoom, status and service filter (see _kept_rows);
    the clusters are cached per data version. The recently closed ones follow the clock within the cache's
    minute (CACHE_TTL_S), as the city-wide counts always did."""
    grid = Grid.for_city(city)
    url = str(session.get_bind().engine.url)
    version = data_version(session)  # before the data: a newer answer under an older version, never older
    key = (url, grid, version, zoom, status, tuple(sorted(services)))
    with CELL_CACHE_LOCK:
        clusters = KEPT_CLUSTER_CACHE.get(key)
    if clusters is None:
        ready_map_cells(session, grid, now)
        clusters = clusters_of(_kept_rows(session, grid, zoom, services, status, now))
        with CELL_CACHE_LOCK:
            KEPT_CLUSTER_CACHE[key] = clusters
    return [c for c in clusters if c.inside(view)]


def _city_clusters(
    session: Session,
    conds: list[ColumnElement[bool]],
    zoom: int,
    filters: MapFilters,
    city: Bbox,
    view: Bbox,
) -> list[Cluster]:
    """The clusters whose centre is in view, from cells computed city-wide and cached. `conds` hold the
    filter and the city's box (see in_view: the closed tickets are read through the map's own index).

    At a low zoom the viewport is a large share of the city, so one city-wide read serves every pan at
    this zoom; it is cached until the tickets change (or CACHE_TTL_S passes, for the age filter).
    """
    cell_lon, cell_lat = cell_size(zoom, (city[1] + city[3]) / 2)
    key = (str(session.get_bind().engine.url), zoom, filters, data_version(session))
    with CELL_CACHE_LOCK:
        rows = CELL_CACHE.get(key)
    if rows is None:
        rows = cell_rows(session, conds, cell_lon, cell_lat)
        with CELL_CACHE_LOCK:
            CELL_CACHE[key] = rows
    return [c for c in clusters_of(rows) if c.inside(view)]


def _view_clusters(
    session: Session, conds: list[ColumnElement[bool]], zoom: int, view: Bbox
) -> list[Cluster]:
    """The clusters of the viewport's own cells (a high zoom, or no city bbox to cache by)."""
    cell_lon, cell_lat, cells = _cells_in_view(view, zoom)
    # A huge bbox at a high zoom (a client asking for too much) gets coarser cells, not more of them.
    if cells > MAX_FEATURES:
        scale = math.sqrt(cells / MAX_FEATURES) * 1.05
        cell_lon, cell_lat = cell_lon * scale, cell_lat * scale
    return clusters_of(cell_rows(session, conds, cell_lon, cell_lat))


def _cluster_features(
    session: Session, ordered: list[Cluster], codes: dict[int, str], ticket_url: str, *, lines: bool = False
) -> list[dict[str, Any]]:
    # A cell holding a single ticket is drawn as that ticket, so sparse areas show real markers.
    singles = [c.first for c in ordered if c.n == 1][:MAX_POINTS]
    single_rows = (
        {r.id: r for r in point_rows(session, [Ticket.id.in_(singles)], len(singles), lines=lines)}
        if singles
        else {}
    )
    features = []
    for c in ordered:
        if c.n == 1 and c.first in single_rows:
            features.append(_point_feature(single_rows[c.first], codes, ticket_url))
            continue
        # A tie goes to the lowest service id: the same answer whatever order the database grouped in.
        dominant = max(c.by.items(), key=lambda kv: (kv[1], -kv[0]))[0]
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(c.lon / c.n, 5), round(c.lat / c.n, 5)],
                },
                "properties": {"cluster": True, "count": c.n, "service": codes.get(dominant, "other")},
            }
        )
    return features


def point_rows(
    session: Session, conds: list[ColumnElement[bool]], limit: int, *, lines: bool = False
) -> list[Any]:
    # The street line only of a ticket whose place is public: a private one shows at block level.
    line = (
        case((Ticket.private_location.is_(False), spatial.line_wkt(Ticket.location_line)), else_=None)
        if lines
        else literal(None)
    )
    stmt = (
        select(
            Ticket.id,
            Ticket.service_id,
            Ticket.status,
            Ticket.public_lat,
            Ticket.public_lon,
            Ticket.address,
            Ticket.street,
            Ticket.private_location,
            Ticket.created_at,
            Service.name.label("service_name"),
            line.label("line_wkt"),
        )
        .join(Service, Service.id == Ticket.service_id)
        .where(*conds)
        .order_by(Ticket.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).all())


def _point_feature(row: Any, codes: dict[int, str], ticket_url: str) -> dict[str, Any]:
    place = public_address(row.address, row.street, row.private_location)
    title = f"{row.service_name} · {place}" if place else row.service_name
    props: dict[str, Any] = {
        "id": row.id,
        "service": codes.get(row.service_id, "other"),
        "status": row.status,
        "title": title,
        "url": ticket_url.format(id=row.id),
    }
    line = spatial.parse_linestring(row.line_wkt)
    if line:
        # A street-wide ticket (a whole street, or a stretch between two corners): drawn as its line.
        props["line"] = [[round(lon, 5), round(lat, 5)] for lon, lat in line]
    return {
        "type": "Feature",
        "geometry": {
            "type": "Point",
            "coordinates": [round(float(row.public_lon), 5), round(float(row.public_lat), 5)],
        },
        "properties": props,
    }


def codes_of(session: Session) -> dict[int, str]:
    """Service id -> code (a catalog is a few dozen rows)."""
    return {r.id: r.code for r in session.execute(select(Service.id, Service.code))}
