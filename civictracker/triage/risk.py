"""Escalation signal of one post: none, angry, abusive or high risk, with a score and readable reasons.

High risk is rule-first for recall: threats of violence, self-harm, people in danger or harmed (en/es/pt/ht
patterns below, and the safety-critical words of data/high_risk_cues.tsv per language), and the hazards
triage already knows (rules.urgent_reasons and HAZARD_KINDS), backed by the learned danger head. Anger and
abuse come from the learned heads of risk_model.py (fitted by risk_fit.py on labelled text, never on
CrisisLex). Reach (followers, replies, reposts, likes) does not change the level: it
raises the priority with its reason. Thresholds were tuned on the dev split of bench/eval_risk.py only.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from civictracker.triage.risk_model import RiskModel, get_risk_model
from civictracker.triage.rules import hazard_kinds, urgent_reasons
from civictracker.triage.text import model_text

LEVELS = ("none", "angry", "abusive", "high_risk")
# Probability thresholds of the learned heads (tuned on the dev split: bench/eval_risk.py --split dev).
ANGER_THRESHOLD = 0.5
ABUSE_THRESHOLD = 0.5
DANGER_THRESHOLD = 0.5
# Reach that escalates any post, when the platform reports it. A city pack may override them under
# "escalation" in city.json (reach_thresholds() reads it); these defaults suit a city of ~100k people.
REACH_DEFAULTS: dict[str, int] = {
    "followers": 10_000,
    "replies": 25,
    "reposts": 50,
    "quotes": 25,
    "likes": 200,
}

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
    r"injur\w*|wounded|hurt|casualt\w*|missing|unaccounted|trapped|evacuat\w*|rescue\w*|survivors?|"
    r"not breathing|isn'?t breathing|unconscious|collapsed|screaming for help|calling for help|"
    r"out of control|remain indoors|take shelter|tsunami|fell through the ice|displac\w*|flee\w*|"
    r"from (?:their |our )?homes|wildfires?|bushfires?|inferno|state of emergency|emergency declaration|"
    r"disaster|water over (?:it|the road))\b|"
    r"\b(?:muert[oa]s?|muri\w*|fallecid\w*|herid[oa]s?|atrapad\w*|desaparecid\w*|evacu\w*|rescat\w*|victimas|"
    r"muertes|mort[oa]s|mortes|morre\w*|mata|feridos?|vitimas|corpos|resgat\w*|tewas|mouri|blese|auxilio|socorro)\b"
)
_HIGH_RISK = [
    (re.compile(_THREAT), "threat of violence"),
    (re.compile(_SELF_HARM), "self-harm or suicide"),
    (re.compile(_VIOLENCE), "violence or weapon"),
    (re.compile(_HARMED), "people harmed or in danger"),
]
# Safety-critical words per language (self-harm, trapped, gas, fire, hurt, weapons, cries for help): data,
# so every language says what English says; loaded once.
_CUES_FILE = Path(__file__).with_name("data") / "high_risk_cues.tsv"


@lru_cache(maxsize=1)
def _data_cues() -> list[tuple[re.Pattern[str], str]]:
    """(pattern, reason) per reason in the data file, each language's words joined in one pattern."""
    by_reason: dict[str, list[str]] = {}
    for line in _CUES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            reason, _lang, pattern = line.split("\t", 2)
            by_reason.setdefault(reason, []).append(f"(?:{pattern})")
    return [(re.compile(r"\b(?:" + "|".join(ps) + r")\b"), why) for why, ps in by_reason.items()]


# Words of the patterns above in a harmless sense, blanked before matching.
_HARMLESS = re.compile(
    r"\bdead (?:rat|rats|animal|bird|squirrel|skunk|raccoon|deer|battery|end|tree|trees|grass|leaves|"
    r"branch\w*|"
    r"light|lights|bulb|zone|serious)\b|\b(?:killing|killed) (?:me|it|time)\b|\bkilling it\b|"
    r"\bmissing (?:trash|recycling|pickup|pick ?up|sign|cover|bulb|piece|the bus)\b|\bmissed\b|"
    r"\bdying to\b|\bto die for\b|\bshoot,|\bphoto ?shoot\b|\bshot (?:of|at the) (?:the )?(?:view|sunset)\b|"
    r"\bbomb (?:cyclone|ass)\b|\b(?:is|was|so) the bomb\b|\bknife sharpen\w*|"
    r"\bhurts? my (?:eyes|ears|feelings)\b"
)


@dataclass
class Risk:
    """The escalation signal of one post; `priority` orders an inbox (higher first)."""

    level: str = "none"
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    reach: list[str] = field(default_factory=list)  # why the audience alone escalates it

    @property
    def escalate(self) -> bool:
        return self.level != "none" or bool(self.reach)

    @property
    def priority(self) -> int:
        """2 x level rank, plus 1 for a wide reach: high risk 6-7, abusive 4-5, angry 2-3, reach alone 1."""
        return 2 * LEVELS.index(self.level) + (1 if self.reach else 0)


def reach_thresholds(city: Mapping[str, object] | None = None) -> dict[str, int]:
    """The reach thresholds: the defaults, overridden by a city pack's "escalation" object."""
    override = (city or {}).get("escalation") or {}
    assert isinstance(override, Mapping), "city.json escalation must be an object"
    return {**REACH_DEFAULTS, **{k: int(v) for k, v in override.items() if k in REACH_DEFAULTS}}


def high_risk_reasons(mtext: str, hazards: list[str] | None = None) -> list[str]:
    """Why a model_text()-form post is high risk by the rules (empty if no rule fires)."""
    found = hazards if hazards is not None else urgent_reasons(mtext)
    # Every triage hazard of a kind (gas, fire, wires, trapped...) or crash; "urgent" alone is only a tone.
    reasons = [
        f"hazard: {why}" for why in found if hazard_kinds([why]) or "crash" in why or "collision" in why
    ]
    text = _HARMLESS.sub(" ", mtext)
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


def assess_risk(
    text: str,
    *,
    lang: str,
    followers: int | None = None,
    engagement: Mapping[str, int] | None = None,
    thresholds: Mapping[str, int] | None = None,
    model: RiskModel | None = None,
    hazards: list[str] | None = None,
) -> Risk:
    """The level, score and reasons of one post; `hazards` are triage's urgent reasons when already known."""
    mtext = model_text(text)
    mdl = model or get_risk_model()
    probs, row = mdl.probabilities(mtext)
    rules = high_risk_reasons(mtext, hazards)
    risk = Risk()
    if rules or probs["danger"] >= DANGER_THRESHOLD:
        risk.level, risk.reasons = "high_risk", rules
        risk.score = max(probs["danger"], 0.9 if rules else 0.0)
        if probs["danger"] >= DANGER_THRESHOLD:
            words = ", ".join(mdl.top_words(row, "danger"))
            risk.reasons.append(
                f"danger model p={probs['danger']:.2f}" + (f" (words: {words})" * bool(words))
            )
    elif probs["abuse"] >= ABUSE_THRESHOLD or probs["anger"] >= ANGER_THRESHOLD:
        head = "abuse" if probs["abuse"] >= ABUSE_THRESHOLD else "anger"
        risk.level, risk.score = ("abusive" if head == "abuse" else "angry"), probs[head]
        words = ", ".join(mdl.top_words(row, head))
        risk.reasons.append(f"{head} model p={probs[head]:.2f}" + (f" (words: {words})" if words else ""))
    else:
        risk.score = max(probs.values())
    risk.score = round(risk.score, 3)
    if lang not in ("en", "es", "pt", "ht", "und"):
        risk.reasons.append(f"language {lang}: the model is weaker outside en/es/pt/ht")
    limits = reach_thresholds() if thresholds is None else thresholds
    risk.reach = _reach_reasons(followers, engagement, limits)
    return risk


def _reach_reasons(
    followers: int | None, engagement: Mapping[str, int] | None, thresholds: Mapping[str, int]
) -> list[str]:
    reasons = []
    if followers is not None and followers >= thresholds["followers"]:
        reasons.append(f"account with {followers:,} followers (>= {thresholds['followers']:,})")
    for key, count in sorted((engagement or {}).items()):
        limit = thresholds.get(key)
        if limit is not None and count is not None and count >= limit:
            reasons.append(f"going viral: {count:,} {key} (>= {limit:,})")
    return reasons
