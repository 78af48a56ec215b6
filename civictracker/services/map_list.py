"""The list beside the public map: the newest reports in view, with their public place and status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import and_, func, literal_column, select
from sqlalchemy.orm import Session

from civictracker.geo import spatial
from civictracker.models import Ticket
from civictracker.models.types import utcnow
from civictracker.services.public import public_address
from civictracker.services.public_map import (
    Bbox,
    MapFilters,
    Viewport,
    codes_of,
    filter_conditions,
    in_view,
    point_rows,
)

LIST_LIMIT = 25  # the reports listed beside the map: the newest in view
# The list of a large view (SQLite) first walks the newest tickets back from the last: with a tenth of a
# big city's tickets on the map, the 25 newest in a large view are among the last few thousand made. A view
# whose newest 26 are not in this many newest tickets is read through the map's index instead.
NEWEST_WINDOW = 20_000
LARGE_VIEW_SHARE = 1 / 16  # of the city's box: a view at least this large walks the newest first


def reports_in_view(
    session: Session,
    viewport: Viewport,
    filters: MapFilters,
    *,
    limit: int = LIST_LIMIT,
    ticket_url: str = "/tickets/{id}",
    now: dt.datetime | None = None,
) -> dict[str, Any]:
    """The newest reports in the viewport (the list beside the map): service, public place, status, date.

    `more` says whether the view holds more than `limit` (the map's own count says how many)."""
    now = now or utcnow()
    min_lon, min_lat, max_lon, max_lat = viewport.bbox
    out: dict[str, Any] = {"reports": [], "more": False}
    if viewport.notice:
        out["notice"] = viewport.notice
    if min_lon >= max_lon or min_lat >= max_lat:
        return out
    rows = _newest_in_large_view(session, viewport, filters, now, limit + 1)
    if rows is None:
        view_cond = in_view(session, viewport.bbox, filters, now, newest_first=True)
        rows = point_rows(session, [*filter_conditions(session, filters, now), view_cond], limit + 1)
    out["more"] = len(rows) > limit
    codes = codes_of(session)
    for row in rows[:limit]:
        created = row.created_at
        if created.tzinfo is None:
            created = created.replace(tzinfo=dt.UTC)
        out["reports"].append(
            {
                "id": row.id,
                "service": row.service_name,
                "code": codes.get(row.service_id, "other"),
                "place": public_address(row.address, row.street, row.private_location),
                "status": row.status,
                "created": created.astimezone(dt.UTC).isoformat(timespec="seconds"),
                "url": ticket_url.format(id=row.id),
                "point": [round(float(row.public_lon), 5), round(float(row.public_lat), 5)],
            }
        )
    return out


def _newest_in_large_view(
    session: Session, viewport: Viewport, filters: MapFilters, now: dt.datetime, n: int
) -> list[Any] | None:
    """SQLite, a large view: the `n` newest tickets in view found among the NEWEST_WINDOW newest, walking
    back from the last; None when the view is small or they are not all there (ask the index then). An
    index of places would return every ticket in a city-wide view, to be sorted for 26 (1.1 s at 1M).
    PostgreSQL's planner walks its id index back by itself."""
    if spatial.dialect_of(session) != "sqlite" or viewport.city is None:
        return None
    if _area(viewport.bbox) < LARGE_VIEW_SHARE * _area(viewport.city):
        return None
    newest = session.scalar(select(func.max(Ticket.id))) or 0
    lon: Any = literal_column("+tickets.public_lon")
    lat: Any = literal_column("+tickets.public_lat")
    min_lon, min_lat, max_lon, max_lat = viewport.bbox
    exact = and_(lon >= min_lon, lon <= max_lon, lat >= min_lat, lat <= max_lat)
    conds = filter_conditions(session, filters, now, indexed=False)
    rows = point_rows(session, [*conds, exact, Ticket.id > newest - NEWEST_WINDOW], n)
    return rows if len(rows) == n else None


def _area(bbox: Bbox) -> float:
    return max(0.0, bbox[2] - bbox[0]) * max(0.0, bbox[3] - bbox[1])
