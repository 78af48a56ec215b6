"""Follow without an account: Atom feeds of one ticket's public changes and of an area's public tickets.

GET /tickets/<id>/feed.atom: one entry per public event of the ticket's timeline (the page's), the newest
first. GET /feed.atom: the newest public tickets (MAX_ENTRIES) in `bbox=minLon,minLat,maxLon,maxLat` or
within `radius` metres (default 500, at most 20,000) of `lat`/`long`, or the whole city; `service` (one or
more codes) narrows it. Cached like every public read (web/http_cache.py); bad input is a 400 naming it.
"""

from __future__ import annotations

from flask import Response, abort, current_app, request, url_for

import civictracker.web.http_cache as http_cache  # noqa: PLR0402 (not the package: no import circle)
import civictracker.web.public.atom as atom  # noqa: PLR0402 (the module, not the package: no import circle)
from civictracker.extensions import current_session
from civictracker.models.types import utcnow
from civictracker.runtime import city_of, settings_of
from civictracker.services import feeds, public
from civictracker.services.errors import ValidationFailed
from civictracker.web.params import BadParam, decimal, whole_number
from civictracker.web.public.blueprint import bp

FEED_MAX_AGE = 60  # seconds; a feed reader polls every few minutes at most
DEFAULT_RADIUS_M = 500
MAX_RADIUS_M = 20_000  # as Open311's lat/long/radius (web/open311/params.py)


def _base() -> str:
    """The site's public address (as reply links use it), not the Host a request came with: a feed's ids
    and links must not change with how it was reached, and the stored answer is shared by all readers."""
    return settings_of(current_app).public_url.rstrip("/")


def _self_url() -> str:
    query = request.query_string.decode("latin-1")
    return _base() + request.path + (f"?{query}" if query else "")


@bp.get("/tickets/<int:ticket_id>/feed.atom")
def ticket_feed(ticket_id: int) -> Response:
    return http_cache.cached_public("ticket-feed", lambda: _ticket_feed(ticket_id), max_age=FEED_MAX_AGE)


def _ticket_feed(ticket_id: int) -> Response:
    city = city_of(current_app)
    view = public.get_public_ticket(current_session(), ticket_id, city.timezone)
    if view is None:  # as the page: intake states, a non-public service, no such ticket
        abort(404, description="No public report with this number.")
    page = _base() + url_for("public.ticket", ticket_id=ticket_id)
    place = f" · {view.address}" if view.address else ""
    if view.withdrawn:
        entries = [
            atom.Entry(
                id=atom.tag_uri(page, f"ticket-{view.id}/withdrawn"),
                title=f"{view.ref}: {view.status_label}",
                updated=view.updated_at,
                link=page,
                summary=view.summary,
            )
        ]
    else:
        entries = [
            atom.Entry(
                id=atom.tag_uri(page, f"ticket-{view.id}/event-{e.id}"),
                title=f"{e.label}: {view.service_name}{place}",
                updated=e.at,
                published=e.at,
                link=f"{page}#event-{e.id}",
                summary=_entry_text(view, e),
                category=view.service_code,
                category_label=view.service_name,
            )
            for e in reversed(view.timeline)
        ]
    feed = atom.Feed(
        id=atom.tag_uri(page, f"ticket-{view.id}"),
        title=f"{view.ref} · {view.service_name}{place}",
        subtitle=f"Public updates to report {view.ref} from {city.name} 311.",
        updated=max((e.updated for e in entries), default=view.updated_at),
        self_url=_self_url(),
        page_url=page,
        author=f"{city.name} 311",
        entries=entries,
    )
    return Response(atom.render_feed(feed), content_type=atom.CONTENT_TYPE)


def _entry_text(view: public.PublicTicket, event: public.PublicEvent) -> str:
    """The first entry says what was reported; every later one its public note (or its new status)."""
    if event.label == "Reported":
        return f"{view.summary} {event.note}".strip()
    return event.note or f"Status: {event.label}."


@bp.get("/feed.atom")
def area_feed() -> Response:
    return http_cache.cached_public("area-feed", _area_feed, max_age=FEED_MAX_AGE)


def _area_feed() -> Response:
    city = city_of(current_app)
    session = current_session()
    try:
        area = _parse_area()
    except (BadParam, ValidationFailed) as exc:
        abort(400, description=str(exc))
    tickets = feeds.list_area_tickets(session, area, city.timezone)
    home = _base() + url_for("public.index")
    entries = [
        atom.Entry(
            id=atom.tag_uri(home, f"ticket-{t.id}/latest"),  # one entry per ticket, updated as it changes
            title=f"{t.service_name}{f' · {t.address}' if t.address else ''} ({t.status_label})",
            updated=t.updated_at,
            published=t.created_at,
            link=_base() + url_for("public.ticket", ticket_id=t.id),
            summary=f"{t.ref}, {t.status_label}. {t.summary}"
            + (f" Latest update: {t.note}" if t.note else ""),
            category=t.service_code,
            category_label=t.service_name,
        )
        for t in tickets
    ]
    where = "in this area" if area.bbox or area.near else "across the city"
    feed = atom.Feed(
        id=atom.tag_uri(home, f"feed/{_area_key(area)}"),
        title=f"{city.short_name} 311: reports {where}"
        + (f" ({', '.join(area.services)})" if area.services else ""),
        subtitle=f"New and updated public reports, the newest {feeds.MAX_ENTRIES}.",
        updated=max((e.updated for e in entries), default=utcnow()),
        self_url=_self_url(),
        page_url=home,
        author=f"{city.name} 311",
        entries=entries,
    )
    return Response(atom.render_feed(feed), content_type=atom.CONTENT_TYPE)


def _parse_area() -> feeds.Area:
    args = request.args
    raw_bbox = (args.get("bbox") or "").strip()
    raw_lat, raw_lon = (args.get("lat") or "").strip(), (args.get("long") or "").strip()
    raw_radius = (args.get("radius") or "").strip()
    services = feeds.check_service_codes(current_session(), args.getlist("service"))
    if raw_bbox and (raw_lat or raw_lon):
        raise BadParam("Give either bbox or lat and long, not both.")
    if bool(raw_lat) != bool(raw_lon):
        raise BadParam("lat and long must be given together.")
    if raw_radius and not raw_lat:
        raise BadParam("radius needs lat and long.")
    if raw_bbox:
        return feeds.Area(bbox=_bbox(raw_bbox), services=services)
    if raw_lat:
        radius = (
            whole_number("radius", raw_radius, minimum=1, maximum=MAX_RADIUS_M)
            if raw_radius
            else DEFAULT_RADIUS_M
        )
        near = (decimal("lat", raw_lat, bound=90), decimal("long", raw_lon, bound=180), float(radius))
        return feeds.Area(near=near, services=services)
    return feeds.Area(services=services)


def _bbox(raw: str) -> tuple[float, float, float, float]:
    parts = raw.split(",")
    if len(parts) != 4:
        raise BadParam("bbox must be four numbers: minLon,minLat,maxLon,maxLat.")
    min_lon, max_lon = (decimal("bbox longitude", parts[i], bound=180) for i in (0, 2))
    min_lat, max_lat = (decimal("bbox latitude", parts[i], bound=90) for i in (1, 3))
    if min_lon >= max_lon or min_lat >= max_lat:
        raise BadParam("bbox must be west,south,east,north: minLon below maxLon and minLat below maxLat.")
    return min_lon, min_lat, max_lon, max_lat


def _area_key(area: feeds.Area) -> str:
    """The same area and services always give the same feed id, however the query was spelled."""
    parts = []
    if area.bbox is not None:
        parts.append("bbox=" + ",".join(f"{v:.6f}" for v in area.bbox))
    if area.near is not None:
        lat, lon, radius = area.near
        parts.append(f"near={lat:.6f},{lon:.6f},{radius:.0f}")
    if area.services:
        parts.append("service=" + ",".join(area.services))
    return "area?" + "&".join(parts) if parts else "city"
