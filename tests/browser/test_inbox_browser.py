"""A dispatcher answers a resident's question from the inbox with a canned Spanish reply (CSRF on)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from civictracker.extensions import db
from civictracker.models import InboundPost, OutboundMessage
from civictracker.services.users import create_user
from tests.browser.conftest import live_server, screenshot
from tests.conftest import BACKENDS
from tests.intake.helpers import deliver

EMAIL, PASSWORD = "inbox@city.example", "correct horse battery"
QUESTION = "@CambridgeMA ¿ya se terminó la emergencia de nieve? No sé si puedo estacionar en la calle"


@pytest.fixture(scope="module", params=BACKENDS)
def inbox_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, str]]:  # fmt: skip
    with live_server(
        request.param, tmp_path_factory.mktemp(f"inbox-browser-{request.param}"), csrf=True
    ) as served:
        yield served


def test_dispatcher_answers_a_question_with_a_canned_spanish_reply(browser, inbox_app) -> None:  # type: ignore[no-untyped-def]
    app, base = inbox_app
    tag = str(app.config["CT_BACKEND"])
    with app.app_context():
        create_user(db.session, EMAIL, PASSWORD, role="dispatcher", name="Dana Dispatcher")
        db.session.commit()
        post = deliver(QUESTION, handle="vecina_cambridge")
        post_id, lang, state = post.id, post.lang, post.inbox_state
    assert (lang, state) == ("es", "new")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.route(
        "**/*", lambda route: route.continue_() if route.request.url.startswith(base) else route.abort()
    )
    try:
        page.goto(base + "/console/inbox")
        page.fill("input[name=email]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/console/inbox")
        assert "(1 waiting)" in page.inner_text("h1")
        screenshot(page, f"inbox_{tag}_1_list")
        page.click(f'a[href="/console/inbox/{post_id}"]')
        page.wait_for_url(f"{base}/console/inbox/{post_id}")
        page.click("text=Lo estamos revisando")
        page.wait_for_url(f"{base}/console/inbox/{post_id}?canned=looking_into_it&lang=es#reply")
        editor = page.locator("textarea[name=reply-text]")
        text = editor.input_value()
        assert text.startswith("Gracias por escribirnos, @vecina_cambridge.")
        editor.fill(text + " La emergencia termina hoy a las 6 pm.")  # edited before sending
        screenshot(page, f"inbox_{tag}_2_canned")
        page.click("text=Send reply")
        page.wait_for_url(f"{base}/console/inbox/{post_id}")
        body = page.inner_text("body")
        assert "Reply queued for @vecina_cambridge." in body and "answered" in body
        assert "La emergencia termina hoy a las 6 pm." in page.inner_text(".report.sent")
        screenshot(page, f"inbox_{tag}_3_answered")
    finally:
        context.close()
    with app.app_context():
        sent = db.session.scalars(select(OutboundMessage).where(OutboundMessage.post_id == post_id)).all()
        assert [(m.kind, m.lang, m.is_dm) for m in sent] == [("inbox_reply", "es", False)]
        assert sent[0].text.endswith("La emergencia termina hoy a las 6 pm.")
        stored = db.session.get(InboundPost, post_id)
        assert stored is not None and stored.inbox_state == "answered"
