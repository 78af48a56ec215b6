"""Public read-side queries: the map's viewport GeoJSON (grid-clustered) and one ticket's public view."""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from cachetools import TTLCache
from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from civictracker.geo import spatial
from civictracker.models import Service, Ticket, TicketEvent, TicketStatus
from civictracker.models.ticket import PUBLIC_STATUSES
from civictracker.models.types import utcnow
from civictracker.services.errors import ValidationFailed

log = logging.getLogger(__name__)
S = TicketStatus

Bbox = tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat

# What the map calls "open" and "closed": duplicates are drawn once, on the ticket they were merged into.
MAP_OPEN = (S.OPEN, S.ACKNOWLEDGED, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED)
MAP_CLOSED = (S.RESOLVED, S.CLOSED, S.REFERRED)
STATUS_CHOICES = ("open", "closed", "all")
CLOSED_RECENT_DAYS = 30  # "closed" on the map means closed recently; old history belongs to Open311

STATUS_LABELS: dict[str, str] = {
    S.OPEN: "Open",
    S.ACKNOWLEDGED: "Acknowledged",
    S.ASSIGNED: "Crew assigned",
    S.IN_PROGRESS: "In progress",
    S.REOPENED: "Reopened",
    S.RESOLVED: "Resolved",
    S.CLOSED: "Closed",
    S.DUPLICATE: "Merged (duplicate)",
    S.REFERRED: "Referred to another agency",
}

MAX_FEATURES = 1000  # hard cap on features in one response, clusters or points
MAX_POINTS = 400  # individual points above this are clustered instead (keeps a response < ~150 KB)
POINTS_ZOOM = 17  # from this zoom on, a viewport with few enough tickets is sent unclustered
CELL_PX = 64  # cluster cell size on screen
MIN_ZOOM, MAX_ZOOM = 0, 22
_CODE_RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


@dataclass(frozen=True)
class MapFilters:
    services: tuple[str, ...] = ()  # service codes; empty: all public services
    status: str = "open"  # open | closed (recently) | all
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
    status = (status or "open").strip().lower()
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


def _filter_conditions(session: Session, filters: MapFilters, now: dt.datetime) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [Ticket.public_lat.is_not(None)]
    recent = now - dt.timedelta(days=CLOSED_RECENT_DAYS)
    open_cond = Ticket.status.in_([s.value for s in MAP_OPEN])
    closed_cond = and_(Ticket.status.in_([s.value for s in MAP_CLOSED]), Ticket.closed_at >= recent)
    if filters.status == "open":
        conds.append(open_cond)
    elif filters.status == "closed":
        conds.append(closed_cond)
    else:
        conds.append(or_(open_cond, closed_cond))
    if filters.max_age_days:
        conds.append(Ticket.created_at >= now - dt.timedelta(days=filters.max_age_days))
    services = _service_ids(session, filters.services)
    conds.append(Ticket.service_id.in_(services))
    return conds


def _service_ids(session: Session, codes: tuple[str, ...]) -> list[int]:
    stmt = select(Service.id).where(Service.public.is_(True))
    if codes:
        stmt = stmt.where(Service.code.in_(codes))
    return list(session.scalars(stmt))


def cell_size(zoom: int, lat: float) -> tuple[float, float]:
    """Degrees of (lon, lat) covered by CELL_PX screen pixels at this Web Mercator zoom and latitude."""
    lon_deg = CELL_PX * 360.0 / (256 * 2**zoom)
    return lon_deg, lon_deg * math.cos(math.radians(lat))


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
    conds = _filter_conditions(session, filters, now)
    in_view = spatial.within_bbox_points(
        session, Ticket.public_location, Ticket.public_lat, Ticket.public_lon, "tickets", viewport.bbox
    )
    codes: dict[int, str] = {r.id: r.code for r in session.execute(select(Service.id, Service.code))}
    if zoom >= POINTS_ZOOM:
        rows = _point_rows(session, [*conds, in_view], MAX_POINTS + 1)
        if len(rows) <= MAX_POINTS:
            collection["mode"] = "points"
            collection["total"] = len(rows)
            collection["features"] = [_point_feature(r, codes, ticket_url) for r in rows]
            return collection
    cell_lon, cell_lat = cell_size(zoom, (min_lat + max_lat) / 2)
    if zoom <= CACHE_MAX_ZOOM and viewport.city is not None:
        # Low zoom: the viewport is a large share of the city, so one city-wide scan serves every pan at
        # this zoom; it is cached until the tickets change (or CACHE_TTL_S passes, for the age filter).
        cell_lon, cell_lat = cell_size(zoom, (viewport.city[1] + viewport.city[3]) / 2)
        city_cond = spatial.within_bbox_points(
            session,
            Ticket.public_location,
            Ticket.public_lat,
            Ticket.public_lon,
            "tickets",
            viewport.city,
            use_index=False,  # the whole city: a plain scan beats visiting the R-tree for every row
        )
        key = (str(session.get_bind().engine.url), zoom, filters, _data_version(session))
        with _CELL_CACHE_LOCK:
            cell_rows = _CELL_CACHE.get(key)
        if cell_rows is None:
            cell_rows = _cell_rows(session, [*conds, city_cond], cell_lon, cell_lat)
            with _CELL_CACHE_LOCK:
                _CELL_CACHE[key] = cell_rows
        crop = True
    else:
        # A huge bbox at a high zoom (a client asking for too much) gets coarser cells, not more of them.
        cells = ((max_lon - min_lon) / cell_lon) * ((max_lat - min_lat) / cell_lat)
        if cells > MAX_FEATURES:
            scale = math.sqrt(cells / MAX_FEATURES) * 1.05
            cell_lon, cell_lat = cell_lon * scale, cell_lat * scale
        cell_rows = _cell_rows(session, [*conds, in_view], cell_lon, cell_lat)
        crop = False
    clusters: dict[tuple[int, int], dict[str, Any]] = {}
    for gx, gy, service_id, n, first_id, sum_lat, sum_lon in cell_rows:
        c = clusters.setdefault((gx, gy), {"n": 0, "lat": 0.0, "lon": 0.0, "by": {}, "first": first_id})
        c["n"] += n
        c["lat"] += sum_lat
        c["lon"] += sum_lon
        c["by"][service_id] = c["by"].get(service_id, 0) + n
        c["first"] = min(c["first"], first_id)
    values = list(clusters.values())
    if crop:
        values = [
            c
            for c in values
            if min_lon <= c["lon"] / c["n"] <= max_lon and min_lat <= c["lat"] / c["n"] <= max_lat
        ]
    ordered = sorted(values, key=lambda c: -c["n"])
    collection["total"] = sum(c["n"] for c in ordered)
    if len(ordered) > MAX_FEATURES:
        collection["truncated"] = True
        ordered = ordered[:MAX_FEATURES]
    # A cell holding a single ticket is drawn as that ticket, so sparse areas show real markers.
    singles = [c["first"] for c in ordered if c["n"] == 1][:MAX_POINTS]
    single_rows = (
        {r.id: r for r in _point_rows(session, [Ticket.id.in_(singles)], len(singles))} if singles else {}
    )
    features = []
    for c in ordered:
        if c["n"] == 1 and c["first"] in single_rows:
            features.append(_point_feature(single_rows[c["first"]], codes, ticket_url))
            continue
        dominant = max(c["by"].items(), key=lambda kv: kv[1])[0]
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "Point",
                    "coordinates": [round(c["lon"] / c["n"], 5), round(c["lat"] / c["n"], 5)],
                },
                "properties": {"cluster": True, "count": c["n"], "service": codes.get(dominant, "other")},
            }
        )
    collection["features"] = features
    return collection


CellRow = tuple[int, int, int, int, int, float, float]  # gx, gy, service_id, count, min id, sum lat, sum lon
CACHE_MAX_ZOOM = 15
CACHE_TTL_S = 60.0


# City-wide cell counts per (database, zoom, filters, data version): an LRU whose entries also expire,
# kept per worker process (good enough for a map). cachetools' caches are not thread-safe: hence the lock.
_CELL_CACHE: TTLCache[Any, list[CellRow]] = TTLCache(maxsize=64, ttl=CACHE_TTL_S)
_CELL_CACHE_LOCK = threading.Lock()


def _data_version(session: Session) -> tuple[Any, ...]:
    # Every write to a ticket moves updated_at (the services guarantee it); count catches deletions.
    row = session.execute(
        select(func.count(Ticket.id), func.max(Ticket.updated_at), func.max(Ticket.id))
    ).one()
    return tuple(row)


def _cell_rows(
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


def _point_rows(session: Session, conds: list[ColumnElement[bool]], limit: int) -> list[Any]:
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
            Service.name.label("service_name"),
        )
        .join(Service, Service.id == Ticket.service_id)
        .where(*conds)
        .order_by(Ticket.id.desc())
        .limit(limit)
    )
    return list(session.execute(stmt).all())


def public_address(address: str, street: str | None, private_location: bool) -> str:
    """The place as the public may see it: the street only when the report may point at someone's home."""
    if private_location:
        return f"{street} (block level)" if street else "Location withheld (block level)"
    return address or street or ""


def _point_feature(row: Any, codes: dict[int, str], ticket_url: str) -> dict[str, Any]:
    place = public_address(row.address, row.street, row.private_location)
    title = f"{row.service_name} · {place}" if place else row.service_name
    return {
        "type": "Feature",
        "geometry": {
            "type": "Point",
            "coordinates": [round(float(row.public_lon), 5), round(float(row.public_lat), 5)],
        },
        "properties": {
            "id": row.id,
            "service": codes.get(row.service_id, "other"),
            "status": row.status,
            "title": title,
            "url": ticket_url.format(id=row.id),
        },
    }


# --- One ticket's public page ----------------------------------------------------------------------


@dataclass(frozen=True)
class PublicEvent:
    at: dt.datetime  # in the city's time zone
    label: str
    note: str


@dataclass(frozen=True)
class PublicTicket:
    id: int
    ref: str
    service_code: str
    service_name: str
    status: str
    status_label: str
    is_open: bool
    address: str
    summary: str
    report_count: int
    lat: float | None  # the public point (block level when private), never the exact one
    lon: float | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    duplicate_of_id: int | None
    timeline: list[PublicEvent] = field(default_factory=list)


def _event_label(event: TicketEvent) -> str:
    if event.kind == "created":
        return "Reported"
    if event.kind == "status":
        return STATUS_LABELS.get(event.to_status or "", "Update")
    return "Update"


def get_public_ticket(session: Session, ticket_id: int, timezone: str) -> PublicTicket | None:
    """The public projection of one ticket, or None when it does not exist or is not public."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or ticket.status not in PUBLIC_STATUSES or not ticket.service.public:
        return None
    tz = ZoneInfo(timezone)
    events = session.scalars(
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.is_public.is_(True))
        .order_by(TicketEvent.created_at, TicketEvent.id)
    )
    timeline = [
        PublicEvent(
            at=e.created_at.astimezone(tz),
            label=_event_label(e),
            note=e.public_note,
        )
        for e in events
        if e.public_note or e.kind in ("status", "created")
    ]
    duplicate_of = None
    if ticket.status == S.DUPLICATE and ticket.duplicate_of_id:
        target = session.get(Ticket, ticket.duplicate_of_id)
        if target is not None and target.status in PUBLIC_STATUSES:
            duplicate_of = target.id
    place = public_address(ticket.address, ticket.street, ticket.private_location)
    summary = ticket.summary.strip() or (
        f"{ticket.service.name} reported" + (f" at {place}." if place else ".")
    )
    return PublicTicket(
        id=ticket.id,
        ref=ticket.ref,
        service_code=ticket.service.code,
        service_name=ticket.service.name,
        status=ticket.status,
        status_label=STATUS_LABELS.get(ticket.status, ticket.status),
        is_open=ticket.status in {s.value for s in MAP_OPEN},
        address=place,
        summary=summary,
        report_count=max(ticket.report_count, 1),
        lat=ticket.public_lat,
        lon=ticket.public_lon,
        created_at=ticket.created_at.astimezone(tz),
        updated_at=ticket.updated_at.astimezone(tz),
        closed_at=ticket.closed_at.astimezone(tz) if ticket.closed_at else None,
        duplicate_of_id=duplicate_of,
        timeline=timeline,
    )
