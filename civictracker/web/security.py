"""Security headers on every response: a CSP with a per-request nonce, no framing, no referrer leaks, HSTS.

The pages' own inline <script> and <style> blocks carry the request's nonce (`csp_nonce()` in templates);
every script and stylesheet file is the app's own (Leaflet is vendored), so nothing remote runs. Images are
the one remote resource: map tiles, and residents' photos a dispatcher approved, which live on the
platforms' media servers (X's, and every Mastodon instance's own), so any https image. An image cannot run
code, and Referrer-Policy keeps the page's address from those servers. Style attributes stay allowed
(`style-src-attr`): they cannot run code or select elements, and the pages set map heights and legend
colours with them.
"""

from __future__ import annotations

import secrets

from flask import Flask, Response, request

TILE_ORIGIN = "https://tile.openstreetmap.org"  # geo/maps.py OSM_TILES; covered by img-src https:
HSTS = "max-age=31536000"  # a year; only sent when cookies are Secure, i.e. the site is served over HTTPS


NONCE_KEY = "civictracker.csp_nonce"


def csp_nonce() -> str:
    """This request's nonce for inline <script>/<style> blocks, made on first use; kept in the request's
    environ, not `g`, which an app context shared by several requests (tests, CLI) would share too."""
    nonce: str | None = request.environ.get(NONCE_KEY)
    if nonce is None:
        nonce = request.environ[NONCE_KEY] = secrets.token_urlsafe(16)
    return nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join(
        [
            "default-src 'none'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "style-src-attr 'unsafe-inline'",
            "img-src 'self' data: https:",  # tiles (TILE_ORIGIN) and approved photos from any platform
            "connect-src 'self'",
            "font-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ]
    )


def register(app: Flask) -> None:
    @app.context_processor
    def _nonce() -> dict[str, object]:
        return {"csp_nonce": csp_nonce}

    @app.after_request
    def _headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        if app.config.get("SESSION_COOKIE_SECURE"):  # CIVICTRACKER_SESSION_COOKIE_SECURE: served over HTTPS
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
