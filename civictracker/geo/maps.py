"""Folium/Leaflet maps as embeddable parts: the public viewport map, a one-ticket map, a pin-move map."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

import folium
from branca.element import Figure, MacroElement
from jinja2 import Template

log = logging.getLogger(__name__)

# Leaflet is served by the app (vendored under the public blueprint's static folder) so the map works
# without any CDN; folium's default CDN links (jQuery, Bootstrap, Font Awesome) are not needed at all.
LEAFLET_JS = "/static/public/vendor/leaflet/leaflet.js"
LEAFLET_CSS = "/static/public/vendor/leaflet/leaflet.css"
OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'

# Sixteen colours distinguishable on OSM's palette (Tableau 10 + 6), assigned in catalog order.
PALETTE = [
    "#4e79a7", "#e15759", "#f28e2b", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#1f77b4", "#d62728", "#2ca02c", "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
]  # fmt: skip

_MAP_CSS = """
.ct-cluster span{display:flex;align-items:center;justify-content:center;border-radius:50%;color:#fff;
 font:600 12px/1 system-ui,sans-serif;border:2px solid #fff;box-shadow:0 1px 4px rgba(0,0,0,.45);
 text-shadow:0 1px 1px rgba(0,0,0,.5);cursor:pointer}
.ct-dot span{display:block;width:16px;height:16px;border-radius:50%;border:2px solid #fff;
 box-shadow:0 1px 3px rgba(0,0,0,.5);cursor:pointer}
.ct-dot.ct-closed span{opacity:.55;border:2px dashed #333}
.ct-pin span{display:block;width:22px;height:22px;border-radius:50% 50% 50% 0;transform:rotate(-45deg);
 border:3px solid #fff;box-shadow:0 1px 4px rgba(0,0,0,.5)}
.ct-popup-status{color:#5b6b7b;font-size:.9em;margin-top:.2rem}
"""


@dataclass(frozen=True)
class MapParts:
    """A map split for a page: `header` goes in <head>, `html` where the map sits, `script` after it."""

    name: str  # the JavaScript variable holding the L.map
    header: str
    html: str
    script: str

    def inline(self) -> str:
        """All three parts in one string (link and script tags are valid inside <body>)."""
        return self.header + self.html + self.script


def service_colors(codes: list[str]) -> dict[str, str]:
    """A stable colour per service code, in the order given (the catalog's)."""
    return {code: PALETTE[i % len(PALETTE)] for i, code in enumerate(codes)}


def script_json(value: Any) -> str:
    """JSON safe inside an inline <script>: no '</script>', no HTML comment openers, no U+2028."""
    text = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    for raw, esc in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(raw, esc)
    return text


class _Script(MacroElement):  # type: ignore[misc]
    """Raw JavaScript attached to a map; `{map}` in the body is replaced by the map's variable name."""

    _template = Template("{% macro script(this, kwargs) %}{{ this.code }}{% endmacro %}")

    def __init__(self, code: str) -> None:
        super().__init__()
        self._name = "CtScript"
        self.code = code


def _base_map(
    lat: float, lon: float, zoom: int, *, dom_id: str, leaflet_js: str, leaflet_css: str, **options: Any
) -> folium.Map:
    fmap = folium.Map(location=[lat, lon], zoom_start=zoom, tiles=None, control_scale=True, **options)
    fmap._id = dom_id  # a stable element id and JS name, so pages and tests can find the map
    fmap.default_js = [("leaflet", leaflet_js)]
    fmap.default_css = [("leaflet_css", leaflet_css)]
    folium.TileLayer(OSM_TILES, attr=OSM_ATTRIBUTION, name="OpenStreetMap", max_zoom=19).add_to(fmap)
    return fmap


def _parts(fmap: folium.Map, height: str, leaflet_js: str, leaflet_css: str) -> MapParts:
    fig = fmap.get_root()
    assert isinstance(fig, Figure)
    fig.render()
    name = fmap.get_name()
    # folium's own header makes <html>/<body> full-screen; a page with a layout needs only these.
    header = (
        f'<link rel="stylesheet" href="{leaflet_css}">\n<script src="{leaflet_js}"></script>\n'
        f"<style>#{name}{{width:100%;height:{height};}}{_MAP_CSS}</style>\n"
    )
    return MapParts(
        name=name,
        header=header,
        html=fig.html.render(),
        script=f"<script>\n{fig.script.render()}\n</script>\n",
    )


_PUBLIC_JS = r"""
(function () {
  var map = __MAP__;
  var cfg = __CFG__;
  var layer = L.layerGroup().addTo(map);
  var box = map.getContainer();
  var statusEl = document.getElementById(cfg.statusId);
  var form = document.getElementById(cfg.formId);
  var ctrl = null, timer = null;
  function colour(code) { return cfg.colors[code] || '#555'; }
  function query() {
    var b = map.getBounds();
    var q = new URLSearchParams();
    q.set('bbox', [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map(function (v) {
      return v.toFixed(5); }).join(','));
    q.set('zoom', String(map.getZoom()));
    if (form) { new FormData(form).forEach(function (v, k) { if (v !== '') { q.append(k, v); } }); }
    return q;
  }
  function popup(p) {
    var d = document.createElement('div');
    var a = document.createElement('a');
    a.href = p.url; a.textContent = p.title; a.className = 'ct-popup-link';
    var s = document.createElement('div');
    s.className = 'ct-popup-status'; s.textContent = cfg.statusLabels[p.status] || p.status;
    d.appendChild(a); d.appendChild(s);
    return d;
  }
  function icon(cls, size, bg, text) {
    var span = document.createElement('span');
    span.style.background = bg; span.style.width = size + 'px'; span.style.height = size + 'px';
    if (text) { span.textContent = text; }
    return L.divIcon({className: cls, html: span, iconSize: [size, size]});
  }
  function draw(data) {
    layer.clearLayers();
    data.features.forEach(function (f) {
      var ll = [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      var p = f.properties, m;
      if (p.cluster) {
        var size = Math.round(28 + Math.min(26, Math.log(p.count) * 4));
        m = L.marker(ll, {icon: icon('ct-cluster', size, colour(p.service), String(p.count)),
                          title: p.count + ' reports', alt: p.count + ' reports'});
        m.on('click', function () { map.setView(ll, Math.min(map.getZoom() + 2, 19)); });
      } else {
        var closed = cfg.closedStatuses.indexOf(p.status) >= 0;
        m = L.marker(ll, {icon: icon('ct-dot' + (closed ? ' ct-closed' : ''), 16, colour(p.service)),
                          title: p.title, alt: p.title});
        m.bindPopup(popup(p));
      }
      layer.addLayer(m);
      var el = m.getElement && m.getElement();
      if (el) {
        el.dataset.kind = p.cluster ? 'cluster' : 'ticket';
        if (p.id) { el.dataset.ticketId = p.id; }
      }
    });
    var count = data.total === 1 ? '1 report in view' : data.total + ' reports in view';
    var grouped = data.features.some(function (f) { return f.properties && f.properties.cluster; });
    var shown = data.total === 0 ? 'No open reports in view'
      : (data.mode === 'points' || !grouped) ? count
      : count + ', grouped by area (zoom in for single reports)';
    // The API's notice (area clipped to the city, or outside it) matters to a resident only when the
    // map shows nothing; a view wider than the city is the normal city-wide view.
    var notice = data.total === 0 && data.notice ? ' · ' + data.notice : '';
    if (statusEl) { statusEl.textContent = shown + notice; }
    box.dataset.features = String(data.features.length);
    box.dataset.mode = data.mode;
  }
  function load() {
    if (ctrl) { ctrl.abort(); }
    ctrl = new AbortController();
    box.dataset.loading = '1';
    var opts = {signal: ctrl.signal, headers: {Accept: 'application/geo+json'}};
    fetch(cfg.endpoint + '?' + query().toString(), opts)
      .then(function (r) { return r.json().then(function (d) {
        if (!r.ok) { throw new Error(d.description || r.statusText); } return d; }); })
      .then(function (d) { draw(d); box.dataset.loading = '0'; })
      .catch(function (e) {
        if (e.name === 'AbortError') { return; }
        box.dataset.loading = '0';
        if (statusEl) { statusEl.textContent = 'Could not load reports: ' + e.message; }
      });
  }
  function later() { clearTimeout(timer); timer = setTimeout(load, 120); }
  map.on('moveend', later);
  if (form) {
    form.addEventListener('change', function () {
      var q = new URLSearchParams();
      new FormData(form).forEach(function (v, k) { if (v !== '') { q.append(k, v); } });
      history.replaceState(null, '', q.toString() ? '?' + q.toString() : location.pathname);
      load();
    });
    form.addEventListener('submit', function (ev) { ev.preventDefault(); load(); });
  }
  window.ctPublicMap = map;
  load();
})();
"""


def public_map(
    *,
    center: tuple[float, float],
    bbox: tuple[float, float, float, float],
    endpoint: str,
    colors: dict[str, str],
    status_labels: dict[str, str],
    closed_statuses: list[str],
    zoom: int = 13,
    height: str = "70vh",
    form_id: str = "map-filters",
    status_id: str = "map-status",
    leaflet_js: str = LEAFLET_JS,
    leaflet_css: str = LEAFLET_CSS,
) -> MapParts:
    """The public map: no tickets embedded; its script fetches `endpoint` for the viewport on every move."""
    min_lon, min_lat, max_lon, max_lat = bbox
    pad_lon, pad_lat = (max_lon - min_lon) * 0.5, (max_lat - min_lat) * 0.5
    fmap = _base_map(
        center[0],
        center[1],
        zoom,
        dom_id="public",
        leaflet_js=leaflet_js,
        leaflet_css=leaflet_css,
        max_bounds=True,
        min_lat=min_lat - pad_lat,
        max_lat=max_lat + pad_lat,
        min_lon=min_lon - pad_lon,
        max_lon=max_lon + pad_lon,
    )
    cfg = {
        "endpoint": endpoint,
        "colors": colors,
        "statusLabels": status_labels,
        "closedStatuses": closed_statuses,
        "formId": form_id,
        "statusId": status_id,
    }
    code = _PUBLIC_JS.replace("__MAP__", fmap.get_name()).replace("__CFG__", script_json(cfg))
    _Script(code).add_to(fmap)
    return _parts(fmap, height, leaflet_js, leaflet_css)


_TICKET_JS = r"""
(function () {
  var map = __MAP__;
  var cfg = __CFG__;
  var span = document.createElement('span');
  span.style.background = cfg.color;
  var pin = L.marker([cfg.lat, cfg.lon], {
    draggable: cfg.draggable, title: cfg.label, alt: cfg.label, autoPan: true,
    icon: L.divIcon({className: 'ct-pin', html: span, iconSize: [22, 22], iconAnchor: [11, 26]})
  }).addTo(map);
  function put(id, v) {
    var el = id && document.getElementById(id);
    if (el) { el.value = v.toFixed(6); el.dispatchEvent(new Event('change', {bubbles: true})); }
  }
  if (cfg.draggable) {
    var moved = function (ll) { put(cfg.latInput, ll.lat); put(cfg.lonInput, ll.lng); };
    pin.on('dragend', function () { moved(pin.getLatLng()); });
    map.on('click', function (ev) { pin.setLatLng(ev.latlng); moved(ev.latlng); });
  }
  map.getContainer().ctPin = pin;
})();
"""


def ticket_map_html(
    lat: float,
    lon: float,
    draggable: bool = False,
    *,
    zoom: int = 17,
    height: str = "260px",
    color: str = "#0b5cad",
    label: str = "Reported location",
    lat_input_id: str | None = None,
    lon_input_id: str | None = None,
    dom_id: str = "ticket",
    leaflet_js: str = LEAFLET_JS,
    leaflet_css: str = LEAFLET_CSS,
) -> MapParts:
    """A small map with one pin; with draggable=True a drag or a click moves it and fills the inputs."""
    fmap = _base_map(lat, lon, zoom, dom_id=dom_id, leaflet_js=leaflet_js, leaflet_css=leaflet_css)
    cfg = {
        "lat": round(lat, 7),
        "lon": round(lon, 7),
        "draggable": draggable,
        "color": color,
        "label": label,
        "latInput": lat_input_id,
        "lonInput": lon_input_id,
    }
    code = _TICKET_JS.replace("__MAP__", fmap.get_name()).replace("__CFG__", script_json(cfg))
    _Script(code).add_to(fmap)
    return _parts(fmap, height, leaflet_js, leaflet_css)
