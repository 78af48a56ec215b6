"""Platform callbacks at /webhooks: X Account Activity deliveries, authenticated by signature, not session."""

from __future__ import annotations

from flask import Blueprint

from civictracker.extensions import csrf

bp = Blueprint("webhooks", __name__)
# The platform is the caller and signs each delivery with the app's secret: no browser session, no CSRF token.
csrf.exempt(bp)

from civictracker.web.webhooks import views  # noqa: E402,F401  (registers the routes on bp)
