"""The open311 blueprint itself, apart from its views so that they can import it without a cycle."""

from __future__ import annotations

from flask import Blueprint, Response, request

from civictracker.extensions import csrf

bp = Blueprint("open311", __name__)
# No browser session is involved: the api_key is the credential, so CSRF tokens do not apply here.
csrf.exempt(bp)


@bp.after_request
def allow_cross_origin_reads(response: Response) -> Response:
    """A 311 app on another origin may read the API in a browser: the reads are public and carry no cookie.

    Only reads: a POST needs its api_key, which must not live in a page anyone can open.
    """
    if request.method in {"GET", "HEAD", "OPTIONS"}:
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "Link, ETag, Retry-After"
    return response
