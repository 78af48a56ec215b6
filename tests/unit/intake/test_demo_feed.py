"""The Cambridge demo replay feed, the dev set and the reply templates are well-formed."""

from __future__ import annotations

import datetime as dt
import json
import string
from pathlib import Path

import pytest

from civictracker.services.wording import WORD_KEYS, expected_sentence

ROOT = Path(__file__).resolve().parents[3]
PACK = ROOT / "civictracker" / "cities" / "cambridge_ma"
FEED = PACK / "demo_feed.jsonl"
DEV = ROOT / "tests" / "data" / "intake_dev.jsonl"
FEED_KEYS = {"id", "kind", "author_id", "author_handle", "text", "offset_s", "in_reply_to", "conversation_id", "geo",
             "lang"}  # fmt: skip
SERVICE_CODES = {s["service_code"] for s in json.loads((PACK / "city.json").read_text())["services"]}
INTENTS = {"still_broken", "fixed_confirmed", "location_clarification", "thanks", "other"}


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def feed() -> list[dict]:
    return _jsonl(FEED)


def test_feed_format(feed: list[dict]) -> None:
    assert len(feed) >= 220
    seen: dict[str, dict] = {}
    last = 0.0
    for post in feed:
        assert set(post) == FEED_KEYS, post["id"]
        assert post["id"] not in seen, f"duplicate id {post['id']}"
        assert post["kind"] in {"mention", "dm", "reply"}
        assert post["text"].strip() and post["author_id"] and post["author_handle"]
        assert isinstance(post["offset_s"], (int, float)) and post["offset_s"] >= last
        last = post["offset_s"]
        if post["in_reply_to"] is not None:
            assert post["in_reply_to"] in seen, f"{post['id']} answers a later or unknown post"
            parent = seen[post["in_reply_to"]]
            assert post["conversation_id"] == (parent["conversation_id"] or parent["id"])
        else:
            assert post["conversation_id"] is None
        if post["kind"] == "reply":
            assert post["in_reply_to"] is not None
        if post["geo"] is not None:
            assert set(post["geo"]) == {"lat", "lon"}
        seen[post["id"]] = post


def test_feed_shows_the_demo_scenarios(feed: list[dict]) -> None:
    texts = [p["text"].lower() for p in feed]
    assert sum("cambridge st and prospect" in t or "cambridge st & prospect" in t or "prospect st on cambridge" in t
               for t in texts) >= 3  # fmt: skip
    assert sum("norfolk st" in t and "plow" in t for t in texts) >= 3
    assert any(p["kind"] == "dm" and "617-555" in p["text"] for p in feed)
    assert any("still not plowed" in t for t in texts)
    assert sum(p["kind"] == "reply" for p in feed) >= 25
    authors_of_roots = {p["id"]: p["author_id"] for p in feed if p["in_reply_to"] is None}
    own_thread_answers = [
        p for p in feed if p["in_reply_to"] and authors_of_roots.get(p["in_reply_to"]) == p["author_id"]
    ]
    assert len(own_thread_answers) >= 8  # ask-back answered by the same resident


def test_feed_triage_sees_requests_and_non_requests(feed: list[dict]) -> None:
    from civictracker.triage.classify import triage_text

    results = [triage_text(p["text"], channel_kind=p["kind"]) for p in feed if p["kind"] != "reply"]
    requests = [r for r in results if r.is_request]
    assert 0.5 < len(requests) / len(results) < 0.85
    assert len({r.service_code for r in requests}) >= 14
    assert sum(r.urgent for r in requests) >= 5
    assert {r.lang for r in results} >= {"en", "es", "pt", "ht"}


def test_dev_set_labels() -> None:
    rows = _jsonl(DEV)
    assert len(rows) >= 300
    assert len({r["id"] for r in rows}) == len(rows)
    holdout = sum(r["split"] == "holdout" for r in rows)
    assert 0.2 <= holdout / len(rows) <= 0.3
    for r in rows:
        assert r["channel"] in {"mention", "dm", "reply"}
        assert r["lang"] in {"en", "es", "pt", "ht", "und"}
        if r["is_request"]:
            assert r["service_code"] in SERVICE_CODES
            assert r["needs_location"] == (r["location"] is None)
        else:
            assert r["service_code"] is None and not r["urgent"]
        assert (r["reply_intent"] in INTENTS) if r["channel"] == "reply" else r["reply_intent"] is None
        if r["location"] is not None:
            assert -71.1605 <= r["location"]["lon"] <= -71.064 and 42.3525 <= r["location"]["lat"] <= 42.4045
            assert r["location"]["tol_m"] > 0 and r["location_ref"]
    assert sum(r["channel"] == "reply" for r in rows) >= 55
    assert sum(r["lang"] != "en" for r in rows) >= 40
    assert sum(r["urgent"] for r in rows) >= 40


TZ = "America/New_York"


def test_reply_templates_cover_every_language_and_fit_a_post() -> None:
    templates = json.loads((PACK / "replies.json").read_text(encoding="utf-8"))
    keys = {"ack", "ask_location", "merged", "acknowledged", "assigned", "in_progress", "resolved", "closed",
            "reopened", "rejected", "referred", "location_thanks", "opt_out", "cluster", "digest"}  # fmt: skip
    # A dispatcher's correction, and the sentences saying what it changed (services/corrections.py).
    keys |= {"corrected", "corrected_service", "corrected_urgent", "corrected_not_urgent", "corrected_place"}
    # What a rejection says when staff gave no reason (services/notify.py reply_note).
    keys |= {"default_note_rejected"}
    allowed = {"ticket_ref", "service", "street", "url", "expected", "note", "mentions"}
    values = {"ticket_ref": "CAM-2024-01234", "service": "Missed trash or recycling", "street": "Massachusetts Ave & Prospect St",
                  "url": "https://civictracker.example.org/t/CAM-2024-01234", "expected": "within 2 business days",
                  "note": "Crew patched the hole and swept the area.",
                  "mentions": "@maria_c @jcortez @pat_inman @sam_dev"}  # fmt: skip
    assert set(templates) == {"en", "es", "pt", "ht"}
    for lang, by_key in templates.items():
        # every message, every word dates and places need, and the label of a staff note in another language
        assert set(by_key) == keys | WORD_KEYS | {"staff_note_other", "language_names"}, lang
        label = {f for _, f, _, _ in string.Formatter().parse(by_key["staff_note_other"]) if f}
        assert label == {"language", "note"} and set(by_key["language_names"]) == set(templates), lang
        values["expected"] = expected_sentence(
            templates, lang, dt.datetime(2026, 12, 6, 19, 13, tzinfo=dt.UTC), TZ
        )
        for key, text in ((k, t) for k, t in by_key.items() if k in keys):
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
            assert fields <= allowed, (lang, key, fields)
            assert len(text.format(**values)) <= 280, (lang, key)
