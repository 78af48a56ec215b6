"""fit_text, weighted lengths, and recognising a reply we posted by its text (no tag)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from civictracker.channels.sent import is_ours, same_text
from civictracker.postlength import fit_text, weighted_length


def test_weighted_length_counts_urls_and_wide_chars() -> None:
    assert weighted_length("see https://example.org/" + "a" * 100, 23) == 4 + 23
    assert weighted_length("道路", 23, wide_weight=2) == 4
    assert weighted_length("道路") == 2


def test_fit_text_keeps_protected_tokens() -> None:
    url = "https://civic.example/t/1?" + "q" * 80
    text = "@ana " + "word " * 80 + "ticket #CT-1 " + "more words here " * 10 + url
    out = fit_text(text, 120, 23)
    assert weighted_length(out, 23) <= 120
    assert out.startswith("@ana ") and "#CT-1 " in out and out.endswith(url) and "…" in out
    assert fit_text("short", 10) == "short"
    with pytest.raises(ValueError):
        fit_text("#CT-1 " + url, 20, 23)


def test_fit_text_keeps_a_bare_ticket_ref() -> None:
    # Ticket.ref is "CT-12" (no "#"): the reply templates write it bare, and it must survive shortening.
    text = "word " * 60 + "logged as (CT-12) and more words follow " * 3
    out = fit_text(text, 80)
    assert "(CT-12)" in out and len(out) <= 80


def test_a_sent_reply_is_known_by_its_words_not_a_tag() -> None:
    ours = "@ana @bob Update on CT-12: a crew is assigned. https://civic.example/tickets/12"
    # what platforms show back: t.co links, reordered or repeated mentions, a remote handle's short form
    assert same_text("@bob  @ana Update on CT-12: a crew is assigned. https://t.co/x1", ours)
    assert same_text("@ana @ana @bob @carl Update on CT-12: a crew is assigned. https://t.co/x1", ours)
    assert same_text("@ana Thanks", "@ana@other.example Thanks")
    # other words, a missing mention, or an id another message holds: not this call
    assert not same_text("@ana @bob Update on CT-13: a crew is assigned. https://t.co/x1", ours)
    assert not same_text("@ana Update on CT-12: a crew is assigned. https://t.co/x1", ours)
    assert is_ours("9", ours, ours, known_ids=()) and not is_ours("9", ours, ours, known_ids={"9"})


def test_channels_import_nothing_of_the_web_app() -> None:
    """Layer rule: channels and the scheduler need no Flask app, models or services."""
    root = Path(__file__).resolve().parents[3] / "civictracker"
    files = [*sorted((root / "channels").glob("*.py")), root / "outbox" / "schedule.py"]
    forbidden = ("flask", "sqlalchemy", "civictracker.models", "civictracker.services", "civictracker.web")
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            assert not [n for n in names if n.startswith(forbidden)], (path.name, names)
