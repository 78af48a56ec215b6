"""Flask-Limiter for the app: its storage (Redis, else memory) holds the login and Open311 limits."""

from __future__ import annotations

from flask import Flask, current_app
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from civictracker.config import Settings

EXTENSION = "civictracker.limiter"


def init_rate_limits(app: Flask, settings: Settings) -> Limiter:
    """One Limiter per app (Flask-Limiter keeps its storage on the instance; tests build many apps).

    With CIVICTRACKER_REDIS_URL the counts live in Redis, so every gunicorn worker (and every web
    host) shares them; the embedded default is one process and counts in memory. Keys carry the queue
    name, the deployment's namespace in a shared Redis, as rq's keys do.
    """
    from civictracker.web.open311 import bp as open311_bp

    limiter = Limiter(
        key_func=get_remote_address,
        storage_uri=settings.redis_url or "memory://",
        strategy="moving-window",
        key_prefix=f"{settings.queue_name}:limits",
        headers_enabled=True,  # X-RateLimit-* and Retry-After on limited routes
        # Redis away: the API is served unlimited, with a logged warning, rather than a 500 for everyone
        # (logins are the exception: they fail closed, see web/auth/ratelimit.py).
        swallow_errors=True,
    )
    limiter.init_app(app)
    # Over the limit, Flask-Limiter raises a 429 that the Open311 blueprint's error handler writes as an
    # Open311 error list ([{"code": 429, "description": ...}]) in the request's format.
    # One budget per address for the whole API (shared scopes), not one per endpoint.
    message = "Too many requests from this address; wait and try again (see Retry-After)."
    if settings.open311_rate_limit:
        limiter.shared_limit(settings.open311_rate_limit, scope="open311", error_message=message)(open311_bp)
    if settings.open311_post_rate_limit:
        limiter.shared_limit(
            settings.open311_post_rate_limit, scope="open311-post", methods=["POST"], error_message=message
        )(open311_bp)
    app.extensions[EXTENSION] = limiter
    return limiter


def limiter_of(app: Flask | None = None) -> Limiter:
    limiter = (app or current_app).extensions[EXTENSION]
    assert isinstance(limiter, Limiter)
    return limiter
