"""Admin pages for reply templates and canned replies: list, edit with preview, bad input, reset, roles."""

from __future__ import annotations

from console_helpers import logged_in
from sqlalchemy import func, select

from civictracker.models import AdminEvent, ReplyOverride

ACK = "/console/admin/replies/reply/es/ack"


def _overrides(db) -> int:  # type: ignore[no-untyped-def]
    return int(db.scalar(select(func.count()).select_from(ReplyOverride)) or 0)


def test_admin_edits_a_spanish_template_previews_saves_and_resets(client, db) -> None:  # type: ignore[no-untyped-def]
    logged_in(client, db, "admin")
    page = client.get("/console/admin/replies?lang=es").data.decode()
    assert (
        'href="/console/admin/replies/reply/es/ack"' in page
        and "/console/admin/replies/canned/es/thanks" in page
    )
    edit = client.get(ACK).data.decode()
    assert '<label for="text">' in edit and 'id="preview-text"' in edit and "{ticket_ref}" in edit

    preview = client.post(f"{ACK}/preview", data={"text": "Bache {ticket_ref} en {street}. {url}"}).get_json()
    assert preview["text"].startswith("Bache CT-1234 en") and not preview["error"] and not preview["warnings"]
    long = client.post(f"{ACK}/preview", data={"text": "Gracias. " * 40 + "{url}"}).get_json()
    assert any(w.startswith("On X this reply is") for w in long["warnings"]), long
    assert _overrides(db) == 0  # a preview stores nothing

    r = client.post(ACK, data={"text": "Recibido {ticket_ref}: {url}"})
    assert r.status_code == 302
    assert "edited" in client.get("/console/admin/replies?lang=es").data.decode()
    audit = client.get("/console/admin/audit?kind=reply_template").data.decode()
    assert "reply es/ack" in audit and "Recibido" in audit

    r = client.post(f"{ACK}/reset", data={})
    assert r.status_code == 302 and _overrides(db) == 0
    actions = db.scalars(select(AdminEvent.action).where(AdminEvent.target_kind == "reply_template"))
    assert list(actions) == ["reply_template_saved", "reply_template_reset"]


def test_unknown_placeholder_is_a_400_naming_it_and_the_allowed_ones(client, db) -> None:  # type: ignore[no-untyped-def]
    logged_in(client, db, "admin")
    r = client.post(ACK, data={"text": "Gracias {nombre}: {ticket_ref}"})
    body = r.data.decode()
    assert r.status_code == 400
    assert "Unknown placeholder {nombre} in ack. Allowed placeholders:" in body and "{ticket_ref}" in body
    assert _overrides(db) == 0


def test_script_is_refused_and_shown_as_text_never_as_markup(client, db) -> None:  # type: ignore[no-untyped-def]
    logged_in(client, db, "admin")
    r = client.post(ACK, data={"text": "<script>alert(1)</script> {url}"})
    body = r.data.decode()
    assert r.status_code == 400 and "HTML tag" in body and "plain text" in body
    assert "<script>alert(1)" not in body and "&lt;script&gt;alert(1)" in body
    assert _overrides(db) == 0
    preview = client.post(f"{ACK}/preview", data={"text": "<script>alert(1)</script>"}).get_json()
    assert "HTML tag" in preview["error"]


def test_canned_reply_title_and_text_are_saved_and_offered_in_the_inbox(client, db) -> None:  # type: ignore[no-untyped-def]
    logged_in(client, db, "admin")
    r = client.post(
        "/console/admin/replies/canned/es/thanks",
        data={"text": "¡Mil gracias, @{handle}!", "title": "Mil gracias"},
    )
    assert r.status_code == 302
    row = db.scalar(select(ReplyOverride))
    assert (row.scope, row.lang, row.key, row.title) == ("canned", "es", "thanks", "Mil gracias")
    assert "Mil gracias" in client.get("/console/admin/replies?lang=es").data.decode()


def test_unknown_language_key_or_scope_is_a_clear_404_and_dispatchers_are_refused(client, db) -> None:  # type: ignore[no-untyped-def]
    logged_in(client, db, "admin")
    assert client.get("/console/admin/replies/reply/xx/ack").status_code == 404
    assert client.get("/console/admin/replies/reply/es/nope").status_code == 404
    assert client.get("/console/admin/replies/other/es/ack").status_code == 404
    assert client.get("/console/admin/replies?lang=zz").status_code == 400
    client.get("/auth/logout")
    logged_in(client, db, "dispatcher", email="d@example.org")
    assert client.get("/console/admin/replies").status_code == 403
    assert client.post(ACK, data={"text": "x {url}"}).status_code == 403


def test_a_status_change_from_the_console_speaks_the_saved_wording(client, db) -> None:  # type: ignore[no-untyped-def]
    from civictracker.models import OutboundMessage
    from tests.intake.helpers import deliver

    post = deliver("hay un bache enorme en Hampshire St y Windsor St", author="r-es")
    assert post.ticket_id is not None and post.lang == "es"
    logged_in(client, db, "admin")
    r = client.post(
        "/console/admin/replies/reply/es/acknowledged", data={"text": "Revisado {ticket_ref}. {note}"}
    )
    assert r.status_code == 302
    r = client.post(f"/console/tickets/{post.ticket_id}/status", data={"status-to_status": "acknowledged"})
    assert r.status_code == 302
    texts = list(db.scalars(select(OutboundMessage.text).where(OutboundMessage.kind == "acknowledged")))
    assert texts == [f"Revisado CT-{post.ticket_id}."], texts
