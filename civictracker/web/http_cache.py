"""HTTP caching of public reads: ETags from the O(1) data version, a short public max-age, 304s; private
pages never stored."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from flask import Response, request, session
from flask_login import current_user

from civictracker.extensions import current_session
from civictracker.services.public_version import public_data_version

PUBLIC_MAX_AGE = 30  # seconds a browser or proxy may reuse a public answer without asking again
CLOCK_BUCKET_S = 60  # answers that depend on the clock ("last 90 days") change at most this often
PRIVATE = "private, no-store"
SCHEME = "1"  # bump when a representation changes without the data changing (a deploy)


def public_etag(kind: str, *, clock: bool = False) -> str:
    """A weak validator for this URL: the data version, path and query, and the minute when `clock`."""
    parts = [
        SCHEME,
        kind,
        str(public_data_version(current_session())),
        request.path,
        request.query_string.decode("latin-1"),
    ]
    if clock:
        parts.append(str(int(time.time() // CLOCK_BUCKET_S)))
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=12).hexdigest()


def _stamp(resp: Response, etag: str, max_age: int, vary_cookie: bool) -> Response:
    resp.set_etag(etag, weak=True)
    resp.headers["Cache-Control"] = f"public, max-age={max_age}"
    if vary_cookie:
        resp.vary.add("Cookie")
    return resp


def cached_public(
    kind: str,
    build: Callable[[], Response],
    *,
    clock: bool = False,
    max_age: int = PUBLIC_MAX_AGE,
    vary_cookie: bool = False,
) -> Response:
    """Answer 304 when the client's ETag still holds (before any query but the version), else build it.

    Only a 200 carries the validator: an error answer is never cached as if it were the data."""
    etag = public_etag(kind, clock=clock)
    if request.if_none_match.contains_weak(etag):
        return _stamp(Response(status=304), etag, max_age, vary_cookie)
    resp = build()
    if resp.status_code != 200:
        return resp
    return _stamp(resp, etag, max_age, vary_cookie)


def public_page(kind: str, build: Callable[[], Response], *, max_age: int = PUBLIC_MAX_AGE) -> Response:
    """A public HTML page: cached for visitors; never stored for a signed-in user (the header names them)
    nor when it carries a flashed message."""
    if current_user.is_authenticated or session.get("_flashes"):
        resp = build()
        resp.headers["Cache-Control"] = PRIVATE
        resp.vary.add("Cookie")
        return resp
    return cached_public(kind, build, max_age=max_age, vary_cookie=True)


def no_store(resp: Response) -> Response:
    """after_request hook of the staff blueprints: their pages hold private data and are never stored."""
    resp.headers["Cache-Control"] = PRIVATE
    resp.headers["Pragma"] = "no-cache"
    return resp
