"""axe-core on every public page at desktop and phone width: the map (open and closed), an open, a resolved
and a rejected ticket, a missing ticket, the login and password-link pages, an unknown address."""

from __future__ import annotations

import pytest

from civictracker.extensions import db
from civictracker.models import TicketStatus
from civictracker.services.tickets import EventNote, change_status
from tests import factories
from tests.browser.a11y import serious_violations
from tests.browser.conftest import live_server


def _seed(app) -> list[str]:  # type: ignore[no-untyped-def]
    with app.app_context():
        session = db.session
        first = None
        for i in range(14):  # a group at city zoom and markers of several colours
            ticket = factories.ticket(session, ["pothole", "streetlight", "graffiti", "other"][i % 4],
                                      lat=42.3650 + i * 0.0003, lon=-71.1040 + i * 0.0002,
                                      address=f"{600 + i} Massachusetts Ave")  # fmt: skip
            first = first or ticket
        resolved = factories.ticket(session, "pothole", lat=42.3700, lon=-71.1100, address="20 Prospect St")
        change_status(session, resolved, TicketStatus.RESOLVED, note=EventNote(public="Filled today."),
                      replies=factories.replies())  # fmt: skip
        rejected = factories.ticket(session, "graffiti", lat=42.3710, lon=-71.1110, address="30 Prospect St")
        change_status(session, rejected, TicketStatus.REJECTED, note=EventNote(public="Private property."),
                      replies=factories.replies())  # fmt: skip
        session.commit()
        assert first is not None
        tickets = [f"/tickets/{t.id}" for t in (first, resolved, rejected)]
    return [
        "/",
        "/?status=closed",
        *tickets,
        "/tickets/999999",
        "/auth/login",
        "/auth/reset/nothing",
        "/nope",
    ]


@pytest.mark.parametrize("width", [1366, 390])
def test_no_serious_accessibility_violation_on_any_public_page(browser, tmp_path, width) -> None:  # type: ignore[no-untyped-def]
    found = {}
    with live_server("sqlite", tmp_path) as (app, base):  # its own tickets: the shared live app's counts stay
        pages = _seed(app)
        context = browser.new_context(viewport={"width": width, "height": 860})
        page = context.new_page()
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith(base) else r.abort())
        try:
            for url in pages:
                page.goto(base + url)
                page.wait_for_load_state("networkidle")
                found[url] = serious_violations(page)
        finally:
            context.close()
    assert found == {url: [] for url in pages}
