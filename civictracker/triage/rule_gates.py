"""Gate the compiled patterns of risk_rules.py and tone.py at run time (prefilter.py), matching the same.

Those two modules are training inputs of the risk model: editing them, even to change only how a pattern
is compiled, marks the shipped model stale. So their patterns stay plain re.Pattern objects in their own
files, and this module swaps each for a GatedPattern of the same pattern the first time the risk signal is
read: same matches, but a post without any word a pattern needs skips its search.
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

from civictracker.triage import risk_rules, tone
from civictracker.triage.prefilter import GatedPattern

log = logging.getLogger(__name__)

_done = False
_lock = threading.Lock()


def _gated(pattern: Any) -> Any:
    return GatedPattern(pattern) if isinstance(pattern, re.Pattern) else pattern


def _gate_pairs(pairs: list[tuple[Any, str]]) -> None:
    """(pattern, reason) pairs, in place."""
    pairs[:] = [(_gated(pattern), why) for pattern, why in pairs]


def _gate_values(by_name: dict[str, Any]) -> None:
    """name -> pattern, in place."""
    for name, pattern in by_name.items():
        by_name[name] = _gated(pattern)


def gate_rule_patterns() -> None:
    """Swap the risk rules' and tone markers' compiled patterns for gated ones (once per process)."""
    global _done  # noqa: PLW0603 (one swap per process, lock-guarded)
    if _done:
        return
    with _lock:
        if _done:
            return
        try:
            _gate_pairs(risk_rules._HIGH_RISK)
            _gate_pairs(risk_rules._data_cues())
            risk_rules._HARMLESS = _gated(risk_rules._HARMLESS)
            _gate_values(tone._lexicon())
            tone._AIMED = _gated(tone._AIMED)
        except AttributeError as exc:  # the rules were reorganised: still correct, only slower
            log.warning("risk rule patterns not gated (%s); update triage/rule_gates.py", exc)
        _done = True


def gated_everywhere() -> bool:
    """Whether every pattern the risk signal searches is gated (the tests keep this module in step)."""
    patterns = [
        *(p for p, _ in risk_rules._HIGH_RISK),
        *(p for p, _ in risk_rules._data_cues()),
        risk_rules._HARMLESS,
        *tone._lexicon().values(),
        tone._AIMED,
    ]
    return all(isinstance(p, GatedPattern) for p in patterns)
