"""The public map in a real browser: clusters and markers from the viewport endpoint, then a ticket page."""

from __future__ import annotations

from sqlalchemy import func, select

from civictracker.extensions import db
from civictracker.models import Ticket, TicketStatus
from civictracker.models.transitions import values_of
from civictracker.services.public import MAP_OPEN
from civictracker.services.tickets import EventNote, change_status
from tests import factories
from tests.browser.conftest import screenshot


def _seed(app) -> int:  # type: ignore[no-untyped-def]
    with app.app_context():
        session = db.session
        # A dense group (a cluster at city zoom) and one report alone in the north of the city.
        for i in range(12):
            factories.ticket(session, "pothole" if i % 3 else "streetlight", lat=42.3650 + i * 0.0002,
                             lon=-71.1040 + i * 0.0002, address=f"{600 + i} Massachusetts Ave")  # fmt: skip
        lone = factories.ticket(session, "graffiti", lat=42.3900, lon=-71.1300, address="12 Rindge Ave",
                                summary="Graffiti on the bus shelter.")  # fmt: skip
        change_status(
            session,
            lone,
            TicketStatus.ACKNOWLEDGED,
            note=EventNote(public="Cleanup crew scheduled for Friday."),
            replies=factories.replies(),
        )
        session.commit()
        return lone.id


def _open_on_map(app) -> int:  # type: ignore[no-untyped-def]
    """Open tickets already on the map: other browser tests share this live app and leave theirs."""
    with app.app_context():
        on_map = Ticket.status.in_(values_of(MAP_OPEN)) & Ticket.public_lat.is_not(None)
        return int(db.session.scalar(select(func.count()).select_from(Ticket).where(on_map)) or 0)


def test_public_map_loads_clusters_and_links_to_ticket_timeline(page, live_app) -> None:  # type: ignore[no-untyped-def]
    app, base = live_app
    total = _open_on_map(app) + 13
    lone_id = _seed(app)
    with page.expect_response(lambda r: "/api/map.geojson" in r.url) as first:
        page.goto(base + "/")
    geo = first.value.json()
    assert first.value.status == 200 and geo["mode"] == "clusters" and geo["total"] == total
    page.wait_for_selector(".ct-cluster")
    page.wait_for_function("() => document.getElementById('map_public').dataset.loading === '0'")
    assert page.locator(".ct-cluster").count() >= 1
    assert page.locator(f'[data-ticket-id="{lone_id}"]').count() == 1
    assert f"{total} open reports in view" in page.locator("#map-status").inner_text()
    assert "OpenStreetMap" in page.locator(".leaflet-control-attribution").inner_text()
    screenshot(page, "public_map_city")

    # Clicking a cluster zooms in and fetches again.
    with page.expect_response(lambda r: "/api/map.geojson" in r.url and "zoom=15" in r.url):
        page.locator(".ct-cluster").first.dispatch_event("click")  # grid clusters may overlap at edges
    page.wait_for_function("() => document.getElementById('map_public').dataset.loading === '0'")
    screenshot(page, "public_map_zoomed")

    # A filter refetches with the service parameter.
    with page.expect_response(
        lambda r: "/api/map.geojson" in r.url and "service=graffiti" in r.url
    ) as filtered:
        page.select_option("select[name=service]", "graffiti")
    assert filtered.value.json()["total"] <= 1

    page.goto(base + "/")
    page.wait_for_selector(f'[data-ticket-id="{lone_id}"]')
    page.locator(f'[data-ticket-id="{lone_id}"]').click()
    link = page.locator(".leaflet-popup a.ct-popup-link")
    assert "Graffiti" in link.inner_text() and "12 Rindge Ave" in link.inner_text()
    screenshot(page, "public_map_popup")
    link.click()
    page.wait_for_url(f"**/tickets/{lone_id}")
    timeline = page.locator("#timeline").inner_text()
    assert "Cleanup crew scheduled for Friday." in timeline and "Reported" in timeline
    assert page.locator("#ticket-status").inner_text() == "Acknowledged"
    page.wait_for_selector(".ct-pin")
    screenshot(page, "public_ticket_page")
