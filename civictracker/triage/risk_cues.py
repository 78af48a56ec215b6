"""Danger categories a post names (casualties, fire, trapped, rising water ...): its danger threshold.

data/danger_categories.tsv lists the categories of danger of the labelling guide (bench/data/risk/README.md)
as words in en/es/pt/ht. A category decides nothing alone: risk.py reads a post that names one with the
danger head at the lower threshold, any other post at the higher one, so chatter, questions and ads need far
more evidence from the model than a post about people, fire or water in danger.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from civictracker.triage.prefilter import GatedPattern, patterns_by_key
from civictracker.triage.risk_rules import HARMLESS
from civictracker.triage.text import fold

_FILE = Path(__file__).with_name("data") / "danger_categories.tsv"


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, GatedPattern]]:
    """(category, pattern) per category, each language's words in one pattern (folded like the text)."""
    return patterns_by_key(_FILE, fold)


def danger_category(mtext: str) -> str | None:
    """The first danger category a model_text()-form post names, or None (harmless senses blanked first)."""
    text = HARMLESS.sub(" ", mtext)
    for category, pattern in _patterns():
        if pattern.search(text):
            return category
    return None
