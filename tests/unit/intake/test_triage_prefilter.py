"""The literal pre-filter of triage's patterns: what a pattern needs, and gated searches answer as plain ones."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from civictracker.triage import reads_as, risk_rules, rules, tone
from civictracker.triage.prefilter import GatedPattern, required_literals
from civictracker.triage.text import model_text

DEV = Path(__file__).resolve().parents[2] / "data" / "intake_dev.jsonl"


@pytest.mark.parametrize(
    ("pattern", "need"),
    [
        (r"\bgas\b", {"gas"}),
        (r"\b(?:live|down)\b.{0,30}\bwires?\b", {"wire"}),  # the longer requirement of the two
        (r"\bfire\b|\bsmoke\b", {"fire", "smoke"}),
        (r"(?:inside|in it|in the car)", {"side", " it", " the car"}),  # after the parser's common "in"
        (r"\btrapped\b|[0-9]+ people", {"trapped", " people"}),
        (r"(?:ab|cd)+x?", {"ab", "cd"}),  # a repeat at least once needs what its body needs
    ],
)
def test_required_literals(pattern: str, need: set[str]) -> None:
    assert required_literals(re.compile(pattern)) == need


@pytest.mark.parametrize(
    "pattern",
    [r"\w+", r"fire|\d", r"(?i:fire)", r"x*", r"(?:fire)?", r"[ab]c?"],
)
def test_patterns_without_a_requirement_are_always_searched(pattern: str) -> None:
    assert required_literals(re.compile(pattern)) is None
    assert GatedPattern(pattern).may_match("nothing here")


def test_case_insensitive_patterns_are_not_gated() -> None:
    assert required_literals(re.compile("fire", re.IGNORECASE)) is None
    assert GatedPattern(re.compile("fire", re.IGNORECASE)).search("FIRE") is not None


def _texts() -> list[str]:
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    extra = [
        "gas station fire drill",
        "the wires are down and sparking",
        "you idiot!!",
        "me quiero morir",
        "",
    ]
    return [model_text(r["text"]) for r in rows] + [model_text(t) for t in extra]


def _rule_patterns() -> list[GatedPattern]:
    return [
        *(p for p, _ in rules.URGENT_PATTERNS),
        *rules._NOT_A_HAZARD.patterns,
        *rules._OVER_AND_DONE.patterns,
        *rules._NEWS_OF_ELSEWHERE.patterns,
        rules._NAMES_A_PLACE,
        *rules._URGENCY_VETO.patterns,
        *rules._LONG_STANDING.patterns,
        *(p for p, _ in risk_rules._HIGH_RISK),
        *(p for p, _ in risk_rules._data_cues()),
        risk_rules.HARMLESS,
        *tone._lexicon().values(),
        tone._AIMED,
        reads_as._cues(reads_as._CUES),
        reads_as._question(),
        reads_as._cues(reads_as._ASKS_FILE),
        reads_as._cues(reads_as._PRAISE_FILE),
    ]


def test_every_rule_pattern_is_gated() -> None:
    patterns = _rule_patterns()
    assert all(isinstance(p, GatedPattern) for p in patterns)


def test_gated_rule_patterns_find_what_the_plain_ones_find() -> None:
    patterns = _rule_patterns()
    for text in _texts():
        for gated in patterns:
            plain = gated.pattern
            found, expected = gated.search(text), plain.search(text)
            assert (found and found.span()) == (expected and expected.span()), (plain.pattern[:60], text)
            assert gated.sub(" ", text) == plain.sub(" ", text)
            assert [m.span() for m in gated.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_a_pattern_added_after_a_text_was_read_is_still_searched() -> None:
    text = "a zzqfirstword and a zzqsecondword"
    first = GatedPattern(r"\bzzqfirstword\b")
    assert first.search(text)
    second = GatedPattern(r"\bzzqsecondword\b")  # the index had already read this text without it
    assert second.search(text)
    assert GatedPattern(r"\bzzqthirdword\b").search(text) is None


def test_trie_alternation_matches_as_the_longest_first_alternation() -> None:
    keys = ["pot", "pothole", "potholes", "pot hole", "tree", "tree limb", "trees", "a", "ab", "abc", "b c"]
    plain = re.compile(
        r"(?<!\w)(?:" + "|".join(re.escape(k) for k in sorted(keys, key=len, reverse=True)) + r")(?!\w)"
    )
    trie = re.compile(rf"(?<!\w)(?:{rules.trie_alternation(keys)})(?!\w)")
    texts = [
        *_texts(),
        "potholes pothole pot holes pot hole",
        "abc ab a abcd b c ab c",
        "tree limbs trees tree",
    ]
    for text in texts:
        assert [m.group(0) for m in trie.finditer(text)] == [m.group(0) for m in plain.finditer(text)], text
        assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)], text
