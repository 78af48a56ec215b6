"""Whether a post reads as a question, a complaint or praise to a person (from word lists per language).

A storm day shows why: "how long until side streets get plowed?" and "you are useless, calling the mayor"
name a service (plowing), so the request head says yes, but no resident wants "where is the problem?" back.
Intake (intake/new_report.py) sends such a post with no place to a person in the inbox instead of asking
back, and puts a located complaint in the inbox beside its ticket. A non-request read as a question or a
complaint is never decided by the system alone, even when the model took it for news ("que vergonha,
ninguém resolve nada"). Pure: text and scores in, a word out.

- question: a question mark (or ¿, or Creole "èske") and a question opener in any clause ("how long",
  "is the ...", "¿cuándo", "quando", "kilè": data/question_cues.txt) or a Spanish "¿", unless it is a
  request put as a question ("can you come plow ...", "¿pueden venir a ...": data/request_asks.txt).
- complaint: blame at the city or its staff (data/complaint_cues.txt: "useless", "we pay taxes",
  "calling the mayor", "inaceptable", "que descaso", "pa akseptab" ...: one list per language), or the
  non-request head's "politics" as its clear first guess. Not the risk signal's anger alone: it also
  fires on a plain report written with feeling ("our street hasn't been plowed at all, nobody can get
  out"), which wants a ticket.
- praise: the non-request head's "praise" as its clear first guess, with no hazard in the post and a word
  of thanks or praise (data/praise_cues.txt): on a request that head's guess alone is often "praise" for
  a plain report ("broken glass all over the sidewalk at ...").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path

from civictracker.triage.prefilter import GatedPattern

# The non-request head's probability its first guess needs to count (dev storm day: politics 0.54-0.60
# on anger at the city, praise 0.43+ on thanks; calm requests rarely reach 0.5 on either).
KIND_MIN_P = 0.5
_DATA = Path(__file__).with_name("data")
_CUES = _DATA / "complaint_cues.txt"
_OPENERS = _DATA / "question_cues.txt"
_ASKS_FILE = _DATA / "request_asks.txt"
_PRAISE_FILE = _DATA / "praise_cues.txt"
_REQUEST_CUES = _DATA / "request_cues.txt"

_ASKS = re.compile(r"[?¿]|\beske\b")
# Spanish marks a question where it starts: "¿la basura pasa mañana?" needs no opener word.
_INVERTED = re.compile(r"¿\s*[^\W\d_]")
_HANDLES = re.compile(r"^(?:\s*@\w+)+\s*")


def _cue_lines(path: Path) -> list[str]:
    """The regular expressions of a cue file: one a line, blank lines and "#" comments skipped."""
    lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines()]
    return [ln for ln in lines if ln and not ln.startswith("#")]


def _any_of(path: Path) -> str:
    return "|".join(f"(?:{c})" for c in _cue_lines(path))


@cache  # one per cue file, a fixed few: a bound smaller than their count would recompile
def _cues(path: Path) -> GatedPattern:
    """One gated pattern for a cue file: any of its lines, from a word boundary."""
    return GatedPattern(r"\b(?:" + _any_of(path) + r")")


def _cue_found(path: Path, mtext: str) -> str | None:
    """The words of a folded text one of the cue file's lines matches, or None."""
    m = _cues(path).search(mtext)
    return m.group(0) if m else None


@lru_cache(maxsize=1)
def _question() -> GatedPattern:
    # A clause start: the text's start (after handles), or after . ! ? , ; : and the Spanish ¿, or "and"
    # / "or" in the four languages.
    return GatedPattern(r"(?:^|[.!?,;:¿]\s*|\band\s|\bor\s|\by\s|\be\s)(?:" + _any_of(_OPENERS) + r")\b")


def complaint_cue(mtext: str) -> str | None:
    """The words blaming the city or its staff in a folded text, or None."""
    return _cue_found(_CUES, mtext)


def asks_to_act(mtext: str) -> str | None:
    """The words of a folded text asking someone to act ("please fix", "we would love to have"), or None:
    evidence of a request (classify.ASK_LOGIT)."""
    return _cue_found(_REQUEST_CUES, mtext)


def reads_as(mtext: str, *, kind_probs: Mapping[str, float], hazards: bool = False) -> str | None:
    """The reading of a post in the model's folded text: "question", "complaint", "praise" or None."""
    if complaint_cue(mtext):
        return "complaint"
    first = max(kind_probs, key=lambda k: kind_probs[k]) if kind_probs else ""
    if first == "politics" and kind_probs[first] >= KIND_MIN_P:
        return "complaint"
    if is_question(mtext):
        return "question"
    if (
        first == "praise"
        and kind_probs[first] >= KIND_MIN_P
        and not hazards
        and _cues(_PRAISE_FILE).search(mtext)
    ):
        return "praise"
    return None


def is_question(mtext: str) -> bool:
    """Asks for information (a question mark and a question opener), not for someone to come and act."""
    text = _HANDLES.sub("", mtext).strip()
    if not _ASKS.search(text) or _cues(_ASKS_FILE).search(text):
        return False
    return bool(_INVERTED.search(text) or _question().search(text))
