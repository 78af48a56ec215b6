"""Public routes: GET / (map page), GET /api/map.geojson (viewport), GET /tickets/<id> (ticket page)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Response, abort, current_app, jsonify, render_template, request, url_for

from civictracker.citypack import CityPack
from civictracker.extensions import current_session
from civictracker.runtime import city_of
from civictracker.services import public, public_map
from civictracker.services.catalog import list_services
from civictracker.services.errors import ValidationFailed
from civictracker.web.public.blueprint import bp

if TYPE_CHECKING:
    from civictracker.geo.maps import MapAssets

log = logging.getLogger(__name__)

AGE_CHOICES = [
    ("", "Any age"),
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("365", "Last year"),
]
STATUS_FILTER_LABELS = [
    (public_map.MapStatus.OPEN.value, "Open"),
    (public_map.MapStatus.CLOSED.value, "Closed (last 30 days)"),
    (public_map.MapStatus.ALL.value, "Open and recently closed"),
]


def _city() -> CityPack:
    return city_of(current_app)  # loaded once by the app factory


def _leaflet() -> MapAssets:
    """The map scripts and styles, served from this app."""
    from civictracker.geo.maps import MapAssets

    return MapAssets(
        leaflet_js=url_for("public.static", filename="vendor/leaflet/leaflet.js"),
        leaflet_css=url_for("public.static", filename="vendor/leaflet/leaflet.css"),
        maps_js=url_for("public.static", filename="maps/maps.js"),
        maps_css=url_for("public.static", filename="maps/maps.css"),
    )


def _bad_request(message: str) -> tuple[Response, int]:
    return jsonify(error="Bad Request", description=message, code=400), 400


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    city = _city()
    from civictracker.geo import maps

    services = list_services(current_session())
    colors = maps.service_colors([s.code for s in services])
    view = maps.PublicMap(
        center=city.center,
        bbox=city.bbox,
        endpoint=url_for("public.map_geojson"),
        colors=colors,
        status_labels=dict(public.STATUS_LABELS),
        closed_statuses=[s.value for s in public.MAP_CLOSED],
    )
    fmap = maps.public_map(view, _leaflet())
    selected = {
        "service": request.args.get("service", ""),
        "status": request.args.get("status", public_map.MapStatus.OPEN.value),
        "max_age_days": request.args.get("max_age_days", ""),
    }
    resp = Response(
        render_template(
            "public/index.html",
            city_name=city.short_name,
            services=services,
            colors=colors,
            fmap=fmap,
            selected=selected,
            age_choices=AGE_CHOICES,
            status_choices=STATUS_FILTER_LABELS,
        )
    )
    # The page holds no tickets, so it can be cached; the data comes fresh from the viewport endpoint.
    resp.headers["Cache-Control"] = "public, max-age=300"
    return resp


@bp.get("/api/map.geojson")
def map_geojson():  # type: ignore[no-untyped-def]
    city = _city()
    try:
        viewport = public_map.parse_bbox(request.args.get("bbox"), city.bbox)
        filters = public_map.parse_filters(
            current_session(),
            request.args.getlist("service"),
            request.args.get("status"),
            request.args.get("max_age_days"),
        )
        zoom = _zoom(request.args.get("zoom"))
    except ValidationFailed as exc:
        return _bad_request(str(exc))
    ticket_url = url_for("public.ticket", ticket_id=0)[:-1] + "{id}"
    data = public_map.map_geojson(current_session(), viewport, zoom, filters, ticket_url=ticket_url)
    resp = jsonify(data)
    resp.mimetype = "application/geo+json"
    resp.headers["X-Content-Type-Options"] = "nosniff"  # never sniffed into HTML, whatever a title holds
    # Short: a status change shows on the map within a minute, yet a busy map is not re-queried per user.
    resp.headers["Cache-Control"] = "public, max-age=30"
    return resp


def _zoom(raw: str | None) -> int:
    if raw in (None, ""):
        return 13
    try:
        zoom = int(float(str(raw)))
    except (ValueError, OverflowError):
        raise ValidationFailed("zoom must be a whole number between 0 and 22.") from None
    if not public_map.MIN_ZOOM <= zoom <= public_map.MAX_ZOOM:
        raise ValidationFailed("zoom must be a whole number between 0 and 22.")
    return zoom


@bp.get("/tickets/<int:ticket_id>")
def ticket(ticket_id: int):  # type: ignore[no-untyped-def]
    city = _city()
    view = public.get_public_ticket(current_session(), ticket_id, city.timezone)
    if view is None:
        abort(404, description="No public report with this number.")
    from civictracker.geo import maps

    services = list_services(current_session())
    colors = maps.service_colors([s.code for s in services])
    fmap = None
    if view.lat is not None and view.lon is not None:
        pin = maps.TicketMap(
            view.lat,
            view.lon,
            zoom=16,
            color=colors.get(view.service_code, "#0b5cad"),
            label=view.service_name,
        )
        fmap = maps.ticket_map_html(pin, _leaflet())
    resp = Response(
        render_template("public/ticket.html", city_name=city.short_name, t=view, fmap=fmap, city=city)
    )
    resp.headers["Cache-Control"] = "public, max-age=60"
    return resp
