"""Admins' reply template overrides: checked before anything is stored, audited, and used by real replies."""

from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import func, select

from civictracker.channels.log import LogChannel
from civictracker.extensions import db
from civictracker.models import AdminEvent, OutboundMessage, ReplyOverride, Role, TicketStatus
from civictracker.outbox import sweep as outbox
from civictracker.runtime import register_channel, runtime_of
from civictracker.services import reply_templates as rt
from civictracker.services.errors import ValidationFailed
from civictracker.services.inbox_reply import load_canned
from civictracker.services.tickets import Actor, EventNote, change_status
from civictracker.services.users import create_user
from tests import factories
from tests.intake.helpers import deliver

TEMPLATE_EVENTS = AdminEvent.target_kind == "reply_template"
ES_ACK = "¡Recibido! Su reporte de {service} en {street} es {ticket_ref}. Síganlo en {url} ({city})"


@pytest.fixture()
def admin(db):  # type: ignore[no-untyped-def]
    user = create_user(db, "admin@example.org", "a-long-password-1", role=Role.ADMIN.value, name="Ada")
    db.commit()
    return user


def _count(model: type) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def test_saved_spanish_ack_is_the_text_the_outbox_posts(app, admin) -> None:  # type: ignore[no-untyped-def]
    rt.save_override(db.session, "reply", "es", "ack", ES_ACK, acting=admin)
    db.session.commit()
    channel = LogChannel(name="replay", max_length=280)
    register_channel(app, "replay", channel)

    post = deliver("hay un bache enorme en Hampshire St y Windsor St, es peligroso", author="r-es")
    assert post.ticket_id is not None and post.lang == "es"
    outbox.sweep_outbox()  # whatever the page's own send job left
    sent = [r["text"] for r in channel.records]
    city = runtime_of(app).city.short_name
    assert any(t.startswith("¡Recibido! Su reporte de") and f"CT-{post.ticket_id}" in t for t in sent), sent
    assert any(f"({city})" in t for t in sent), sent  # {city} is written in
    stored = db.session.scalars(
        select(OutboundMessage.text).where(OutboundMessage.ticket_id == post.ticket_id)
    )
    assert all("Recibido" in t for t in stored)

    # An English follower of another ticket still gets the pack's English.
    english = deliver("huge pothole on Cambridge St at Prospect St, please fix", author="r-en")
    outbox.sweep_outbox()
    en_text = [r["text"] for r in channel.records if f"CT-{english.ticket_id}" in r["text"]]
    assert en_text and en_text[0].startswith("Thanks for reporting this"), en_text


def test_status_reply_uses_the_override_and_reset_restores_the_pack(app, admin) -> None:  # type: ignore[no-untyped-def]
    channel = LogChannel(name="replay", max_length=280)
    register_channel(app, "replay", channel)
    post = deliver("hay un bache enorme en Hampshire St y Windsor St", author="r-es2")
    ticket = post.ticket
    assert ticket is not None
    rt.save_override(
        db.session, "reply", "es", "acknowledged", "Revisado: {ticket_ref}. {note}", acting=admin
    )
    db.session.commit()
    ctx = runtime_of(app).replies_now(db.session)
    change_status(
        db.session,
        ticket,
        TicketStatus.ACKNOWLEDGED,
        replies=ctx,
        actor=Actor(user=admin),
        note=EventNote(public=""),
    )
    db.session.commit()
    outbox.sweep_outbox()
    assert any(r["text"].startswith(f"Revisado: {ticket.ref}") for r in channel.records), channel.records

    assert rt.reset_override(db.session, "reply", "es", "acknowledged", acting=admin) is True
    db.session.commit()
    assert _count(ReplyOverride) == 0
    pack = runtime_of(app).replies.templates["es"]["acknowledged"]
    assert runtime_of(app).replies_now(db.session).templates["es"]["acknowledged"] == pack
    actions = list(
        db.session.scalars(select(AdminEvent.action).where(TEMPLATE_EVENTS).order_by(AdminEvent.id))
    )
    assert actions == ["reply_template_saved", "reply_template_reset"]
    assert rt.reset_override(db.session, "reply", "es", "acknowledged", acting=admin) is False


def test_every_save_writes_one_audit_row_with_the_values(app, admin) -> None:  # type: ignore[no-untyped-def]
    rt.save_override(
        db.session, "canned", "es", "thanks", "¡Gracias, @{handle}!", title="Gracias!", acting=admin
    )
    rt.save_override(db.session, "canned", "es", "thanks", "¡Mil gracias, @{handle}!", acting=admin)
    db.session.commit()
    assert _count(ReplyOverride) == 1
    rows = list(db.session.scalars(select(AdminEvent).where(TEMPLATE_EVENTS).order_by(AdminEvent.id)))
    assert [r.target_kind for r in rows] == ["reply_template", "reply_template"]
    assert rows[-1].data["text"] == "¡Mil gracias, @{handle}!" and rows[-1].actor_label == "admin@example.org"
    assert rows[-1].target_label == "canned es/thanks"
    canned = rt.canned_with_overrides(db.session, load_canned(runtime_of(app).city.path))
    assert canned["es"]["thanks"].text == "¡Mil gracias, @{handle}!"
    assert canned["pt"]["thanks"].text != canned["es"]["thanks"].text  # other languages keep the pack's


@pytest.mark.parametrize(
    ("scope", "key", "text", "says"),
    [
        (
            "reply",
            "ack",
            "Gracias {nombre}, {ticket_ref}",
            "Unknown placeholder {nombre} in ack. Allowed placeholders:",
        ),
        ("reply", "ack", "Hola <script>alert(1)</script> {url}", "HTML tag '<script>'"),
        ("reply", "ack", "Hola <b>ya</b>", "HTML tag '<b>'"),
        ("reply", "ack", "Gracias {ticket_ref", "stray brace"),
        ("reply", "ack", "Gracias {ticket_ref!r}", "without ':' or '!'"),
        ("reply", "ack", "   ", "empty"),
        ("reply", "months", "ene feb mar", "exactly 12 words"),
        ("reply", "place_corner", "{street} y {a}", "Unknown placeholder {street}"),
        ("canned", "thanks", "Gracias {ticket_ref} {service}", "Unknown placeholder {service}"),
    ],
)
def test_bad_templates_say_why_and_store_nothing(app, admin, scope, key, text, says) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        rt.save_override(db.session, scope, "es", key, text, acting=admin)
    assert says in str(caught.value)
    db.session.rollback()
    assert _count(ReplyOverride) == 0
    assert not db.session.scalar(select(func.count()).select_from(AdminEvent).where(TEMPLATE_EVENTS))


def test_a_canned_reply_may_keep_a_value_its_pack_text_leaves_to_the_dispatcher() -> None:
    pack = ["@{handle} Snow emergency status: {snow_status}. Updates: {report_url}", "@{handle} {depth} cm"]
    text, _ = rt.check_template("canned", "snow_emergency", "@{handle} {depth} cm de nieve", pack_texts=pack)
    assert text == "@{handle} {depth} cm de nieve"
    with pytest.raises(ValidationFailed, match=r"Unknown placeholder \{depht\}"):
        rt.check_template("canned", "snow_emergency", "{depht}", pack_texts=pack)
    shown = rt.preview_canned("@{handle}: {depth} cm, {snow_status}", "snow_emergency", {}, pack)
    assert shown.text == "@resident: {depth} cm, parking ban in effect until 7 AM"  # left for the dispatcher


def test_unknown_placeholder_message_lists_the_allowed_ones() -> None:
    with pytest.raises(ValidationFailed) as caught:
        rt.check_template("reply", "ack", "{ticket_ref} {foo} {bar}")
    message = str(caught.value)
    assert "{bar}, {foo}" in message
    for name in ("{ticket_ref}", "{service}", "{street}", "{url}", "{expected}", "{note}", "{city}"):
        assert name in message


def test_preview_escapes_nothing_but_refuses_tags_and_warns_on_length(app) -> None:  # type: ignore[no-untyped-def]
    ctx = runtime_of(current_app).replies
    svc = factories.service(db.session)
    script = rt.preview_reply(ctx, "es", "ack", "<script>alert(1)</script> {ticket_ref}", svc)
    assert script.error and "<script>" in script.text  # shown back as typed; the page puts it in as text
    ok = rt.preview_reply(ctx, "es", "ack", "Bache {ticket_ref} en {street}. {url}", svc)
    assert not ok.error and not ok.warnings and ok.text.startswith("Bache CT-1234 en Main St y Oak St")
    long = rt.preview_reply(ctx, "es", "ack", "Gracias. " * 40 + "{ticket_ref} {url}", svc)
    assert long.lengths["x"] > long.limits["x"] and any("On X" in w for w in long.warnings)
    assert long.lengths["mastodon"] < long.limits["mastodon"]
    words = rt.preview_reply(ctx, "es", "months", "ENE FEB MAR ABR MAY JUN JUL AGO SEP OCT NOV DIC", svc)
    assert not words.error and any(m in words.text for m in ("ENE", "FEB", "DIC", "NOV", "OCT")), words.text
