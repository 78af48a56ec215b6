"""Whether a post triage took for a request reads as a question, a complaint or praise to a person.

A storm day shows why: "how long until side streets get plowed?" and "you are useless, calling the mayor"
name a service (plowing), so the request head says yes, but no resident wants "where is the problem?" back.
Intake (intake/new_report.py) sends such a post with no place to a person in the inbox instead of asking
back, and puts a located complaint in the inbox beside its ticket. Pure: text and scores in, a word out.

- question: a question mark (or ¿, or Creole "èske") and a question opener in any clause ("how long",
  "is the ...", "¿cuándo", "quando", "kilè"), unless it is a request put as a question ("can you come
  plow ...", "¿pueden venir a ...", "vocês podem limpar ...").
- complaint: blame at the city or its staff (data/complaint_cues.txt: "useless", "we pay taxes",
  "calling the mayor", "inaceptable", "que descaso", "pa akseptab" ...), or the non-request head's
  "politics" as its clear first guess. Not the risk signal's anger alone: it also fires on a plain report
  written with feeling ("our street hasn't been plowed at all, nobody can get out"), which wants a ticket.
- praise: the non-request head's "praise" as its clear first guess, with no hazard in the post.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

# The non-request head's probability its first guess needs to count (dev storm day: politics 0.54-0.60
# on anger at the city, praise 0.43+ on thanks; calm requests rarely reach 0.5 on either).
KIND_MIN_P = 0.5
_CUES = Path(__file__).with_name("data") / "complaint_cues.txt"

_OPENERS = (
    # English: who/what/when/where/why/how, and yes/no questions by their auxiliary
    r"how(?: long| soon| much| many| do| does| can| come| is| are| will| about)?|when|where|what(?:'s)?|"
    r"which|who(?:m)?|why|is|are|does|do|did|will|would it|can i|can we|could i|should|am i|has|have|"
    r"any (?:word|update|news|idea)|"
    # Spanish (folded: no accents)
    r"cuando|donde|como|cuanto|cuantas|cuantos|que|quien|por que|porque|hay|se (?:puede|va|retrasa)|"
    r"sigue|siguen|van a|puedo|debo|tengo que|"
    # Portuguese
    r"quando|onde|quanto|quantas|quantos|qual|quem|por que|tem|vai|vao|posso|devo|preciso|"
    r"ainda|alguem sabe|"
    # Haitian Creole
    r"eske|ki kote|kile|kijan|konbyen|ki moun|poukisa|ki sa|kisa|ki le"
)
# A clause start: the text's start (after handles), or after . ! ? , ; : and the Spanish ¿.
_QUESTION = re.compile(rf"(?:^|[.!?,;:¿]\s*|\band\s|\bor\s|\by\s|\be\s)(?:{_OPENERS})\b")
_ASKS = re.compile(r"[?¿]|\beske\b")
# A request put as a question: asking someone to come and do something, not asking for information.
_REQUEST_ASK = re.compile(
    r"\b(?:can|could|would|will|can't|cant) (?:you|u|someone|somebody|anyone|any1|y'?all|the city|a crew|"
    r"the crew|they|the dpw|dpw)(?: guys)?(?: please| pls| plz)? (?:come|fix|send|plow|clear|salt|sand|"
    r"shovel|pick|remove|repair|restore|check|look|get|take|help|do|dig|turn|put|get)\b"
    r"|\b(?:pueden|podrian|puede|podria)n? (?:venir|arreglar|limpiar|mandar|enviar|quitar|revisar|sacar)\b"
    r"|\b(?:podem|poderiam|pode|poderia) (?:vir|consertar|arrumar|limpar|mandar|enviar|tirar|verificar)\b"
    r"|\b(?:nou|ou) (?:ka|kapab|te ka) (?:vin|ranje|netwaye|voye|retire)\b"
)
_HANDLES = re.compile(r"^(?:\s*@\w+)+\s*")


@lru_cache(maxsize=1)
def _complaint() -> re.Pattern[str]:
    lines = [ln.strip() for ln in _CUES.read_text(encoding="utf-8").splitlines()]
    cues = [ln for ln in lines if ln and not ln.startswith("#")]
    return re.compile(r"\b(?:" + "|".join(f"(?:{c})" for c in cues) + r")")


def complaint_cue(mtext: str) -> str | None:
    """The words blaming the city or its staff in a folded text, or None."""
    m = _complaint().search(mtext)
    return m.group(0) if m else None


def reads_as(mtext: str, *, kind_probs: Mapping[str, float], hazards: bool = False) -> str | None:
    """The reading of a post in the model's folded text: "question", "complaint", "praise" or None."""
    if complaint_cue(mtext):
        return "complaint"
    first = max(kind_probs, key=lambda k: kind_probs[k]) if kind_probs else ""
    if first == "politics" and kind_probs[first] >= KIND_MIN_P:
        return "complaint"
    if is_question(mtext):
        return "question"
    if first == "praise" and kind_probs[first] >= KIND_MIN_P and not hazards:
        return "praise"
    return None


def is_question(mtext: str) -> bool:
    """Asks for information (a question mark and a question opener), not for someone to come and act."""
    text = _HANDLES.sub("", mtext).strip()
    if not _ASKS.search(text) or _REQUEST_ASK.search(text):
        return False
    return bool(_QUESTION.search(text))
