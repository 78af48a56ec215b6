"""The public face (no login): the open-issue map, its viewport GeoJSON, and public ticket pages."""

from __future__ import annotations

from flask import Blueprint

# Leaflet is vendored in static/ so the map needs no CDN (and works in offline tests).
bp = Blueprint("public", __name__, static_folder="static", static_url_path="/static/public")

from civictracker.web.public import views  # noqa: E402,F401  (registers the routes on bp)
