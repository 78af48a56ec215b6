"""fit_text, weighted lengths and the idempotency marker."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from civictracker.channels.marker import embed_marker, has_marker, marker_for
from civictracker.postlength import fit_text, weighted_length


def test_weighted_length_counts_urls_and_wide_chars() -> None:
    assert weighted_length("see https://example.org/" + "a" * 100, 23) == 4 + 23
    assert weighted_length("道路", 23, wide_weight=2) == 4
    assert weighted_length("道路") == 2


def test_fit_text_keeps_protected_tokens() -> None:
    url = "https://civic.example/t/1?" + "q" * 80
    text = "@ana " + "word " * 80 + "ticket #CT-1·abcd " + "more words here " * 10 + url
    out = fit_text(text, 120, 23)
    assert weighted_length(out, 23) <= 120
    assert out.startswith("@ana ") and "#CT-1·abcd" in out and out.endswith(url) and "…" in out
    assert fit_text("short", 10) == "short"
    with pytest.raises(ValueError):
        fit_text("#CT-1 " + url, 20, 23)


def test_fit_text_keeps_a_bare_ticket_ref() -> None:
    # Ticket.ref is "CT-12" (no "#"): the reply templates write it bare, and it must survive shortening.
    text = "word " * 60 + "logged as (CT-12) and more words follow " * 3
    out = fit_text(text, 80)
    assert "(CT-12)" in out and len(out) <= 80


def test_marker_is_short_stable_and_glued_to_ticket_ref() -> None:
    m = marker_for("ack:ticket-12:follower-3")
    assert m == marker_for("ack:ticket-12:follower-3") and len(m) == 5 and m.startswith("·")
    assert m != marker_for("ack:ticket-12:follower-4")
    assert embed_marker("Ticket #CT-12 is open", "k") == f"Ticket #CT-12{marker_for('k')} is open"
    assert embed_marker("No ref here.", "k") == f"No ref here. {marker_for('k')}"
    once = embed_marker("Ticket #CT-12", "k")
    assert embed_marker(once, "k") == once and has_marker(once, "k") and not has_marker(once, "j")


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
