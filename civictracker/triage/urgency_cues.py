"""Danger families a post names (gas, fire, wires, trapped, hurt, collapse, hole ...): its urgency threshold.

data/urgency_families.tsv lists broad families of danger to people as words in en/es/pt/ht. A family decides
nothing alone: classify._is_urgent reads a post that names one with the urgency head at the lower threshold
(URGENT_MODEL_THRESHOLD_CUED), any other post at the higher one, so a resident's own wording of a hazard no
pattern knows still reaches a crew, while chatter, prices and complaints need far more from the model.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from civictracker.triage.prefilter import GatedPattern, patterns_by_key
from civictracker.triage.text import fold

_FILE = Path(__file__).with_name("data") / "urgency_families.tsv"


@lru_cache(maxsize=1)
def _patterns() -> list[tuple[str, GatedPattern]]:
    """(family, pattern) per family, each language's words in one pattern (folded like the text); gated: a
    family's pattern is searched only when the post has one of the words its matches need."""
    return patterns_by_key(_FILE, fold)


def danger_family(mtext: str) -> str | None:
    """The first danger family a model_text()-form post names, or None."""
    for family, pattern in _patterns():
        if pattern.search(mtext):
            return family
    return None
