"""The open311 blueprint itself, apart from its views so that they can import it without a cycle."""

from __future__ import annotations

from flask import Blueprint

from civictracker.extensions import csrf

bp = Blueprint("open311", __name__)
# No browser session is involved: the api_key is the credential, so CSRF tokens do not apply here.
csrf.exempt(bp)
