"""The public ticket page as a resident opens it, at 1366 px and on a 390 px phone: a street-wide snow report
drawn as its street line, an approved photo, the timeline, and "Follow this report" whose feed parses;
no horizontal scroll and no serious accessibility violation (axe-core)."""

from __future__ import annotations

import dataclasses
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from civictracker.channels.media import MediaRef
from civictracker.extensions import db
from civictracker.intake.receive import receive_post
from civictracker.models import PostMedia, TicketStatus
from civictracker.models.media import MediaReview
from civictracker.services.photos import review_media
from civictracker.services.tickets import Actor, EventNote, change_status
from tests import factories
from tests.browser.a11y import serious_violations
from tests.browser.conftest import screenshot
from tests.browser.test_photos_browser import placeholder_png
from tests.intake.helpers import incoming

A = "{http://www.w3.org/2005/Atom}"
REMOTE = "https://files.mastodon.example/media/"
PHOTO = MediaRef(key="m-77", type="image", url=REMOTE + "snowbank.png", width=320, height=240,
                 alt_text="A snowbank across the crosswalk at Windsor St")  # fmt: skip
# Hampshire St from Windsor St to Prospect St, as the geocoder gives a "between" span: (lon, lat).
SPAN = ((-71.0975, 42.3707), (-71.0990, 42.3714), (-71.1003, 42.3720))


def _seed(app, key: str) -> int:  # type: ignore[no-untyped-def]
    """The ticket, its photo (`key`: its own, as the live app is shared) approved, and two public changes."""
    photo = dataclasses.replace(PHOTO, key=key)
    with app.app_context():
        session = db.session
        t = factories.ticket(session, "snow_ice", lat=42.3714, lon=-71.0990, precision="segment", line=SPAN,
                             street="Hampshire St", address="Hampshire St between Windsor St and Prospect St",
                             summary="Snow and ice reported on Hampshire St between Windsor St and Prospect St.")  # fmt: skip
        post, _ = receive_post(session, dataclasses.replace(incoming("sidewalk not cleared"), media=(photo,)))
        post.ticket_id = t.id
        session.flush()
        media = session.scalar(select(PostMedia).where(PostMedia.media_key == key))
        assert media is not None
        review_media(session, media, MediaReview.APPROVED, actor=Actor(label="dispatcher"), note="No faces")
        t.report_count = 3
        change_status(session, t, TicketStatus.ASSIGNED, replies=factories.replies(),
                      note=EventNote(public="A plow crew is on its way.", internal="INTERNAL route 7"))  # fmt: skip
        change_status(session, t, TicketStatus.IN_PROGRESS, replies=factories.replies(),
                      note=EventNote(public="Clearing the west side first."))  # fmt: skip
        session.commit()
        return int(t.id)


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_resident_opens_a_street_wide_ticket_and_follows_it(
    browser, live_app, width: int, height: int
) -> None:  # type: ignore[no-untyped-def]
    app, base = live_app
    ticket_id = _seed(app, f"m-{width}")
    png = placeholder_png()

    def route(r) -> None:  # type: ignore[no-untyped-def]
        if r.request.url.startswith(base):
            r.continue_()
        elif r.request.url.startswith(REMOTE):  # the platform's media server, answered here
            r.fulfill(status=200, content_type="image/png", body=png)
        else:  # map tiles and anything else: never online
            r.abort()

    context = browser.new_context(viewport={"width": width, "height": height}, timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.route("**/*", route)
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(f"{base}/tickets/{ticket_id}")
        # The street line replaces the pin, and the map frames the whole span.
        page.wait_for_function("() => document.getElementById('map_ticket').dataset.line === '3'")
        assert page.locator("#map_ticket path.leaflet-interactive").count() == 1
        assert page.locator("#map_ticket .ct-pin").count() == 0
        assert "stretch of street" in page.locator("#map-caption").inner_text()
        photo = page.locator("#photos img")
        assert photo.count() == 1 and photo.get_attribute("alt") == PHOTO.alt_text
        photo.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth === 320", arg=photo.element_handle())
        timeline = page.locator("#timeline").inner_text()
        assert "A plow crew is on its way." in timeline and "Clearing the west side first." in timeline
        assert "INTERNAL" not in page.content()
        assert "reported by 3 residents" in page.inner_text("body")
        assert "Expected by" in page.inner_text("body")
        # Follow: the link, the head's feed link, and the feed itself parses with one entry per change.
        link = page.locator("#follow a#follow-feed")
        href = link.get_attribute("href")
        assert href == f"/tickets/{ticket_id}/feed.atom" and link.is_visible()
        alternate = page.locator('head link[rel=alternate][type="application/atom+xml"]')
        assert alternate.get_attribute("href") == href
        feed = page.request.get(base + href)
        assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
        root = ET.fromstring(feed.body())
        notes = [e.findtext(A + "summary") for e in root.findall(A + "entry")]
        assert (
            notes[:2] == ["Clearing the west side first.", "A plow crew is on its way."] and len(notes) == 3
        )
        nearby = page.locator("#follow a#follow-nearby").get_attribute("href") or ""
        assert nearby.startswith("/feed.atom?lat=42.37140&long=-71.09900&radius=500")
        around = ET.fromstring(page.request.get(base + nearby).body())
        links = [e.find(A + "link").get("href") for e in around.findall(A + "entry")]  # type: ignore[union-attr]
        assert any(str(link).endswith(f"/tickets/{ticket_id}") for link in links)
        # Fits the screen: nothing wider than the viewport (no sideways scrolling on a phone).
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width
        assert serious_violations(page) == []
        page.locator("#follow").scroll_into_view_if_needed()
        screenshot(page, f"ticket_page_{width}")
    finally:
        context.close()
    assert not refused, f"CSP blocked: {refused}"
