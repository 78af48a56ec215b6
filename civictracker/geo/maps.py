"""Leaflet maps as embeddable parts: the public viewport map, a one-ticket map, a pin-move map."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from jinja2 import Environment, PackageLoader

# Leaflet and the maps' own script and styles are served by the app (the public blueprint's static
# folder), so the maps work without any CDN. The pages pass url_for() addresses; these are the defaults.
LEAFLET_JS = "/static/public/vendor/leaflet/leaflet.js"
LEAFLET_CSS = "/static/public/vendor/leaflet/leaflet.css"
MAPS_JS = "/static/public/maps/maps.js"
MAPS_CSS = "/static/public/maps/maps.css"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'
OSM_MAX_ZOOM = 19

# Kelly's colours of maximum contrast (1965), in the order a greedy pick keeps farthest apart (CIEDE2000
# at least 15 between any two of the 16; the old Tableau set had two blues 5 apart). "Other" is grey.
OTHER_COLOR = "#848482"
PALETTE = [
    "#DCD300", "#882D17", "#2B3D26", "#F38400", "#604E97", "#E68FAC", "#A1CAF1", "#008856",
    "#B3446C", "#0067A5", "#F99379", "#C2B280", "#E25822", "#654522", "#8DB600",
]  # fmt: skip

# The parts are markup and data only: the maps' code is static/maps/maps.js, called by
# templates/map_parts.html with the configuration written by tojson ('<', '>', '&' and quotes
# escaped, so no text closes the script).
_ENV = Environment(loader=PackageLoader("civictracker.geo", "templates"), autoescape=True)
_ENV.policies["json.dumps_kwargs"] = {"sort_keys": False, "separators": (",", ":")}


@dataclass(frozen=True)
class MapParts:
    """A map split for a page: `header` goes in <head>, `html` where the map sits, `script` after it."""

    name: str  # the map element's id, also the window property holding the L.map
    header: str
    html: str
    script: str

    def inline(self) -> str:
        """All three parts in one string (link and script tags are valid inside <body>)."""
        return self.header + self.html + self.script


@dataclass(frozen=True)
class MapAssets:
    """Where the page serves Leaflet and the maps' own script and styles (url_for() addresses)."""

    leaflet_js: str = LEAFLET_JS
    leaflet_css: str = LEAFLET_CSS
    maps_js: str = MAPS_JS
    maps_css: str = MAPS_CSS


@dataclass(frozen=True)
class PublicMap:
    """The public map's view and legend: `endpoint` serves the viewport's tickets as GeoJSON.

    `form_id`/`status_id`: the page's filter form and the element that says what the map shows."""

    center: tuple[float, float]
    bbox: tuple[float, float, float, float]
    endpoint: str
    colors: dict[str, str]
    status_labels: dict[str, str]
    closed_statuses: list[str]
    zoom: int = 13
    height: str = "70vh"
    form_id: str = "map-filters"
    status_id: str = "map-status"
    search_endpoint: str = ""  # the search box's JSON answer (services/public_search)
    list_endpoint: str = ""  # the reports listed beside the map
    search_id: str = "map-search"
    list_id: str = "map-list"


@dataclass(frozen=True)
class TicketMap:
    """A one-pin map; draggable, a drag or a click moves the pin and fills the two inputs named by id."""

    lat: float
    lon: float
    draggable: bool = False
    zoom: int = 17
    height: str = "260px"
    color: str = "#0b5cad"
    label: str = "Reported location"
    lat_input_id: str | None = None
    lon_input_id: str | None = None
    dom_id: str = "ticket"


def service_colors(codes: list[str]) -> dict[str, str]:
    """A stable colour per service code, in the order given (the catalog's); "other" is always grey."""
    rest = [c for c in codes if c != "other"]
    colors = {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(rest)}
    return {code: OTHER_COLOR if code == "other" else colors[code] for code in codes}


def _luminance(color: str) -> float:
    """WCAG relative luminance of a #rrggbb colour."""
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two #rrggbb colours (1 to 21)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def ink_for(background: str) -> str:
    """Black or white, whichever reads better on `background`: at least 4.58:1 for any colour."""
    return "#000000" if contrast(background, "#000000") >= contrast(background, "#ffffff") else "#ffffff"


def _parts(kind: str, name: str, height: str, config: dict[str, Any], assets: MapAssets) -> MapParts:
    base = {
        "tiles": {"url": OSM_TILES, "attribution": OSM_ATTRIBUTION, "maxZoom": OSM_MAX_ZOOM},
    }
    macros = _ENV.get_template("map_parts.html").module
    return MapParts(
        name=name,
        header=str(macros.header(assets.leaflet_css, assets.leaflet_js, assets.maps_css)),  # type: ignore[attr-defined]
        html=str(macros.html(name, height)),  # type: ignore[attr-defined]
        script=str(macros.script(kind, name, base | config, assets.maps_js)),  # type: ignore[attr-defined]
    )


def public_map(view: PublicMap, assets: MapAssets = MapAssets()) -> MapParts:  # frozen default: safe
    """The public map: no tickets embedded; its script fetches `endpoint` for the viewport on every move."""
    min_lon, min_lat, max_lon, max_lat = view.bbox
    pad_lon, pad_lat = (max_lon - min_lon) * 0.5, (max_lat - min_lat) * 0.5
    config = {
        "center": [view.center[0], view.center[1]],
        "zoom": view.zoom,
        # Panning stops half a city beyond its box on every side.
        "maxBounds": [[min_lat - pad_lat, min_lon - pad_lon], [max_lat + pad_lat, max_lon + pad_lon]],
        "endpoint": view.endpoint,
        "colors": view.colors,
        "inks": {code: ink_for(color) for code, color in view.colors.items()},
        "statusLabels": view.status_labels,
        "closedStatuses": view.closed_statuses,
        "formId": view.form_id,
        "statusId": view.status_id,
        "searchEndpoint": view.search_endpoint,
        "listEndpoint": view.list_endpoint,
        "searchId": view.search_id,
        "listId": view.list_id,
    }
    return _parts("public", "map_public", view.height, config, assets)


def ticket_map_html(pin: TicketMap, assets: MapAssets = MapAssets()) -> MapParts:  # frozen default: safe
    """A small map with one pin; with draggable=True a drag or a click moves it and fills the inputs."""
    config = {
        "center": [pin.lat, pin.lon],
        "zoom": pin.zoom,
        "lat": round(pin.lat, 7),
        "lon": round(pin.lon, 7),
        "draggable": pin.draggable,
        "color": pin.color,
        "label": pin.label,
        "latInput": pin.lat_input_id,
        "lonInput": pin.lon_input_id,
    }
    return _parts("ticket", f"map_{pin.dom_id}", pin.height, config, assets)
