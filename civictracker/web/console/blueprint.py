"""The console blueprint itself, apart from its views so that they can import it without a cycle."""

from __future__ import annotations

from flask import Blueprint

from civictracker.web.http_cache import no_store

bp = Blueprint("console", __name__, static_folder="static", static_url_path="/static/console")
# Queues, tickets with reporters, metrics: nothing here may sit in a browser or proxy cache.
bp.after_request(no_store)


@bp.context_processor
def _leaflet_assets() -> dict[str, str]:
    # Leaflet served by this site (vendored by the public blueprint): the CSP allows no CDN.
    from civictracker.geo.maps import LEAFLET_CSS, LEAFLET_JS

    return {"leaflet_js": LEAFLET_JS, "leaflet_css": LEAFLET_CSS}
