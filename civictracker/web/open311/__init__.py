"""Open311 GeoReport v2 at /open311/v2: a blueprint whose POST is authenticated by API key, not by session."""

from __future__ import annotations

from flask import Blueprint

from civictracker.extensions import csrf

bp = Blueprint("open311", __name__)
# No browser session is involved: the api_key is the credential, so CSRF tokens do not apply here.
csrf.exempt(bp)

from civictracker.web.open311 import views  # noqa: E402,F401  (registers the routes on bp)
