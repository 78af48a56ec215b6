"""Admin and dispatcher pages in a real browser (CSRF on) at desktop, tablet and phone widths: a crew made by
clicking the map, a Spanish reply template edited with its live preview, triage read as reasons, labelled
fields, a queue that never scrolls sideways."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from civictracker.extensions import db
from civictracker.models import Crew, ReplyOverride, TicketStatus
from civictracker.runtime import runtime_of
from civictracker.services.users import create_user
from tests import factories
from tests.browser.conftest import live_server, screenshot
from tests.intake.helpers import deliver

ADMIN, DISPATCHER, PASSWORD = "admin@city.example", "dispatch@city.example", "correct horse battery"
WIDTHS = {"desktop": (1366, 900), "tablet": (768, 1024), "tablet_wide": (1024, 768), "phone": (390, 844)}
# The visible form controls of the page without a <label> (aria-label alone does not count).
UNLABELLED = (
    "() => Array.from(document.querySelectorAll('main textarea, main select, main input'))"
    ".filter(e => !['hidden', 'submit', 'button'].includes(e.type) && e.offsetParent !== null)"
    ".filter(e => !(e.labels && e.labels.length)).map(e => e.id || e.name)"
)
WIDE = (
    "() => Array.from(document.querySelectorAll('main *')).filter(e => e.getBoundingClientRect().right >"
    " document.documentElement.clientWidth + 1).slice(0, 8).map(e => e.tagName + '#' + e.id + '.' + e.className"
    " + ' ' + Math.round(e.getBoundingClientRect().right))"
)
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:
    with live_server("sqlite", tmp_path_factory.mktemp("console-admin"), csrf=True) as served:
        app = served[0]
        with app.app_context():
            create_user(db.session, ADMIN, PASSWORD, role="admin", name="Ada Admin")
            create_user(db.session, DISPATCHER, PASSWORD, role="dispatcher", name="Dana Dispatcher")
            db.session.commit()
            # The gazetteer loads on first use (seconds on a busy machine): before the browser's "Find".
            runtime_of(app).gazetteer()
        yield served


def _page(browser, base: str, size: tuple[int, int]):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, timezone_id="UTC")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
    refused: list[str] = []
    pg.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    pg.refused = refused
    return context, pg


def _login(pg, base: str, email: str) -> None:  # type: ignore[no-untyped-def]
    pg.goto(base + "/auth/login")
    pg.fill("input[name=email]", email)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(re.compile(r"/console/"))


def test_admin_creates_a_crew_by_clicking_the_map_and_sees_it_on_the_console_map(browser, app_url) -> None:  # type: ignore[no-untyped-def]
    app, base = app_url
    context, pg = _page(browser, base, WIDTHS["desktop"])
    _login(pg, base, ADMIN)
    pg.goto(base + "/console/admin/crews")
    pg.fill("#name", "Yard West")
    assert pg.input_value("#lat") == ""
    box = pg.locator("#crew-map").bounding_box()
    pg.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
    pg.wait_for_function("() => document.getElementById('lat').value !== ''")
    lat, lon = float(pg.input_value("#lat")), float(pg.input_value("#lon"))
    assert pg.locator("#crew-map .leaflet-marker-icon").count() == 1
    assert "Home base set on the map" in pg.inner_text("#base-status")
    screenshot(pg, "admin_crew_1_clicked_1366")
    pg.click("#crew-form button[type=submit]")
    pg.locator(".flash", has_text="Crew Yard West created.").wait_for()
    with app.app_context():
        crew = db.session.query(Crew).filter_by(name="Yard West").one()
        assert (round(crew.lat, 6), round(crew.lon, 6)) == (round(lat, 6), round(lon, 6))
    # The address way, with Find: the offline geocoder places it before saving.
    pg.fill("#name", "Yard East")
    pg.fill("#address", "Hampshire St and Windsor St")
    pg.click("#find-base")
    pg.locator("#base-status", has_text="Found: Hampshire St & Windsor St").wait_for(timeout=60_000)
    pg.click("#crew-form button[type=submit]")
    pg.locator(".flash", has_text="Crew Yard East created.").wait_for()
    assert "Hampshire St & Windsor St" in pg.inner_text("table")
    screenshot(pg, "admin_crew_2_list_1366")
    # The console map draws both home bases.
    pg.goto(base + "/console/map")
    pg.wait_for_function("() => document.getElementById('console-map').dataset.loading === '0'")
    pg.locator(".ct-crew-icon").first.wait_for()
    names = pg.eval_on_selector_all(".leaflet-marker-icon.ct-crew-icon", "els => els.map(e => e.title)")
    assert {"Yard West", "Yard East"} <= set(names), names
    assert re.search(r"Showing \d+ of \d+ open ticket", pg.inner_text("#map-note"))
    screenshot(pg, "admin_crew_3_console_map_1366")
    assert not pg.refused, pg.refused
    context.close()

    context, pg = _page(browser, base, WIDTHS["phone"])
    _login(pg, base, ADMIN)
    pg.goto(base + "/console/admin/crews")
    assert pg.evaluate(OVERFLOW) <= 0
    assert pg.evaluate(UNLABELLED) == []
    screenshot(pg, "admin_crew_4_form_390")
    context.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_admin_edits_a_spanish_template_with_a_live_preview(browser, app_url, size) -> None:  # type: ignore[no-untyped-def]
    app, base = app_url
    context, pg = _page(browser, base, WIDTHS[size])
    width = WIDTHS[size][0]
    _login(pg, base, ADMIN)
    pg.goto(base + "/console/admin/replies?lang=es")
    assert pg.evaluate(OVERFLOW) <= 0
    screenshot(pg, f"admin_replies_1_list_es_{width}")
    pg.click("a[aria-label='Edit ack (es)']")
    pg.wait_for_url(re.compile(r"/console/admin/replies/reply/es/ack$"))
    assert pg.evaluate(UNLABELLED) == []

    def typed(text: str, wait_for: str) -> None:
        pg.fill("#text", text)
        pg.wait_for_function(
            "(want) => document.getElementById('reply-form').dataset.previewing === '0' &&"
            " (document.getElementById('preview').innerText.includes(want))",
            arg=wait_for,
        )

    typed("Recibido: {service} en {street} es {ticket_ref}. {expected} Síganlo en {url}", "CT-1234")
    shown = pg.inner_text("#preview-text")
    assert shown.startswith("Recibido: ") and "Main St y Oak St" in shown and "{" not in shown, shown
    screenshot(pg, f"admin_replies_2_preview_{width}")

    typed('<script>document.body.id="pwned"</script><img id="pwned2" src=x> {url}', "HTML tag")
    assert "<script>" in pg.inner_text("#preview-text")  # shown as the text it is, never run
    assert pg.locator("#pwned2").count() == 0 and pg.evaluate("() => document.body.id") != "pwned"
    typed("Gracias {nombre}", "Unknown placeholder {nombre}")
    assert "Allowed placeholders:" in pg.inner_text("#preview-error")
    screenshot(pg, f"admin_replies_3_unknown_placeholder_{width}")
    typed("Gracias por avisarnos. " * 12 + "{ticket_ref} {url}", "On X this reply is")
    screenshot(pg, f"admin_replies_4_too_long_{width}")

    pg.fill("#text", "¡Recibido! {ticket_ref}: {url}")
    pg.click("#reply-form button[type=submit]")
    pg.locator(".flash", has_text="Saved the es wording of ack").wait_for()
    with app.app_context():
        assert (
            db.session.query(ReplyOverride)
            .filter_by(lang="es", key="ack")
            .one()
            .text.startswith("¡Recibido!")
        )
    pg.click("#reset-form button[type=submit]")
    pg.locator(".flash", has_text="is the pack's text again").wait_for()
    assert pg.input_value("#text").startswith("Gracias por avisarnos")
    with app.app_context():
        assert db.session.query(ReplyOverride).count() == 0
    assert pg.evaluate(OVERFLOW) <= 0
    assert not pg.refused, pg.refused
    context.close()


@pytest.mark.parametrize("size", ["desktop", "tablet", "tablet_wide", "phone"])
def test_dispatcher_reads_triage_reasons_labelled_fields_and_a_queue_that_fits(
    browser, app_url, size
) -> None:  # type: ignore[no-untyped-def]
    app, base = app_url
    width = WIDTHS[size][0]
    with app.app_context():
        post = deliver(
            f"hay un bache enorme en Hampshire St y Windsor St, peligroso ({size})", author=f"r-{size}"
        )
        unplaced = factories.ticket(
            db.session,
            lat=None,
            lon=None,
            status=TicketStatus.NEEDS_LOCATION,
            summary="Broken sign somewhere near the park",
            location_text="near the park",
        )
        for i in range(6):
            factories.ticket(db.session, summary=f"Pothole number {i} with a long description " * 2)
        db.session.commit()
        ticket_id, unplaced_ref = post.ticket_id, unplaced.ref
    context, pg = _page(browser, base, WIDTHS[size])
    _login(pg, base, DISPATCHER)

    pg.goto(f"{base}/console/tickets/{ticket_id}")
    reasons = pg.inner_text("#triage-reasons")
    for text in ("A service request (", "Category", "Pothole", "Spanish (es)", "Urgent"):
        assert text in reasons, reasons
    assert pg.locator("details pre.reason").is_hidden()  # the raw record is folded away
    assert pg.evaluate(UNLABELLED) == []
    assert pg.locator("#status-to_status").input_value() in ("acknowledged", "open")
    assert pg.locator("#status-to_status option").first.get_attribute("value") != "hidden"
    assert pg.evaluate(OVERFLOW) <= 0, pg.evaluate(WIDE)
    screenshot(pg, f"dispatcher_ticket_{width}")

    pg.goto(f"{base}/console/queue")
    assert pg.evaluate(OVERFLOW) <= 0, (f"the queue scrolls sideways at {width} px", pg.evaluate(WIDE))
    section = pg.inner_text("#needs-place")
    assert "Needs a place" in section and unplaced_ref in section
    assert unplaced_ref not in pg.inner_text("table.queue")
    screenshot(pg, f"dispatcher_queue_{width}")

    pg.goto(f"{base}/console/tickets/{unplaced_ref.removeprefix('CT-')}")
    assert "No place yet." in pg.inner_text("#no-place")
    assert pg.locator("#pin-map .leaflet-marker-icon").count() == 0  # not drawn at the city centre
    assert pg.evaluate(OVERFLOW) <= 0
    if size == "desktop":
        screenshot(pg, f"dispatcher_ticket_no_place_{width}")
    assert not pg.refused, pg.refused
    context.close()
