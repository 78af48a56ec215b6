"""The metrics page's first-response table, in Chromium, on SQLite."""

from __future__ import annotations

import threading

from werkzeug.serving import make_server

from civictracker.extensions import db
from civictracker.services.users import create_user
from tests.browser.conftest import screenshot
from tests.conftest import drop_app, make_app
from tests.intake.helpers import deliver

EMAIL, PASSWORD = "metrics@city.example", "correct horse battery"


def test_first_response_table_on_the_metrics_page(browser, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app, pg_db = make_app("sqlite", tmp_path, extra={"TESTING": True})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
    try:
        with app.app_context():
            create_user(db.session, EMAIL, PASSWORD, role="dispatcher", name="Dana Dispatcher")
            db.session.commit()
            deliver("@CambridgeMA is the snow emergency over?")
            deliver("BUY FOLLOWERS cheap at spam.example http://x.co")
            deliver("Big pothole at Hampshire St and Windsor St", lat=42.3707, lon=-71.0975)
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
        page.goto(base + "/console/metrics")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/console/metrics")
        table = page.locator("#first-response table")
        assert table.is_visible()
        text = page.inner_text("#first-response")
        assert "3 post(s) received" in text and "system decision" in text and "none yet" in text
        screenshot(page, "metrics_first_response")
    finally:
        context.close()
        server.shutdown()
        drop_app(app, pg_db)
