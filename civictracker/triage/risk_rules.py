"""The high-risk rules of the escalation signal: threats, self-harm, weapons, people harmed, per language.

Two kinds. Hard rules (threats, self-harm, triage's hazards, the safety-critical words of
data/high_risk_cues.tsv) make a post high risk whatever the model says: a miss there costs too much. Soft
rules (a weapon or violence named, people dead, hurt or evacuated) fire on news and sympathy as often as on
an emergency ("praying for the 200 killed"), so they are marker words the learned danger head weighs
(tone.risk_text adds them), not verdicts. risk.py decides; risk_fit.py fits on the same markers.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from civictracker.triage.prefilter import GatedPattern, patterns_by_key
from civictracker.triage.rules import hazard_kinds, urgent_reasons

_THREAT = (
    r"\b(?:i'?ll|i will|i'?m (?:going to|gonna)|gonna|i swear i'?ll|i could|someone should|somebody should)\b"
    r".{0,30}\b(?:kill|shoot|stab|hurt|beat|burn|bomb|murder|blow up|strangle)\w*|"
    r"\b(?:kill|shoot|stab|murder|strangle)(?:ing)? (?:you|him|her|them|somebody|someone|everyone)\b|"
    r"\bwatch your back\b|\bknow where (?:you|he|she|they|the \w+) lives?\b|\bbomb threat\b|"
    r"\bthreat(?:en\w*)?\b|"
    r"\b(?:lets|let's) burn\b|"
    r"\b(?:voy a|vamos a|te voy a|lo voy a|la voy a|los voy a) (?:matar|quemar|disparar|golpear|apunalar)\w*|"
    r"\bte mato\b|\bvou (?:te |o |a )?(?:matar|queimar|atirar|bater|esfaquear)\w*|"
    r"\bm(?:wen)? (?:ap|pral|va) (?:touye|boule|bat)\b"
)
_SELF_HARM = (
    r"\b(?:kill|killing|hurt|hurting|cut|cutting) myself\b|\bsuicid\w*|\bend (?:it all|my life)\b|"
    r"\bending it all\b|\b(?:don'?t|do not) want to (?:be alive|live)\b|\bwant to die\b|"
    r"\bno reason to live\b|"
    r"\bjump off (?:the|a) (?:bridge|roof|building)\b|\bcan'?t (?:go on|do this anymore)\b|\boverdos\w*|"
    r"\bme quiero morir\b|\bquiero morir\w*|\bquitarme la vida\b|\bmatarme\b|\bquero morrer\b|\bme matar\b|"
    r"\btirar (?:a )?minha (?:propria )?vida\b|\btouye tet\b|\bpa vle viv\b"
)
_VIOLENCE = (
    r"\b(?:guns?|gunman|gunmen|shooters?|shooting|shootout|shots? fired|gunfire|gsw|stabb\w*|knife|rifle|"
    r"armed|bomb\w*|explosions?|exploded|blast)\b|\b(?:was|were|been|got|being|get) shot\b|"
    r"\b(?:beaten|attacked|assaulted|assault|domestic (?:violence|abuse)|fight(?:ing)? (?:outside|in the))\b|"
    r"\b(?:pistola|armad[oa]|tiroteo|disparos|balacera|baleado|tiros|explosi\w*|explos\w*|zam)\b"
)
_HARMED = (
    r"\b(?:dead|deaths?|died|dies|dying|killed|kills|killing|fatal\w*|bodies|body found|death toll|toll|"
    r"injur\w*|wounded|hurt|casualt\w*|missing|unaccounted|trapped|evacuat\w*|rescu(?:e|ed|es|ers?|ing)|survivors?|"
    r"not breathing|isn'?t breathing|unconscious|collapsed|screaming for help|calling for help|"
    r"out of control|remain indoors|take shelter|tsunami|fell through the ice|displac\w*|flee\w*|"
    r"from (?:\w+ ){0,3}homes|wildfires?|bushfires?|inferno|state of emergency|emergency declaration|"
    r"disaster|water over (?:it|the road))\b|"
    r"\b(?:muert[oa]s?|muri\w*|fallecid\w*|herid[oa]s?|atrapad\w*|desaparecid\w*|evacu\w*|rescat\w*|victimas|"
    r"muertes|mort[oa]s|mortes|morre\w*|mata|feridos?|vitimas|corpos|resgat\w*|tewas|mouri|blese|auxilio|socorro)\b"
)
_HIGH_RISK = [
    (GatedPattern(_THREAT), "threat of violence"),
    (GatedPattern(_SELF_HARM), "self-harm or suicide"),
    (GatedPattern(_VIOLENCE), "violence or weapon"),
    (GatedPattern(_HARMED), "people harmed or in danger"),
]
# Safety-critical words per language (self-harm, trapped, gas, fire, hurt, weapons, cries for help): data,
# so every language says what English says; loaded once.
_CUES_FILE = Path(__file__).with_name("data") / "high_risk_cues.tsv"


@lru_cache(maxsize=1)
def _data_cues() -> list[tuple[GatedPattern, str]]:
    """(pattern, reason) per reason in the data file, each language's words joined in one pattern."""
    return [(pattern, why) for why, pattern in patterns_by_key(_CUES_FILE)]


# Words of the patterns above in a harmless sense, blanked before matching.
HARMLESS = GatedPattern(
    r"\bdead (?:rat|rats|animal|bird|squirrel|skunk|raccoon|deer|battery|end|tree|trees|grass|leaves|"
    r"branch\w*|"
    r"light|lights|bulb|zone|serious)\b|\b(?:killing|killed) (?:me|it|time)\b|\bkilling it\b|"
    r"\bmissing (?:trash|recycling|pickup|pick ?up|sign|cover|bulb|piece|the bus)\b|\bmissed\b|"
    r"\bdying to\b|\bto die for\b|\bshoot,|\bphoto ?shoot\b|\bshot (?:of|at the) (?:the )?(?:view|sunset)\b|"
    r"\bbomb (?:cyclone|ass)\b|\b(?:is|was|so) the bomb\b|\bknife sharpen\w*|"
    r"\bhurts? my (?:eyes|ears|feelings)\b|"
    # A harm that has not happened: no one hurt, or a hazard that "could kill someone" (not "I could").
    r"\bno (?:one|body) (?:was |is |got )?(?:hurt|injured)\b|\bnobody (?:was |got )?hurt\b|"
    r"\bno (?:reported )?injur(?:y|ies)\b|"
    r"\b(?:could|would|might)\b(?<!\bi could)(?<!\bi would)(?<!\bi might)(?<!\bwe could)(?<!\bwe would)"
    r"(?<!\bwe might) (?:easily |seriously |really |potentially )?(?:kill|injure|hurt) "
    r"(?:someone|somebody|a child|a kid|people|a pedestrian)\b"
)

# Reasons the danger head weighs rather than obeys (see the module docstring), with their marker words.
SOFT_REASONS = {"violence or weapon": "zzviolence", "people harmed or in danger": "zzharmed"}


def high_risk_reasons(mtext: str, hazards: list[str] | None = None) -> list[str]:
    """Why a model_text()-form post is high risk by the rules (empty if no rule fires)."""
    found = hazards if hazards is not None else urgent_reasons(mtext)
    # Every triage hazard of a kind (gas, fire, wires, trapped...) or crash; "urgent" alone is only a tone.
    reasons = [
        f"hazard: {why}" for why in found if hazard_kinds([why]) or "crash" in why or "collision" in why
    ]
    text = HARMLESS.sub(" ", mtext)
    for pattern, why in _HIGH_RISK:
        m = pattern.search(text)
        if m:
            reasons.append(f"{why}: {m.group(0).strip()!r}")
    named = {r.split(":", 1)[0] for r in reasons}
    for pattern, why in _data_cues():
        m = pattern.search(text) if why not in named else None
        if m:
            reasons.append(f"{why}: {m.group(0).strip()!r}")
    return reasons


def soft_markers(reasons: list[str]) -> list[str]:
    """The marker words of the soft rules among `reasons` (high_risk_reasons' output), in a fixed order."""
    names = {r.split(":", 1)[0] for r in reasons}
    return [mark for why, mark in SOFT_REASONS.items() if why in names]


def hard_reasons(reasons: list[str]) -> list[str]:
    """The reasons that make a post high risk on their own: every one but the soft rules'."""
    return [r for r in reasons if r.split(":", 1)[0] not in SOFT_REASONS]
