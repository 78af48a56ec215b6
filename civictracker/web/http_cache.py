"""HTTP caching of public reads: ETags from the O(1) data version, a short public max-age, 304s; private
pages never stored."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

from cachetools import TTLCache
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


# Built answers per (database, ETag), per worker process: the ETag already names the data version, the
# URL and (for clock-dependent answers) the minute, so an entry is never stale; bounded in bytes.
_Stored = tuple[bytes, str, dict[str, str]]  # body, content type, extra headers
ANSWERS: TTLCache[tuple[str, str], _Stored] = TTLCache(
    maxsize=32 * 1024 * 1024, ttl=5 * PUBLIC_MAX_AGE, getsizeof=lambda stored: len(stored[0]) + 200
)
ANSWERS_LOCK = threading.Lock()  # cachetools' caches are not thread-safe
_KEPT_HEADERS = ("Link", "X-Page", "X-Page-Size", "X-Content-Type-Options")


def cached_public(
    kind: str,
    build: Callable[[], Response],
    *,
    clock: bool = False,
    max_age: int = PUBLIC_MAX_AGE,
    vary_cookie: bool = False,
    store: bool = True,
) -> Response:
    """Answer 304 when the client's ETag still holds (before any query but the version); else the answer
    built for that ETag by this process, if `store`; else build it.

    Only a 200 carries the validator or is stored: an error is never cached as if it were the data.
    `store` only for answers that are the same for every visitor (no user, no session)."""
    etag = public_etag(kind, clock=clock)
    if request.if_none_match.contains_weak(etag):
        return _stamp(Response(status=304), etag, max_age, vary_cookie)
    key = (str(current_session().get_bind().engine.url), etag)
    if store:
        with ANSWERS_LOCK:
            stored = ANSWERS.get(key)
        if stored is not None:
            body, content_type, headers = stored
            return _stamp(
                Response(body, content_type=content_type, headers=headers), etag, max_age, vary_cookie
            )
    resp = build()
    if resp.status_code != 200:
        return resp
    if store and not resp.is_streamed:
        headers = {h: resp.headers[h] for h in _KEPT_HEADERS if h in resp.headers}
        with ANSWERS_LOCK:
            ANSWERS[key] = (resp.get_data(), str(resp.content_type), headers)
    return _stamp(resp, etag, max_age, vary_cookie)


def public_page(kind: str, build: Callable[[], Response], *, max_age: int = PUBLIC_MAX_AGE) -> Response:
    """A public HTML page: cached for visitors; never stored for a signed-in user (the header names them)
    nor when it carries a flashed message."""
    if current_user.is_authenticated or session.get("_flashes"):
        resp = build()
        resp.headers["Cache-Control"] = PRIVATE
        resp.vary.add("Cookie")
        return resp
    # Not stored: the page is small to build, and stays out of a cache shared across visitors.
    return cached_public(kind, build, max_age=max_age, vary_cookie=True, store=False)


def no_store(resp: Response) -> Response:
    """after_request hook of the staff blueprints: their pages hold private data and are never stored."""
    resp.headers["Cache-Control"] = PRIVATE
    resp.headers["Pragma"] = "no-cache"
    return resp
