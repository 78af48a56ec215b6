"""The webhooks blueprint itself, apart from its views so that they can import it without a cycle."""

from __future__ import annotations

from flask import Blueprint

from civictracker.extensions import csrf

bp = Blueprint("webhooks", __name__)
# The platform is the caller and signs each delivery with the app's secret: no browser session, no CSRF token.
csrf.exempt(bp)
