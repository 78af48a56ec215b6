"""The dispatcher's flow in a real browser, CSRF on: log in, assign a crew from the map, resolve, see it public."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from flask import Flask

from civictracker.extensions import db
from civictracker.models import Ticket
from civictracker.services.users import create_user
from tests import factories
from tests.browser.conftest import live_server, screenshot
from tests.conftest import BACKENDS

EMAIL, PASSWORD = "dispatch@city.example", "correct horse battery"
PUBLIC_NOTE = "Pothole filled and sealed by Streets North."
INTERNAL_NOTE = "Used 2 bags of cold patch; billed to work order 77-XK."
LOCAL_TIME = re.compile(r"\b(EST|EDT)\b")  # the city pack's zone (America/New_York), never UTC


@pytest.fixture(scope="module", params=BACKENDS)
def csrf_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:  # fmt: skip
    """A live server with CSRF protection ON (unlike the other tests): every form post needs its token."""
    with live_server(
        request.param, tmp_path_factory.mktemp(f"console-browser-{request.param}"), csrf=True
    ) as served:
        yield served


@pytest.fixture()
def cpage(browser, csrf_app):  # type: ignore[no-untyped-def]
    """A page that may only reach the app (tiles and CDNs are aborted: no test goes online)."""
    _, base = csrf_app
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
    pg = context.new_page()
    pg.set_default_timeout(15_000)
    pg.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
    yield pg
    context.close()


def _seed(app: Flask) -> tuple[int, int, int]:
    with app.app_context():
        session = db.session
        create_user(session, EMAIL, PASSWORD, role="dispatcher", name="Dana Dispatcher")
        crew = factories.crew(session, "Streets North", lat=42.3720, lon=-71.1000)
        factories.crew(session, "Streets South", lat=42.3620, lon=-71.0900)
        factories.crew(session, HOSTILE_CREW, lat=42.3900, lon=-71.1400)  # a name typed by staff, as text
        ticket = factories.ticket(
            session,
            "pothole",
            lat=42.3736,
            lon=-71.1097,
            address="1350 Massachusetts Ave",
            street="Massachusetts Ave",
            summary="Deep pothole in the bike lane outside the bank.",
        )
        other = factories.ticket(
            session, "streetlight", lat=42.3790, lon=-71.1180, address="10 Garden St",
            summary="Streetlight out at the corner.",
        )  # fmt: skip
        session.commit()
        return ticket.id, crew.id, other.id


@pytest.fixture(scope="module")
def seeded(csrf_app) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """(ticket to resolve, crew, another open ticket): seeded once per backend, whichever test runs first."""
    return _seed(csrf_app[0])


def _popup_shown(page) -> None:  # type: ignore[no-untyped-def]
    # Leaflet fades popups in: wait until the fade is over, or the screenshot catches it half-transparent.
    # A function, not an expression: Playwright evals expressions in the page, which the CSP forbids.
    page.wait_for_function(
        "() => { const p = document.querySelector('.leaflet-popup');"
        " return p && getComputedStyle(p).opacity === '1'; }"
    )


def _login(page, base: str) -> None:  # type: ignore[no-untyped-def]
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)


HOSTILE_CREW = '<img id="pwned" src="x">'


def test_dispatcher_assigns_from_map_resolves_and_public_sees_it(cpage, csrf_app, seeded) -> None:  # type: ignore[no-untyped-def]
    app, base = csrf_app
    tag = str(app.config["CT_BACKEND"])
    ticket_id, crew_id, other_id = seeded
    page = cpage

    # 1. The console map needs a login: the login form (with its CSRF token) brings the dispatcher back.
    page.goto(base + "/console/map")
    page.wait_for_url(re.compile(r"/auth/login\?next="))
    assert page.locator("input[name=csrf_token]").get_attribute("value")
    _login(page, base)
    screenshot(page, f"console_{tag}_1_login")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/map")
    assert "Cambridge" in page.locator("header.site").inner_text()

    # 2. The map loads its open tickets; pick ours by its marker.
    page.wait_for_function("() => document.getElementById('console-map').dataset.loading === '0'")
    marker = page.locator(f'path.ct-ticket[data-ticket-id="{ticket_id}"]')
    marker.wait_for()
    assert page.locator(f'path.ct-ticket[data-ticket-id="{other_id}"]').count() == 1
    assert "Showing 2 of 2 open tickets." in page.locator("#map-note").inner_text()
    screenshot(page, f"console_{tag}_2_map")
    marker.dispatch_event("click")  # an SVG path under crew markers: a DOM click, not a mouse position
    popup = page.locator(f'.leaflet-popup .ticket-popup[data-ticket-id="{ticket_id}"]')
    popup.wait_for()
    assert "Deep pothole in the bike lane" in popup.inner_text()
    assert "1350 Massachusetts Ave" in popup.inner_text()
    form = popup.locator("form.map-assign")
    assert form.get_attribute("action") == f"/console/tickets/{ticket_id}/assign"
    assert form.locator("input[name=assign-csrf_token]").get_attribute("value")
    # Crews nearest the ticket first, with distances (Streets North is ~0.8 km away, Streets South ~2 km).
    options = form.locator("select[name=assign-crew_id] option").all_inner_texts()[1:]
    assert options[0].startswith("Streets North — ") and options[0].endswith(" m"), options
    assert options.index(next(o for o in options if o.startswith("Streets South"))) > 0
    form.locator("select[name=assign-crew_id]").select_option(str(crew_id))
    _popup_shown(page)
    # Crew names are shown as text everywhere: a name that is HTML stays text in its tooltip.
    for crew_marker in page.locator(".ct-crew-icon").all():
        crew_marker.dispatch_event("mouseover")
    assert page.locator("#pwned").count() == 0
    assert any(HOSTILE_CREW in t for t in page.locator(".leaflet-tooltip").all_inner_texts())
    screenshot(page, f"console_{tag}_3_popup")

    # 3. Assigning posts the ticket page's form (CSRF checked) and lands on the ticket page.
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base}/console/tickets/{ticket_id}")
    assert f"CT-{ticket_id} assigned to Streets North." in page.locator(".flash").first.inner_text()
    assert page.locator("h1 .badge").first.inner_text() == "assigned"
    history = page.locator("section.box", has=page.locator("h2", has_text="History"))
    assert LOCAL_TIME.search(history.inner_text()), history.inner_text()
    screenshot(page, f"console_{tag}_4_assigned")

    # 4. Resolve with a public note and an internal note.
    page.select_option("#status-to_status", "resolved")
    page.fill("#status-public_note", PUBLIC_NOTE)
    page.fill("#status-internal_note", INTERNAL_NOTE)
    page.locator("form[action$='/status'] button[type=submit]").click()
    page.wait_for_url(f"{base}/console/tickets/{ticket_id}")
    page.locator(".flash", has_text=f"CT-{ticket_id} is now resolved.").wait_for()
    assert page.locator("h1 .badge").first.inner_text() == "resolved"
    assert INTERNAL_NOTE in history.inner_text() and PUBLIC_NOTE in history.inner_text()
    screenshot(page, f"console_{tag}_5_resolved")
    with app.app_context():
        row = db.session.get(Ticket, ticket_id)
        assert row is not None and row.status == "resolved" and row.crew_id == crew_id

    # 5. The public map's default (open) view no longer has it; the "closed" filter shows it as closed.
    with page.expect_response(lambda r: "/api/map.geojson" in r.url) as first:
        page.goto(base + "/")
    ids = {f["properties"].get("id") for f in first.value.json()["features"]}
    assert ticket_id not in ids and other_id in ids
    page.wait_for_selector(f'[data-ticket-id="{other_id}"]')
    assert page.locator(f'[data-ticket-id="{ticket_id}"]').count() == 0
    with page.expect_response(lambda r: "/api/map.geojson" in r.url and "status=closed" in r.url) as closed:
        page.select_option("select[name=status]", "closed")
    features = closed.value.json()["features"]
    assert [(f["properties"]["id"], f["properties"]["status"]) for f in features] == [(ticket_id, "resolved")]
    page.wait_for_function("() => document.getElementById('map_public').dataset.loading === '0'")
    dot = page.locator(f'.ct-dot.ct-closed[data-ticket-id="{ticket_id}"]')
    dot.wait_for()
    dot.click()
    page.locator(".leaflet-popup .ct-popup-status", has_text="Resolved").wait_for()
    _popup_shown(page)
    screenshot(page, f"console_{tag}_6_public_map_closed")

    # 6. The public ticket page: resolved, the public note in the timeline, never the internal note.
    page.locator(".leaflet-popup a.ct-popup-link").click()
    page.wait_for_url(f"{base}/tickets/{ticket_id}")
    assert page.locator("#ticket-status").inner_text() == "Resolved"
    timeline = page.locator("#timeline").inner_text()
    assert PUBLIC_NOTE in timeline and "Crew assigned" in timeline and "Reported" in timeline
    assert LOCAL_TIME.search(timeline), timeline
    assert INTERNAL_NOTE not in page.content() and "77-XK" not in page.content()
    screenshot(page, f"console_{tag}_7_public_ticket")


def test_assign_without_csrf_token_is_refused(cpage, csrf_app, seeded) -> None:  # type: ignore[no-untyped-def]
    """The same post with its token stripped is rejected: the flow above passes only because CSRF works."""
    app, base = csrf_app
    _, crew_id, ticket_id = seeded
    page = cpage
    page.goto(base + "/auth/login")
    _login(page, base)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/console/queue")
    response = page.request.post(
        f"{base}/console/tickets/{ticket_id}/assign", form={"assign-crew_id": str(crew_id)}
    )
    assert response.status == 400
    with app.app_context():
        row = db.session.get(Ticket, ticket_id)
        assert row is not None and row.crew_id is None and row.status == "open"
