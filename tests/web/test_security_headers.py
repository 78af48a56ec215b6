"""Security headers on every response (issue #16): CSP with a nonce, no framing, nosniff, referrer, HSTS."""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests import factories
from tests.web.console.console_helpers import logged_in

PUBLIC_PATHS = [
    "/",
    "/api/map.geojson",
    "/healthz",
    "/auth/login",
    "/open311/v2/services.json",
    "/open311/v2/requests.xml",
    "/open311/v2/nope",
    "/static/public/vendor/leaflet/leaflet.js",
    "/static/public/maps/maps.css",
    "/tickets/2147483648",  # 404 page
    "/api/map.geojson?bbox=nonsense",  # 400
    "/console/queue",  # redirect to login
]
_SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
_STYLE = re.compile(r"<style\b([^>]*)>", re.IGNORECASE)
_REMOTE = re.compile(r"""<(?:script|link)\b[^>]*(?:src|href)=["']?(?:https?:)?//""", re.IGNORECASE)


def _csp(response: Any) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split(" ", 1)[0]: part.partition(" ")[2] for part in policy.split("; ")}


def _check_headers(response: Any) -> None:
    csp = _csp(response)
    assert csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'none'"
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    assert "http" not in csp["script-src"] and "http" not in csp["style-src"]  # nothing remote runs
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("strict-origin-when-cross-origin", "no-referrer")


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_every_public_response_carries_the_headers(client: Any, path: str) -> None:
    response = client.get(path)
    assert response.status_code < 500
    _check_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP in tests: no HSTS


def _inline_blocks_carry_the_nonce(response: Any) -> None:
    html = response.get_data(as_text=True)
    nonce = _csp(response)["script-src"].split("'nonce-")[1].rstrip("'")
    assert f"'nonce-{nonce}'" in _csp(response)["style-src"]
    for attrs in _SCRIPT.findall(html):
        if "src=" in attrs or 'type="application/json"' in attrs:
            continue  # a file of ours, or data the browser never runs
        assert f'nonce="{nonce}"' in attrs, attrs
    for attrs in _STYLE.findall(html):
        assert f'nonce="{nonce}"' in attrs, attrs
    assert not _REMOTE.search(html), "a remote script or stylesheet"
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler"


def test_public_pages_run_only_their_own_files(client: Any, db: Session) -> None:
    ticket = factories.ticket(db, address="5 Main St")
    db.commit()
    first, second = client.get("/"), client.get(f"/tickets/{ticket.id}")
    for response in (first, second):
        assert response.status_code == 200
        _inline_blocks_carry_the_nonce(response)
    assert _csp(first)["script-src"] != _csp(second)["script-src"]  # a fresh nonce per response
    # Images: the map's tiles and approved photos on the platforms' servers; scripts stay the site's own.
    assert "https:" in _csp(first)["img-src"] and "https:" not in _csp(first)["script-src"]


def test_console_pages_run_only_their_own_files(client: Any, db: Session) -> None:
    logged_in(client, db, "admin")
    ticket = factories.ticket(db, address="5 Main St")
    db.commit()
    for path in ("/console/queue", "/console/map", f"/console/tickets/{ticket.id}", "/console/inbox",
                 "/console/metrics", "/console/admin/crews", "/console/admin/users"):  # fmt: skip
        response = client.get(path)
        assert response.status_code == 200, path
        _check_headers(response)
        _inline_blocks_carry_the_nonce(response)


def test_hsts_only_when_cookies_are_secure(app: Flask, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "Strict-Transport-Security" not in client.get("/").headers
    monkeypatch.setitem(app.config, "SESSION_COOKIE_SECURE", True)
    for path in ("/", "/open311/v2/services.json", "/tickets/2147483648"):
        hsts = client.get(path).headers["Strict-Transport-Security"]
        assert re.fullmatch(r"max-age=\d+", hsts) and int(hsts.split("=")[1]) >= 15552000
