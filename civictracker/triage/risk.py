"""Escalation signal of one post: none, angry, abusive or high risk, with a score and readable reasons.

High risk: the hard rules of risk_rules.py (threats, self-harm, triage's hazards, the safety-critical words
of every language) decide alone; otherwise the learned danger head decides, reading the soft rules (weapons,
people harmed) as marker words beside the text, at a low threshold when the post names a category of danger
(risk_cues.py: casualties, fire, trapped, rising water ...) and a high one when it names none. Anger and
abuse come from the learned heads of risk_model.py, which also read tone.py's markers (shouting, insults,
swearing, outrage, repeats; fitted by risk_fit.py on labelled text, never on CrisisLex). Reach (followers,
replies, reposts, likes) does not change the level: it raises the priority with its reason. The anger and
abuse thresholds were tuned on the old dev split of bench/eval_risk.py, the danger pair on batches 6, 8, 9.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from civictracker.triage.risk_cues import danger_category
from civictracker.triage.risk_model import RiskModel, get_risk_model
from civictracker.triage.risk_rules import hard_reasons, high_risk_reasons, soft_markers
from civictracker.triage.text import model_text
from civictracker.triage.tone import marked_text, tone_markers

LEVELS = ("none", "angry", "abusive", "high_risk")
# Probability thresholds of the learned heads. Danger: CUED for a post naming a danger category, the other
# for the rest; the pair with high-risk recall >= 0.98 on each of two development batches that flags the
# fewest of them (a post of margin over the 0.97 goal), checked on the third: batches 6, 8, 9, the same pair
# in all three directions (scripts/cross_risk.py --gate --target 0.98; LABELLING.md, "Session 15, second
# round").
ANGER_THRESHOLD = 0.6
ABUSE_THRESHOLD = 0.6
DANGER_THRESHOLD_CUED = 0.14
DANGER_THRESHOLD = 0.52
# Reach that escalates any post, when the platform reports it. A city pack may override them under
# "escalation" in city.json (reach_thresholds() reads it); these defaults suit a city of ~100k people.
REACH_DEFAULTS: dict[str, int] = {
    "followers": 10_000,
    "replies": 25,
    "reposts": 50,
    "quotes": 25,
    "likes": 200,
}


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


def assess_risk(
    text: str,
    *,
    lang: str,
    followers: int | None = None,
    engagement: Mapping[str, int] | None = None,
    thresholds: Mapping[str, int] | None = None,
    model: RiskModel | None = None,
    hazards: list[str] | None = None,
    kind: str | None = None,
) -> Risk:
    """The level, score and reasons of one post; `hazards` are triage's urgent reasons when already known.

    A post triage reads as spam (`kind`) is escalated by the hard rules only: the learned heads are set for
    recall on what residents write, and a shouting ad ("GET FOLLOWERS NOW!!! storm sale") is not one.
    """
    risk = risk_level(text, model_text(text), lang=lang, model=model, hazards=hazards, kind=kind)
    risk.reach = reach_reasons(followers, engagement, thresholds)
    return risk


def risk_level(
    text: str,
    mtext: str,
    *,
    lang: str,
    model: RiskModel | None = None,
    hazards: list[str] | None = None,
    kind: str | None = None,
) -> Risk:
    """assess_risk() without reach, for a caller that has the post's model_text() form `mtext` already."""
    return risk_levels([RiskInput(text, mtext, lang, hazards, kind)], model=model)[0]


class RiskInput(NamedTuple):
    """What risk_levels() reads of one post: its text, model_text() form, language, triage's hazards, kind."""

    text: str
    mtext: str
    lang: str
    hazards: list[str] | None = None
    kind: str | None = None


def risk_levels(posts: Sequence[RiskInput], *, model: RiskModel | None = None) -> list[Risk]:
    """risk_level() of each post, the learned heads reading all of them as one batch (the same values)."""
    mdl = model or get_risk_model()
    rules = [high_risk_reasons(p.mtext, p.hazards) for p in posts]
    texts = [
        marked_text(p.mtext, tone_markers(p.text, p.mtext) + soft_markers(found))
        for p, found in zip(posts, rules, strict=True)
    ]
    read = mdl.probabilities_many(texts)
    return [
        _level(mdl, probs, row, found, p) for p, found, (probs, row) in zip(posts, rules, read, strict=True)
    ]


def _level(
    mdl: RiskModel,
    probs: dict[str, float],
    row: tuple[np.ndarray, np.ndarray],
    rules: list[str],
    post: RiskInput,
) -> Risk:
    """The level, score and reasons of one post from its rules and the learned heads' probabilities."""
    risk = Risk()
    learned = post.kind != "spam"
    p_danger = probs["danger"]
    # The danger categories are read only where they change the answer (most posts score below both).
    category = danger_category(post.mtext) if DANGER_THRESHOLD_CUED <= p_danger < DANGER_THRESHOLD else None
    danger = learned and (p_danger >= DANGER_THRESHOLD or category is not None)
    hard = hard_reasons(rules)
    if hard or danger:
        # The soft rules' words are kept as reasons when the model agrees: they say what it read.
        risk.level, risk.reasons = "high_risk", rules if danger else hard
        risk.score = max(probs["danger"], 0.9 if hard else 0.0)
        if danger:
            words = ", ".join(mdl.top_words(row, "danger"))
            risk.reasons.append(
                f"danger model p={probs['danger']:.2f}"
                + (f" (words: {words})" * bool(words))
                + (f"; names {category}" * bool(category))
            )
    elif learned and (probs["abuse"] >= ABUSE_THRESHOLD or probs["anger"] >= ANGER_THRESHOLD):
        head = "abuse" if probs["abuse"] >= ABUSE_THRESHOLD else "anger"
        risk.level, risk.score = ("abusive" if head == "abuse" else "angry"), probs[head]
        words = ", ".join(mdl.top_words(row, head))
        risk.reasons.append(f"{head} model p={probs[head]:.2f}" + (f" (words: {words})" if words else ""))
    else:
        risk.score = max(probs.values())
    risk.score = round(risk.score, 3)
    if post.lang not in ("en", "es", "pt", "ht", "und"):
        risk.reasons.append(f"language {post.lang}: the model is weaker outside en/es/pt/ht")
    return risk


def reach_reasons(
    followers: int | None,
    engagement: Mapping[str, int] | None,
    thresholds: Mapping[str, int] | None = None,
) -> list[str]:
    """Why the audience alone escalates a post (followers, replies, reposts, likes over the thresholds)."""
    if followers is None and not engagement:
        return []  # most posts: no reach reported
    if thresholds is None:
        thresholds = reach_thresholds()
    reasons = []
    if followers is not None and followers >= thresholds["followers"]:
        reasons.append(f"account with {followers:,} followers (>= {thresholds['followers']:,})")
    for key, count in sorted((engagement or {}).items()):
        limit = thresholds.get(key)
        if limit is not None and count is not None and count >= limit:
            reasons.append(f"going viral: {count:,} {key} (>= {limit:,})")
    return reasons
