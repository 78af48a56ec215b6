"""The inbox pages: list and filters, one post with its context, and each action with CSRF and bad input."""

from __future__ import annotations

import re

from console_helpers import logged_in, make_user
from sqlalchemy import select

from civictracker.models import InboundPost, OutboundMessage
from civictracker.services import notify
from tests.intake.helpers import deliver

QUESTION = "@CambridgeMA is the snow emergency over?"


def _sent(db, post_id: int) -> list[str]:
    return [m.text for m in db.scalars(select(OutboundMessage).where(OutboundMessage.post_id == post_id))]


def test_inbox_lists_waiting_posts_with_the_clock_and_nav(client, db):
    question = deliver(QUESTION)
    spam = deliver("BUY FOLLOWERS cheap at spam.example http://x.co")
    logged_in(client, db)
    html = client.get("/console/inbox").data.decode()
    assert 'href="/console/inbox"' in html and ">Inbox<" in html  # in the console nav
    assert f"/console/inbox/{question.id}" in html and f"/console/inbox/{spam.id}" not in html
    assert "(1 waiting)" in html and "First-response target: 60 minutes" in html and "0 min" in html
    everything = client.get("/console/inbox?view=all").data.decode()
    assert f"/console/inbox/{spam.id}" in everything and "no reply needed (system)" in everything
    assert client.get("/console/inbox?view=nope").status_code == 400
    assert client.get("/console/inbox?page=0").status_code == 400


def test_escalated_post_is_on_top_with_its_reason(client, db):
    deliver(QUESTION)
    second = deliver("can I get reimbursed for my tire?")
    second.inbox_priority, second.inbox_reason = 3, "escalated: hazard gas; not a request (question)"
    db.commit()
    logged_in(client, db)
    html = client.get("/console/inbox").data.decode()
    rows = re.findall(r'/console/inbox/(\d+)"', html)
    assert rows[0] == str(second.id) and "escalated: hazard gas" in html


def test_post_page_shows_thread_author_triage_and_canned_prefill(client, db):
    post = deliver("¿Se terminó la emergencia de nieve?")
    logged_in(client, db)
    html = client.get(f"/console/inbox/{post.id}").data.decode()
    assert "Why triage decided this" in html and "not_request" in html and "Thread" in html
    assert "Lo estamos revisando" in html  # the post's language's canned titles
    html = client.get(f"/console/inbox/{post.id}?canned=thanks&lang=es").data.decode()
    assert "¡Muchas gracias, @h_u1!" in html
    html = client.get(f"/console/inbox/{post.id}?canned=snow_emergency&lang=en").data.decode()
    assert "Fill in {snow_status} before sending." in html and "{snow_status}. Updates" in html


def test_reply_from_the_page_and_a_second_dispatcher_is_told(client, app, db):
    post = deliver(QUESTION)
    logged_in(client, db)
    r = client.post(f"/console/inbox/{post.id}/reply", data={"reply-text": "Yes, it ended at 6pm."})
    assert r.status_code == 302
    other = app.test_client()
    logged_in(other, db)
    r = other.post(f"/console/inbox/{post.id}/reply", data={"reply-text": "No, still on."})
    assert r.status_code == 409 and "already answered" in r.data.decode()
    assert _sent(db, post.id) == ["Yes, it ended at 6pm."]


def test_bad_replies_get_a_clear_message_and_nothing_is_queued(client, db):
    post = deliver(QUESTION)
    logged_in(client, db)
    for text, message in [
        ("", "The reply is empty."),
        ("x" * 400, f"allows {notify.REPLAY_MAX_LENGTH - notify.SAFETY_HEADROOM}"),
        ("Status: {snow_status}", "still needs {snow_status}"),
    ]:
        r = client.post(f"/console/inbox/{post.id}/reply", data={"reply-text": text})
        assert r.status_code == 400 and message in r.data.decode(), text
    assert _sent(db, post.id) == []


def test_script_is_escaped_on_every_page(client, db):
    post = deliver("<script>alert('x')</script> is the snow emergency over?")
    logged_in(client, db)
    evil = "<script>alert(1)</script> thanks"
    assert client.post(f"/console/inbox/{post.id}/reply", data={"reply-text": evil}).status_code == 302
    for path in ["/console/inbox?view=all", f"/console/inbox/{post.id}"]:
        html = client.get(path).data.decode()
        assert "<script>alert" not in html and "&lt;script&gt;alert" in html, path
    assert _sent(db, post.id) == [evil]  # plain text to the platform


def test_deleted_post_is_refused(client, db):
    import datetime as dt

    post = deliver(QUESTION)
    post.redacted_at = dt.datetime.now(dt.UTC)
    db.commit()
    logged_in(client, db)
    r = client.post(f"/console/inbox/{post.id}/reply", data={"reply-text": "Yes."})
    assert r.status_code == 400 and "deleted this post" in r.data.decode()
    assert _sent(db, post.id) == []


def test_assign_handle_hide_ticket_attach_from_the_page(client, db):
    post = deliver(QUESTION)
    other = deliver("can I get reimbursed for my tire?", author="u2")
    me = logged_in(client, db)
    colleague = make_user(db, "dispatcher")
    assert (
        client.post(f"/console/inbox/{post.id}/assign", data={"assign-user_id": colleague.id}).status_code
        == 302
    )
    db.expire_all()
    assert db.get(InboundPost, post.id).inbox_assigned_to_id == colleague.id
    assert client.post(f"/console/inbox/{post.id}/assign", data={"assign-user_id": 99999}).status_code == 400
    r = client.post(f"/console/inbox/{post.id}/hide", data={"note-note": ""})
    assert r.status_code == 400 and "Say why" in r.data.decode()
    assert client.post(f"/console/inbox/{post.id}/hide", data={"note-note": "abusive"}).status_code == 302
    assert f"/console/inbox/{post.id}" in client.get("/console/inbox?view=hidden").data.decode()
    r = client.post(
        f"/console/inbox/{other.id}/ticket",
        data={"ticket-service": "pothole", "ticket-place": "Hampshire St and Windsor St"},
    )
    assert r.status_code == 302 and "/console/tickets/" in r.headers["Location"]
    db.expire_all()
    stored = db.get(InboundPost, other.id)
    assert stored.ticket_id is not None and stored.inbox_handled_by_id == me.id
    third = deliver("how long will it take?", author="u3")
    r = client.post(f"/console/inbox/{third.id}/attach", data={"attach-ticket_id": stored.ticket_id})
    assert r.status_code == 302
    r = client.post(f"/console/inbox/{third.id}/attach", data={"attach-ticket_id": 123456})
    assert r.status_code in (400, 409)
    assert client.get("/console/inbox/999999").status_code == 404


def test_inbox_needs_staff_and_csrf(app, client, db):
    post = deliver(QUESTION)
    assert client.get("/console/inbox").status_code in (302, 401)
    logged_in(client, db)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = client.post(f"/console/inbox/{post.id}/reply", data={"reply-text": "Yes."})
        assert r.status_code == 400
        assert _sent(db, post.id) == []
        page = client.get(f"/console/inbox/{post.id}").data.decode()
        token = re.search(r'name="reply-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        r = client.post(
            f"/console/inbox/{post.id}/reply", data={"reply-text": "Yes.", "reply-csrf_token": token}
        )
        assert r.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_take_back_from_the_page_with_a_stale_second_click(client, app, db):
    post = deliver(QUESTION)
    logged_in(client, db)
    assert client.post(f"/console/inbox/{post.id}/handled", data={"note-note": "no reply"}).status_code == 302
    html = client.get(f"/console/inbox/{post.id}").data.decode()
    assert "Take back" in html and 'name="back-seen"' in html and 'value="handled"' in html
    r = client.post(f"/console/inbox/{post.id}/take-back", data={"back-reason": "", "back-seen": "handled"})
    assert r.status_code == 400 and "Say why the post is taken back." in r.data.decode()
    data = {"back-reason": "she wrote again", "back-seen": "handled"}
    assert client.post(f"/console/inbox/{post.id}/take-back", data=data).status_code == 302
    db.expire_all()
    assert db.get(InboundPost, post.id).inbox_state == "new"
    other = app.test_client()
    logged_in(other, db)
    r = other.post(f"/console/inbox/{post.id}/take-back", data=data)  # the page it saw said "handled"
    assert r.status_code == 409 and "is new now" in r.data.decode()
    assert "Take back" not in client.get(f"/console/inbox/{post.id}").data.decode().split("<h2>Why")[0]
