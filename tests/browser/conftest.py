"""Browser fixtures: the app on a free port in a thread (SQLite), and Debian's Chromium through Playwright."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from tests.conftest import drop_app, make_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


@contextmanager
def live_server(backend: str, tmp: Path, *, csrf: bool = False) -> Iterator[tuple[Flask, str]]:
    """(app, base_url): a migrated app on `backend` behind a real HTTP server in a daemon thread, so the
    browser talks to the real stack; `csrf`: form posts need their token, as in production."""
    extra = {"TESTING": True, "WTF_CSRF_ENABLED": csrf}
    app, pg_db = make_app(backend, tmp, extra=extra)
    app.config["CT_BACKEND"] = backend
    server = make_server("127.0.0.1", 0, app, threaded=True)  # port 0: the system picks a free one
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        drop_app(app, pg_db)


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    """The SQLite app behind a live server, CSRF off, shared by the browser tests of this session."""
    with live_server("sqlite", tmp_path_factory.mktemp("browser")) as served:
        yield served


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture()
def page(browser, live_app):  # type: ignore[no-untyped-def]
    """A page that may only reach the app: anything else (OSM tiles, CDNs) is aborted, so no test goes online."""
    _, base = live_app
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    pg = context.new_page()
    pg.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
    # The Content-Security-Policy (web/security.py) must never block the app's own code or styles.
    refused: list[str] = []
    pg.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield pg
    context.close()
    assert not refused, f"CSP blocked: {refused}"


def screenshot(page, name: str) -> Path:  # type: ignore[no-untyped-def]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
