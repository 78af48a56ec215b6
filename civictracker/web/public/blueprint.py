"""The public blueprint itself, apart from its views so that they can import it without a cycle."""

from __future__ import annotations

from flask import Blueprint

# Leaflet is vendored in static/ so the map needs no CDN (and works in offline tests).
bp = Blueprint("public", __name__, static_folder="static", static_url_path="/static/public")
