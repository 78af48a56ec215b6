"""A dispatcher approves a resident's photo on the ticket page; the public ticket page then shows it.

The photo's URL is X's image host, as a real post's would be; the browser is answered by a placeholder
made here (Playwright fulfils the request), so nothing goes online and the page loads an image from
another origin exactly as it would in production.
"""

from __future__ import annotations

import dataclasses
import struct
import zlib
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from civictracker.channels.media import MediaRef
from civictracker.extensions import db
from civictracker.intake.receive import receive_post
from civictracker.models import PostMedia, PostMediaEvent
from civictracker.services.users import create_user
from tests import factories
from tests.browser.conftest import live_server, screenshot
from tests.conftest import BACKENDS
from tests.intake.helpers import incoming

EMAIL, PASSWORD = "photos@city.example", "correct horse battery"
REMOTE = "https://pbs.twimg.com/media/"
APPROVED = MediaRef(key="3_101", type="photo", url=REMOTE + "PotholeHampshire.jpg",
                    alt_text="A pothole full of rain water beside the bike lane", width=320, height=240)  # fmt: skip
PENDING = MediaRef(key="3_102", type="photo", url=REMOTE + "StillPending.jpg", alt_text=None)


def placeholder_png(width: int = 320, height: int = 240) -> bytes:
    """A grey road with a dark 'pothole' in the middle, as a PNG (zlib + struct: no imaging library)."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            dx, dy = (x - width / 2) / 70, (y - height / 2) / 45
            row += bytes(
                (40, 35, 30) if dx * dx + dy * dy < 1 else (128, 128, 132) if y % 60 else (230, 200, 40)
            )
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b"")  # fmt: skip


@pytest.fixture(scope="module", params=BACKENDS)
def photo_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:  # fmt: skip
    with live_server(
        request.param, tmp_path_factory.mktemp(f"photo-browser-{request.param}"), csrf=True
    ) as served:
        yield served


def test_dispatcher_approves_a_photo_and_the_public_page_shows_it(browser, photo_app) -> None:  # type: ignore[no-untyped-def]
    app, base = photo_app
    tag = str(app.config["CT_BACKEND"])
    with app.app_context():
        create_user(db.session, EMAIL, PASSWORD, role="dispatcher", name="Dana Dispatcher")
        ticket = factories.ticket(
            db.session, address="Hampshire St & Windsor St", summary="Pothole in the bike lane."
        )
        post, _ = receive_post(db.session, dataclasses.replace(incoming("pothole, see photos"), media=(APPROVED, PENDING)))  # fmt: skip
        post.ticket_id = ticket.id
        db.session.commit()
        ticket_id = ticket.id
        first = db.session.scalar(select(PostMedia).where(PostMedia.media_key == "3_101"))
        assert first is not None
        media_id = first.id
    png = placeholder_png()
    served: list[str] = []

    def route(r) -> None:  # type: ignore[no-untyped-def]
        if r.request.url.startswith(base):
            r.continue_()
        elif r.request.url.startswith(REMOTE):
            served.append(r.request.url)  # the "remote" image host, answered locally
            r.fulfill(status=200, content_type="image/png", body=png)
        else:
            r.abort()

    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.route("**/*", route)
    try:
        page.goto(base + f"/console/tickets/{ticket_id}")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/console/tickets/{ticket_id}")
        photo = page.locator(f"#media-{media_id}")
        assert "A pothole full of rain water beside the bike lane" in photo.inner_text()
        assert "pending review" in photo.inner_text()
        img = photo.locator("img")
        img.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=img.element_handle())
        screenshot(page, f"photos_{tag}_1_console_pending")
        photo.locator("textarea[name=media-note]").fill("No faces or number plates")
        photo.locator("text=Approve for public view").click()
        page.wait_for_url(f"{base}/console/tickets/{ticket_id}#media-{media_id}")
        assert "Photo approved" in page.inner_text("body")
        assert (
            "pending → approved: No faces or number plates" in page.locator(f"#media-{media_id}").inner_text()
        )
        screenshot(page, f"photos_{tag}_2_console_approved")

        anyone = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
        public = anyone.new_page()  # no login: what any resident sees
        public.set_default_timeout(15_000)
        public.route("**/*", route)
        public.goto(f"{base}/tickets/{ticket_id}")
        shown = public.locator("#photos img")
        assert shown.count() == 1  # the pending one is not there
        assert shown.get_attribute("alt") == "A pothole full of rain water beside the bike lane"
        assert shown.get_attribute("src") == APPROVED.url
        shown.scroll_into_view_if_needed()
        public.wait_for_function(
            "img => img.complete && img.naturalWidth === 320", arg=shown.element_handle()
        )
        assert "StillPending" not in public.content()
        screenshot(public, f"photos_{tag}_3_public_page")
        anyone.close()
    finally:
        context.close()
    assert APPROVED.url in served and all(u.startswith(REMOTE) for u in served)
    with app.app_context():
        events = db.session.scalars(select(PostMediaEvent)).all()
        assert [(e.to_review, e.note) for e in events] == [("approved", "No faces or number plates")]
