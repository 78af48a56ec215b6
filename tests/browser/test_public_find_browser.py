"""A resident on the public map at 1366 and 390 px: search a corner, read the list, open a report; groups
and markers by keyboard only; filters and view kept in the address; no serious axe-core violation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from civictracker.extensions import db
from civictracker.models import TicketStatus
from civictracker.runtime import runtime_of
from civictracker.services.tickets import change_status
from tests import factories
from tests.browser.a11y import serious_violations
from tests.browser.conftest import screenshot

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}


def _seed(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Reports around Hampshire St & Prospect St (a group at city zoom), one street-wide snow report along
    Hampshire St, and one closed report."""
    with app.app_context():
        corner = runtime_of(app).gazetteer().intersections_of("Hampshire St", "Prospect St")[0]
        session = db.session
        near = None
        for i in range(8):
            near = factories.ticket(session, "pothole" if i % 2 else "streetlight", lat=corner.lat + i * 0.00005,
                                    lon=corner.lon + 0.0003, address=f"{200 + i} Hampshire St")  # fmt: skip
        line = [(corner.lon, corner.lat), (corner.lon + 0.0012, corner.lat + 0.0003)]
        snow = factories.ticket(session, "snow_ice", lat=corner.lat + 0.00015, lon=corner.lon + 0.0006,
                                address="Hampshire St between Prospect St and Windsor St",
                                street="Hampshire St", precision="segment", line=tuple(line))  # fmt: skip
        closed = factories.ticket(session, "graffiti", lat=corner.lat - 0.0004, lon=corner.lon - 0.0004,
                                  address="1 Prospect St")  # fmt: skip
        change_status(session, closed, TicketStatus.RESOLVED, replies=factories.replies())
        session.commit()
        assert near is not None
        return {"near": near.id, "snow": snow.id, "closed": closed.id}


@pytest.fixture(scope="module")
def seeded(live_app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    app, _ = live_app
    return _seed(app)


@pytest.fixture(params=list(WIDTHS))
def sized(request, browser, live_app) -> Iterator[tuple[object, str]]:  # type: ignore[no-untyped-def]
    """A page at the resident's width that may only reach the app (tiles and CDNs aborted)."""
    _, base = live_app
    width, height = WIDTHS[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.route("**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort())
    refused: list[str] = []
    pg.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    yield pg, request.param
    context.close()
    assert not refused, f"CSP blocked: {refused}"


def _settled(page) -> None:  # type: ignore[no-untyped-def]
    """The markers and the list are those of the map's view, and no redraw is coming (maps.js keeps
    data-loading at '1' while the map moves, a load waits for its timer or an answer is outstanding): the
    focused marker is the one a key press will reach."""
    page.wait_for_function(
        "() => document.getElementById('map_public').dataset.loading === '0'"
        " && document.getElementById('map-list').dataset.loading === '0'"
    )


def _no_sideways_scroll(page, width: int) -> None:  # type: ignore[no-untyped-def]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_resident_searches_a_corner_reads_the_list_and_opens_a_report(sized, live_app, seeded) -> None:  # type: ignore[no-untyped-def]
    page, size = sized
    _, base = live_app
    width = WIDTHS[size][0]
    page.goto(base + "/")
    page.wait_for_selector(".ct-cluster")
    _settled(page)
    assert page.locator("#how-to-report [data-channel=x]").inner_text().count("@CambridgeMA") >= 1
    assert page.locator("#map-list li").count() >= 1
    _no_sideways_scroll(page, width)
    assert serious_violations(page) == []  # groups and markers shown, list filled
    screenshot(page, f"find_city_{size}")

    page.fill("#q", "   ")  # bad input: a sentence for the resident, the map stays where it was
    page.press("#q", "Enter")
    page.wait_for_function(
        "() => /Type an address/.test(document.getElementById('search-message').textContent)"
    )
    page.fill("#q", "Main St, Springfield")
    page.press("#q", "Enter")
    page.wait_for_function(
        "() => /not in Cambridge/.test(document.getElementById('search-message').textContent)"
    )
    assert page.locator("#search-matches li").count() == 0
    page.fill("#q", "Hampshire St and Prospect St")
    page.press("#q", "Enter")
    page.wait_for_function("() => document.getElementById('search-message').textContent.startsWith('Found')")
    page.wait_for_function("() => /^#map=1[789]\\//.test(location.hash)")  # the flight ended (moveend)
    # The street-wide report is drawn as its line, not a pin, and is operable like one.
    page.wait_for_selector(f'path.ct-line[data-ticket-id="{seeded["snow"]}"]')
    _settled(page)
    page.wait_for_selector(f'#map-list a[href="/tickets/{seeded["near"]}"]')
    assert "Hampshire St & Prospect St" in page.locator("#search-message").inner_text()
    assert "q=Hampshire" in page.url and "#map=" in page.url
    _no_sideways_scroll(page, width)
    assert serious_violations(page) == []  # single markers, a line and the list at street zoom
    screenshot(page, f"find_corner_{size}")

    page.locator(f'#map-list a[href="/tickets/{seeded["near"]}"]').click()
    page.wait_for_url(f"**/tickets/{seeded['near']}")
    assert "Hampshire St" in page.locator("main").inner_text()


def test_group_and_marker_by_keyboard_only(sized, live_app, seeded) -> None:  # type: ignore[no-untyped-def]
    page, size = sized
    _, base = live_app
    page.goto(base + "/")
    page.wait_for_selector(".ct-cluster")
    _settled(page)
    start = page.evaluate("window.ctPublicMap.getZoom()")
    kind = ""
    for _ in range(80):  # Tab through the page until a group has the focus
        page.keyboard.press("Tab")
        _settled(page)  # a focused marker at the edge pans the map into view: the redraw replaces it
        kind = page.evaluate("document.activeElement.dataset.kind || ''")
        if kind == "cluster":
            break
    assert kind == "cluster"
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert "reports here: zoom in" in label
    screenshot(page, f"find_group_focus_{size}")
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => window.ctPublicMap.getZoom() === {start + 2}")
    _settled(page)
    # The focus moved to the first marker of the closer view; Space on groups goes on zooming in.
    for _ in range(40):
        page.wait_for_function("() => !!(document.activeElement.dataset || {}).kind")
        kind = page.evaluate("document.activeElement.dataset.kind")
        if kind in ("ticket", "line"):
            break
        zoom = page.evaluate("window.ctPublicMap.getZoom()")
        page.keyboard.press(" ")
        page.wait_for_function(f"() => window.ctPublicMap.getZoom() > {zoom}")
        _settled(page)
    assert kind in ("ticket", "line")
    page.keyboard.press(" ")
    page.wait_for_selector(".leaflet-popup a.ct-popup-link")
    _settled(page)  # the popup's opening may pan the map: it opens again, with the focus, after the redraw
    assert page.evaluate("document.activeElement.className") == "ct-popup-link"
    screenshot(page, f"find_popup_keyboard_{size}")
    page.keyboard.press("Escape")  # the popup closes and the focus goes back to the report's marker
    page.wait_for_selector(".leaflet-popup", state="detached")
    focused = page.evaluate("document.activeElement.outerHTML.slice(0, 120)")
    assert page.evaluate("document.activeElement.dataset.kind") in ("ticket", "line"), focused


def test_a_focused_group_keeps_the_focus_when_the_map_redraws(sized, live_app, seeded) -> None:  # type: ignore[no-untyped-def]
    page, _size = sized
    _, base = live_app
    page.goto(base + "/")
    page.wait_for_selector(".ct-cluster")
    _settled(page)
    page.locator('[data-kind="cluster"]').first.focus()
    key = page.evaluate("document.activeElement.dataset.key")
    assert key.startswith("group:")
    # A redraw with the same view (a late answer, a resize): the group is drawn anew, the focus stays on it.
    page.evaluate("document.activeElement.dataset.old = '1'; window.ctPublicMap.fire('moveend')")
    page.wait_for_function(
        "() => document.activeElement.dataset.kind === 'cluster' && !document.activeElement.dataset.old"
    )
    assert page.evaluate("document.activeElement.dataset.key") == key


def test_closed_filter_and_view_live_in_the_address(sized, live_app, seeded) -> None:  # type: ignore[no-untyped-def]
    page, size = sized
    _, base = live_app
    page.goto(base + "/#map=18/42.41000/-71.20000")  # outside the city: nothing to show, said calmly
    _settled(page)
    status = page.locator("#map-status").inner_text()
    assert "outside Cambridge" in status and "clipped" not in status
    page.goto(base + "/")
    _settled(page)
    page.select_option("select[name=status]", "closed")
    _settled(page)
    page.wait_for_function("() => /recently closed/.test(document.getElementById('map-status').textContent)")
    assert "No open reports" not in page.locator("#map-status").inner_text()
    page.evaluate("window.ctPublicMap.setView([42.3705, -71.0990], 16)")
    page.wait_for_function("() => location.hash.startsWith('#map=16/')")
    _settled(page)
    shared = page.url
    assert "status=closed" in shared
    page.goto(shared)  # the link reproduces the view: filter, centre and zoom
    _settled(page)
    assert page.locator("select[name=status]").input_value() == "closed"
    assert page.evaluate("window.ctPublicMap.getZoom()") == 16
    items = page.locator("#map-list li").all_inner_texts()
    assert any("Graffiti" in t for t in items) and not any("Pothole" in t for t in items)
    screenshot(page, f"find_closed_{size}")


def test_a_list_item_shows_its_report_on_the_map_on_hover_and_focus(sized, live_app, seeded) -> None:  # type: ignore[no-untyped-def]
    page, size = sized
    _, base = live_app
    page.goto(base + "/")
    _settled(page)
    page.fill("#q", "Hampshire St and Prospect St")
    page.press("#q", "Enter")
    page.wait_for_function("() => /^#map=1[789]\\//.test(location.hash)")
    _settled(page)
    near = seeded["near"]
    item = page.locator(f'#map-list a[href="/tickets/{near}"]')
    marker = f'.ct-dot[data-ticket-id="{near}"]'
    page.wait_for_selector(marker)
    assert page.locator("path.ct-list-glow").count() == 0
    item.hover()
    page.wait_for_selector(f"{marker}.ct-highlight")
    assert page.locator("path.ct-list-glow").count() == 1 and page.locator(".ct-highlight").count() == 1
    screenshot(page, f"find_list_hover_{size}")
    page.locator("#q").hover()  # the pointer leaves the list: the map is as it was
    page.wait_for_selector(".ct-highlight", state="detached")
    assert page.locator("path.ct-list-glow").count() == 0
    item.focus()  # by keyboard: the same
    page.wait_for_selector(f"{marker}.ct-highlight")
    assert page.evaluate("document.getElementById('map-list').dataset.highlight") == str(near)
    page.keyboard.press("Tab")  # on to the next report of the list: its marker instead
    page.wait_for_function(
        f"() => document.getElementById('map-list').dataset.highlight !== '{near}'"
        " && document.querySelectorAll('path.ct-list-glow').length === 1"
    )
    assert page.locator(f"{marker}.ct-highlight").count() == 0
