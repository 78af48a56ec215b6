"""Public routes: GET / (map page), GET /api/map.geojson (viewport), /api/reports.json (the list in view),
/api/search (the search box), GET /tickets/<id> (ticket page)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from flask import Response, abort, current_app, jsonify, render_template, request, url_for

import civictracker.web.http_cache as http_cache  # noqa: PLR0402 (not the package: no import circle)
from civictracker.citypack import CityPack
from civictracker.extensions import current_session
from civictracker.runtime import city_of, runtime_of, settings_of
from civictracker.services import map_list, public, public_howto, public_map, public_search
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


def _bad_request(exc: ValidationFailed) -> Response:
    """A 400 JSON answer naming what is wrong; a Response (not a tuple) as the cached views return one."""
    resp = jsonify(error="Bad Request", description=str(exc), code=400)
    resp.status_code = 400
    return resp


@bp.get("/")
def index() -> Response:
    # The page holds no tickets (the data comes from the viewport endpoint); its filters name the services.
    return http_cache.public_page("map-page", _index)


def _index() -> Response:
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
        search_endpoint=url_for("public.search"),
        list_endpoint=url_for("public.reports_in_view"),
    )
    fmap = maps.public_map(view, _leaflet())
    selected = {
        "service": request.args.get("service", ""),
        "status": request.args.get("status", public_map.MapStatus.OPEN.value),
        "max_age_days": request.args.get("max_age_days", ""),
        "q": request.args.get("q", "")[: public_search.MAX_QUERY],
    }
    settings = settings_of(current_app)
    ways = public_howto.ways_to_report(
        city.meta,
        city_name=city.short_name,
        public_url=settings.public_url,
        mastodon_base_url=settings.mastodon_base_url,
        open311_path="/open311/v2/",
    )
    return Response(
        render_template(
            "public/index.html",
            city_name=city.short_name,
            services=services,
            colors=colors,
            inks={code: maps.ink_for(color) for code, color in colors.items()},
            fmap=fmap,
            selected=selected,
            age_choices=AGE_CHOICES,
            status_choices=STATUS_FILTER_LABELS,
            ways=ways,
        )
    )


@bp.get("/api/map.geojson")
def map_geojson() -> Response:
    # "closed" means closed in the last 30 days and max_age_days counts back from now: those answers
    # change with the clock too. A status change shows within PUBLIC_MAX_AGE (plus a minute for those).
    clock = request.args.get("status", "open").strip().lower() != "open" or bool(
        request.args.get("max_age_days")
    )
    return http_cache.cached_public("map-geojson", _map_geojson, clock=clock)


def _view_of_request() -> tuple[public_map.Viewport, public_map.MapFilters]:
    """The map view (bbox, clipped to the city) and filters the request asks for; ValidationFailed if bad."""
    viewport = public_map.parse_bbox(request.args.get("bbox"), _city().bbox)
    filters = public_map.parse_filters(
        current_session(),
        request.args.getlist("service"),
        request.args.get("status"),
        request.args.get("max_age_days"),
    )
    return viewport, filters


def _map_geojson() -> Response:
    try:
        viewport, filters = _view_of_request()
        zoom = _zoom(request.args.get("zoom"))
    except ValidationFailed as exc:
        return _bad_request(exc)
    ticket_url = url_for("public.ticket", ticket_id=0)[:-1] + "{id}"
    data = public_map.map_geojson(current_session(), viewport, zoom, filters, ticket_url=ticket_url)
    current_session().commit()  # the map may have built or folded its cell counts (services/map_open_cells)
    resp = jsonify(data)
    resp.mimetype = "application/geo+json"
    resp.headers["X-Content-Type-Options"] = "nosniff"  # never sniffed into HTML, whatever a title holds
    return resp


@bp.get("/api/reports.json")
def reports_in_view() -> Response:
    clock = True  # every entry carries its date; "closed" and max_age_days count back from now
    return http_cache.cached_public("map-list", _reports_in_view, clock=clock)


def _reports_in_view() -> Response:
    try:
        viewport, filters = _view_of_request()
    except ValidationFailed as exc:
        return _bad_request(exc)
    ticket_url = url_for("public.ticket", ticket_id=0)[:-1] + "{id}"
    data = map_list.reports_in_view(current_session(), viewport, filters, ticket_url=ticket_url)
    resp = jsonify(data)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


@bp.get("/api/search")
def search() -> Response:
    # A number's answer is a ticket's public state: the data version in the ETag keeps it current.
    return http_cache.cached_public("map-search", _search)


def _search() -> Response:
    city = _city()
    ticket_url = url_for("public.ticket", ticket_id=0)[:-1] + "{id}"
    try:
        answer = public_search.search_map(
            current_session(),
            runtime_of(current_app).gazetteer(),
            request.args.get("q"),
            city_name=city.short_name,
            ticket_url=ticket_url,
        )
    except ValidationFailed as exc:
        return _bad_request(exc)
    resp = jsonify(answer.to_dict())
    resp.headers["X-Content-Type-Options"] = "nosniff"
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
def ticket(ticket_id: int) -> Response:
    return http_cache.public_page("ticket", lambda: _ticket(ticket_id), max_age=60)


def _ticket(ticket_id: int) -> Response:
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
    return Response(
        render_template("public/ticket.html", city_name=city.short_name, t=view, fmap=fmap, city=city)
    )
