"""A crew on a 390 px phone: route order, one tap resolves, and a save with no signal keeps the note."""

from __future__ import annotations

from civictracker.extensions import db
from civictracker.models import Ticket
from civictracker.services.tickets import assign_crew
from civictracker.services.users import create_user
from tests import factories
from tests.browser.conftest import screenshot

EMAIL, PASSWORD = "crew-phone@city.example", "correct horse battery"
NOTE = "Filled with cold patch; will seal Monday."


def _seed(app) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    with app.app_context():
        s = db.session
        crew = factories.crew(s, "Streets Phone", lat=42.3700, lon=-71.0960)
        create_user(s, EMAIL, PASSWORD, role="crew", crew_id=crew.id)
        far = factories.ticket(s, lat=42.3780, lon=-71.1180, address="900 Massachusetts Ave")
        near = factories.ticket(s, "graffiti", lat=42.3707, lon=-71.0975, address="Hampshire St & Windsor St")
        urgent = factories.ticket(s, "tree", lat=42.3800, lon=-71.1200, address="1 Oxford St", urgent=True)
        for t in (far, near, urgent):
            assign_crew(s, t, crew, replies=factories.replies())
        s.commit()
        return urgent.id, near.id, far.id


def test_crew_phone_route_offline_note_and_one_tap_resolve(browser, live_app) -> None:  # type: ignore[no-untyped-def]
    app, base = live_app
    urgent, near, far = _seed(app)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    offline = {"on": False}

    def gate(route):  # type: ignore[no-untyped-def]
        if not route.request.url.startswith(base):
            return route.abort()
        if offline["on"] and route.request.method == "POST":
            return route.abort("internetdisconnected")
        return route.continue_()

    page.route("**/*", gate)
    try:
        page.goto(f"{base}/auth/login")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url("**/console/crew")
        order = page.eval_on_selector_all("li.crew-stop", "els => els.map(e => e.id)")
        # Urgent first; then the nearest next stop from there (the far one is next to the urgent one).
        assert order == [f"stop-{urgent}", f"stop-{far}", f"stop-{near}"]
        assert page.evaluate("document.scrollingElement.scrollWidth") <= 390  # nothing off-screen
        resolve = page.locator(f"#stop-{near} button[value=resolved]")
        box = resolve.bounding_box()
        assert box and box["x"] + box["width"] <= 390 and box["height"] >= 40  # a thumb-sized button
        page.fill(f"#note-{near}", NOTE)
        offline["on"] = True
        resolve.click()
        status = page.locator(f"#stop-{near} .save-status")
        status.wait_for(state="visible")
        page.wait_for_function(
            f"() => document.querySelector('#stop-{near} .save-status').textContent.includes('no connection')"
        )
        assert page.input_value(f"#note-{near}") == NOTE
        screenshot(page, "crew_phone_offline")
        page.reload()
        assert page.input_value(f"#note-{near}") == NOTE  # kept across a reload too
        offline["on"] = False
        page.locator(f"#stop-{near} button[value=resolved]").click()
        page.wait_for_selector(f"#stop-{near}", state="detached")
        screenshot(page, "crew_phone_after_resolve")
        with app.app_context():
            ticket = db.session.get(Ticket, near)
            assert ticket.status == "resolved" and ticket.events[-1].public_note == NOTE
        assert page.evaluate("localStorage.length") == 0  # the kept note is gone once it went
    finally:
        context.close()
