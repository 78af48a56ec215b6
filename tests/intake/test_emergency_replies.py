"""Replies to emergencies: the pack's safety line first, per hazard kind and language, within the limits."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from civictracker.citypack import CityPackError, load_city_pack
from civictracker.extensions import db as ext_db
from civictracker.models import OutboundMessage, Ticket
from civictracker.postlength import weighted_length
from civictracker.runtime import runtime_of
from civictracker.services import notify
from tests.intake.helpers import deliver

PACK = Path(__file__).resolve().parents[2] / "civictracker" / "cities" / "cambridge_ma"
SAFETY = json.loads((PACK / "safety.json").read_text(encoding="utf-8"))


def line(lang: str, kind: str) -> str:
    contacts = SAFETY["contacts"]
    return SAFETY["lines"][lang][kind].format(**contacts)


def messages() -> list[OutboundMessage]:
    return list(ext_db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def test_gas_report_ack_gives_the_gas_line_before_the_ticket_number(app) -> None:  # type: ignore[no-untyped-def]
    post = deliver("@CambridgeMA smells like gas outside 150 Hampshire St, whole block", author="g1")
    assert post.outcome == "created", post.reason
    ticket = ext_db.session.get(Ticket, post.ticket_id)
    assert ticket.priority > 0 and ticket.triage["hazards"] == ["gas"]
    (ack,) = messages()
    assert ack.kind == "ack" and ack.urgent
    assert ack.text.startswith(line("en", "gas"))
    assert "1-800-592-2000" in ack.text and ack.text.index("1-800-592-2000") < ack.text.index(ticket.ref)


def test_spanish_ask_location_starts_with_the_spanish_line(app) -> None:  # type: ignore[no-untyped-def]
    post = deliver("huele a gas en el pasillo del edificio", author="s1")
    assert post.outcome == "ask_back", post.reason
    (ask,) = messages()
    assert ask.kind == "ask_location" and ask.lang == "es"
    assert ask.text.startswith(line("es", "gas"))
    answer = deliver("150 Hampshire St", author="s1", kind="reply", reply_to=post.external_id)
    assert answer.outcome == "located", answer.reason
    ack = messages()[-1]
    assert ack.kind == "ack" and not ack.text.startswith(line("es", "gas"))  # the first reply gave it


def test_a_merged_report_gets_the_line_of_its_tickets_worst_hazard(app) -> None:  # type: ignore[no-untyped-def]
    first = deliver("wires down and sparking at Hampshire St and Windsor St", author="w1")
    second = deliver("fil kouran tonbe nan kwen Hampshire St ak Windsor St", author="w2")
    assert first.outcome == "created" and second.outcome == "merged", (first.reason, second.reason)
    ticket = ext_db.session.get(Ticket, first.ticket_id)
    assert ticket.service.code == "power_outage" and ticket.triage["hazards"] == ["electric"]
    ack, merged = messages()
    assert ack.text.startswith(line("en", "electric"))
    assert merged.kind == "merged" and merged.lang == "ht" and merged.text.startswith(line("ht", "electric"))
    assert merged.text.index("Eversource") < merged.text.index(ticket.ref)


def test_a_dm_gets_the_line_too(app) -> None:  # type: ignore[no-untyped-def]
    post = deliver(
        "carbon monoxide alarm going off in my apartment at 14 Aberdeen Ave", author="d1", kind="dm"
    )
    assert post.ticket_id is not None, post.reason
    (msg,) = messages()
    assert msg.is_dm and msg.text.startswith(line("en", "carbon_monoxide"))


def test_ordinary_and_merely_urgent_reports_get_no_safety_line(app) -> None:  # type: ignore[no-untyped-def]
    deliver("pothole at 150 Hampshire St", author="p1")
    deliver("URGENT trash not picked up at 20 Prospect St", author="p2")
    for msg in messages():
        assert not any(msg.text.startswith(t) for t in SAFETY["lines"]["en"].values()), msg.text
        assert "911" not in msg.text


def test_cluster_and_dm_recompositions_keep_the_line(app) -> None:  # type: ignore[no-untyped-def]
    post = deliver("open manhole on Hampshire St at Windsor St, no cover", author="m1")
    ticket = ext_db.session.get(Ticket, post.ticket_id)
    assert ticket.triage["hazards"] == ["open_manhole"] and ticket.service.code == "water_sewer"
    ctx = runtime_of(app).replies
    cluster = notify.compose_cluster(ctx, "x", "ack", "pt", ticket, ["ana", "bob_the_builder", "carla99"])
    assert cluster.startswith(line("pt", "open_manhole")) and "@carla99" in cluster and ticket.ref in cluster
    assert weighted_length(cluster, 23) <= 280 - notify.SAFETY_HEADROOM
    direct = notify.compose_direct(ctx, "x", "merged", "en", ticket, "", "fallback")
    assert direct.startswith(line("en", "open_manhole"))
    update = notify.compose_direct(ctx, "x", "resolved", "en", ticket, "Cover replaced.", "fallback")
    assert "911" not in update  # status updates are not first replies


@pytest.mark.parametrize("lang", ["en", "es", "pt", "ht"])
@pytest.mark.parametrize("kind", ["gas", "electric", "tree", "carbon_monoxide"])
def test_x_length_keeps_the_line_whole_and_the_ref_and_link(lang: str, kind: str) -> None:
    ctx = notify.ReplyContext(
        public_url="https://civictracker.example.org",
        timezone="America/New_York",
        templates=load_city_pack(PACK).replies,
        safety=SAFETY,
    )
    body = notify.compose(ctx, "ack", lang, None).replace("()", "(CT-123456)") + " https://x.example/t/123456"
    body = body.replace("{street}", "") + " near Massachusetts Ave & Prospect St in Central Square Cambridge"
    text = notify._fit_after("x", notify.safety_line(ctx, [kind], lang), body)
    assert text.startswith(line(lang, kind))
    assert "CT-123456" in text and "https://x.example/t/123456" in text
    assert weighted_length(text, 23) <= 280 - notify.SAFETY_HEADROOM


def test_a_pack_without_safety_lines_falls_back_to_a_generic_911_line(tmp_path: Path) -> None:
    bare = notify.ReplyContext(public_url="https://x.example", timezone="UTC", templates={})
    assert notify.safety_line(bare, ["gas"], "es") == "If anyone is in danger, call 911 now."
    assert notify.safety_line(bare, [], "en") == ""
    elsewhere = notify.ReplyContext("https://x.example", "UTC", {}, safety={"contacts": {"emergency": "112"}})
    assert notify.safety_line(elsewhere, ["fire"], "en") == "If anyone is in danger, call 112 now."
    english_only = notify.ReplyContext(
        "u", "UTC", {}, safety={"lines": {"en": {"gas": "Leave, call {emergency}."}}}
    )
    assert notify.safety_line(english_only, ["gas"], "pt") == "Leave, call 911."

    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "city.json").write_text(
        json.dumps({"slug": "x", "name": "X", "timezone": "UTC", "bbox": [0, 0, 1, 1], "services": []})
    )
    assert load_city_pack(pack).safety == {}
    (pack / "safety.json").write_text(json.dumps({"lines": {"en": ["not", "a", "map"]}}))
    load_city_pack.cache_clear()
    with pytest.raises(CityPackError, match="lines"):
        load_city_pack(pack)


def test_every_language_has_a_short_line_for_every_kind() -> None:
    from civictracker.triage.rules import HAZARD_KINDS

    assert set(SAFETY["lines"]) == {"en", "es", "pt", "ht"}
    for lang, by_kind in SAFETY["lines"].items():
        assert set(by_kind) == {*HAZARD_KINDS, "default"}, lang
        for kind in by_kind:
            assert len(line(lang, kind)) <= 125, (lang, kind)  # leaves room for the reply on X
