"""A dispatcher corrects a ticket's category and rejects another, in a real browser: the resident's
thread shows the correction once the outbox has sent it, and the rejected ticket's page still says why."""

from __future__ import annotations

import re

from sqlalchemy import select

from civictracker.extensions import db
from civictracker.models import Follower, OutboundMessage, Reporter
from civictracker.models.values import Thread
from civictracker.outbox import sweep as outbox
from civictracker.services.users import create_user
from tests import factories
from tests.browser.conftest import screenshot

EMAIL, PASSWORD = "fixer@city.example", "correct horse battery"
WORD = "Our inspector says the lamp is out, not the road."
REASON = "This is a private parking lot; the owner is responsible."


def _seed(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        s = db.session
        create_user(s, EMAIL, PASSWORD, role="dispatcher", name="Fix Dispatcher")
        fixed = factories.ticket(
            s, "pothole", address="Hampshire St & Windsor St", street="Hampshire St", summary="Dark corner."
        )
        rejected = factories.ticket(s, "pothole", lat=42.3790, lon=-71.1180, summary="Hole in a parking lot.")
        for ticket, handle, lang in ((fixed, "rosa_es", "es"), (rejected, "lot_owner", "en")):
            reporter = Reporter(channel="replay", external_id=f"id-{handle}", handle=handle)
            s.add(reporter)
            s.flush()
            thread = Thread("replay", False, f"post-{handle}")
            s.add(Follower(ticket_id=ticket.id, reporter_id=reporter.id, thread=thread, lang=lang))
        s.commit()
        return fixed.id, rejected.id


def _sent(app, ticket_id: int) -> list[OutboundMessage]:  # type: ignore[no-untyped-def]
    with app.app_context():
        outbox.sweep_outbox()
        rows = db.session.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == ticket_id))
        return [m for m in rows if m.state == "sent"]


def test_dispatcher_corrects_category_and_rejects_with_a_public_page(page, live_app) -> None:  # type: ignore[no-untyped-def]
    app, base = live_app
    fixed_id, rejected_id = _seed(app)
    page.goto(base + "/auth/login")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r"/console"))

    # 1. Correct the category with a word to the resident.
    page.goto(f"{base}/console/tickets/{fixed_id}")
    page.select_option("#fix-service_code", "streetlight")
    page.fill("#fix-public_note", WORD)
    screenshot(page, "corrections_1_form")
    page.locator("#correct-form button[type=submit]").click()
    page.locator(".flash", has_text="corrected; its followers are told").wait_for()
    assert "Streetlight out" in page.locator("h1").inner_text()
    history = page.locator("section.box", has=page.locator("h2", has_text="History")).inner_text()
    assert "recategorized" in history and "Category changed from Pothole to Streetlight out." in history

    # 2. The outbox sends it on the replay channel; the resident's thread on the page shows it, in Spanish.
    (sent,) = _sent(app, fixed_id)
    assert sent.kind == "corrected" and "Ahora está registrado como farola apagada" in sent.text
    page.reload()
    thread = page.locator("details", has_text="@rosa_es")
    thread.locator("summary").click()
    text = thread.inner_text()
    assert "[sent]" in text and "corregimos su reporte" in text and WORD in text
    screenshot(page, "corrections_2_thread")

    # 3. The public page of the corrected ticket tells the correction.
    page.goto(f"{base}/tickets/{fixed_id}")
    assert "Category corrected" in page.locator("#timeline").inner_text()

    # 4. Reject another ticket with a public reason; its public link still works and explains why.
    page.goto(f"{base}/console/tickets/{rejected_id}")
    page.select_option("#status-to_status", "rejected")
    page.fill("#status-public_note", REASON)
    page.locator("form[action$='/status'] button[type=submit]").click()
    page.locator(".flash", has_text="is now rejected").wait_for()
    (told,) = _sent(app, rejected_id)
    assert told.kind == "rejected" and REASON in told.text
    page.goto(f"{base}/tickets/{rejected_id}")
    assert page.locator("#ticket-status").inner_text() == "Closed without action"
    assert REASON in page.locator("#ending-reason").inner_text()
    screenshot(page, "corrections_3_rejected_public")
