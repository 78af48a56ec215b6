"""Tone markers of a post (shouting, insults, swearing, outrage, wishes of harm, repeats) for the risk model.

The risk model's text is model_text() plus these marker words, so the learned anger/abuse/danger heads weigh
typography that folding loses (capitals, "!!!") and words of tone in any of the four languages
(data/tone_lexicon.tsv) the same way whether or not the exact word was in the training posts. A marker
decides nothing alone. risk_fit.py fits on risk_text(); risk.assess_risk builds the same form from its
own rule pass.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from civictracker.triage.prefilter import GatedPattern
from civictracker.triage.risk_rules import high_risk_reasons, soft_markers
from civictracker.triage.text import clean, fold, model_text

_LEXICON_FILE = Path(__file__).with_name("data") / "tone_lexicon.tsv"
KINDS = ("insult", "profanity", "anger", "wish", "repeat")
_CAPS_WORD = re.compile(r"\b[A-Z]{3,}\b")
_LETTERS = re.compile(r"[A-Za-z]")
_UPPER = re.compile(r"[A-Z]")
_BANG = re.compile(r"!{2,}|\?!|!\?|\?{3,}")
# "you idiot", "eres un idiota", "seu idiota", "ou se yon": an insult aimed at the reader, not at a thing.
_AIMED = GatedPattern(
    r"\b(?:you|u|ur|you're|youre|your|yall|y'all|eres|son|usted|ustedes|tu|voce|voces|vc|seu|sua|ou|nou|yo)\b"
)


@lru_cache(maxsize=1)
def _lexicon() -> dict[str, GatedPattern]:
    """kind -> one pattern of every language's words of that kind (patterns folded like the text)."""
    by_kind: dict[str, list[str]] = {}
    for line in _LEXICON_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, _lang, pattern = line.split("\t", 2)
            assert kind in KINDS, f"tone_lexicon.tsv: unknown kind {kind!r}"
            by_kind.setdefault(kind, []).append(f"(?:{fold(pattern)})")
    return {kind: GatedPattern(r"\b(?:" + "|".join(ps) + r")\b") for kind, ps in by_kind.items()}


def _mostly_capitals(raw: str) -> bool:
    """At least 12 letters, over 60% of them capitals; counted only when enough capitals are there at all."""
    upper = len(_UPPER.findall(raw))
    if upper < 8:  # 0.6 x 12 letters: the cheap test first, as risk runs on every post
        return False
    letters = len(_LETTERS.findall(raw))
    return letters >= 12 and upper > 0.6 * letters


def tone_markers(text: str, folded: str | None = None) -> list[str]:
    """Marker words of one raw post, e.g. ['zzshout', 'zzinsult', 'zzaimed']; `folded` is model_text(text)."""
    raw = clean(text)
    low = folded if folded is not None else model_text(text)
    marks = []
    if len(_CAPS_WORD.findall(raw)) >= 2 or _mostly_capitals(raw):
        marks.append("zzshout")
    if _BANG.search(raw):
        marks.append("zzbang")
    hits = [kind for kind, pattern in _lexicon().items() if pattern.search(low)]
    marks.extend(f"zz{kind}" for kind in hits)
    if "insult" in hits and _AIMED.search(low):
        marks.append("zzaimed")
    return marks


def marked_text(folded: str, marks: list[str]) -> str:
    """model_text() form followed by marker words: what the risk model reads."""
    return f"{folded} {' '.join(marks)}" if marks else folded


def risk_text(text: str) -> str:
    """The form the risk model is fitted on: model_text(), the tone markers, the soft rules' markers."""
    low = model_text(text)
    return marked_text(low, tone_markers(text, low) + soft_markers(high_risk_reasons(low)))
