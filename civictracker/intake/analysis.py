"""The database-free judgement about posts: triage, locate, reply intent (and what the CLI prints)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from civictracker.geo.gazetteer import Gazetteer
from civictracker.geo.remote import RemoteGeocoder
from civictracker.geo.types import GeocodeResult
from civictracker.services.geocoding import locate_text
from civictracker.triage.classify import TriageResult, triage_texts
from civictracker.triage.reply import classify_reply

MAX_STORED_TEXT = 20_000  # a post longer than any platform allows is kept whole up to this, and flagged
# A post that names only a street ("no plow on Fayerweather St") is acted on at street precision: the crew
# drives the street, street-wide services dedupe per street, the summary says "on <street>". The geocoder
# scores such a match below services.geocoding.MIN_CONFIDENCE ("not where on it"): 0.45 typed, 0.41 bare,
# 0.33 misspelt, 0.35 when a street more than twice as long wins over a namesake ("Gore St" over "Gore Street
# Pl"). A name it cannot decide between ("could be ...") is not found at all and is asked back.
STREET_MIN_CONFIDENCE = 0.3


@dataclass
class Analysis:
    """The database-free judgement about one post (also what `flask civictracker triage` prints)."""

    triage: TriageResult
    location: GeocodeResult | None
    usable_location: bool
    reply_intent: str | None = None
    reply_reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "is_request": self.triage.is_request,
            "service_code": self.triage.service_code if self.triage.is_request else None,
            "urgent": self.triage.urgent,
            "lang": self.triage.lang,
            "lat": loc.lat if loc and self.usable_location else None,
            "lon": loc.lon if loc and self.usable_location else None,
            "precision": loc.precision if loc and self.usable_location else None,
            "needs_location": self.triage.is_request and not self.usable_location,
            "reply_intent": self.reply_intent,
            "risk": self.triage.risk.level if self.triage.risk is not None else "none",
            "reasons": self.triage.reasons
            + (
                [f"location: {loc.matched} ({loc.precision}, {loc.confidence:.2f})"]
                if loc and loc.found
                else []
            )
            + ([f"location: {loc.reason}"] if loc and loc.reason and not self.usable_location else [])
            + [f"reply: {r}" for r in self.reply_reasons],
        }


def clean_text(text: object) -> str:
    """Text every backend can store: valid UTF-8, no NUL (PostgreSQL refuses it)."""
    s = text if isinstance(text, str) else ("" if text is None else str(text))
    s = s.encode("utf-8", "replace").decode("utf-8")
    return s.replace("\x00", "\ufffd")


def usable_location(loc: GeocodeResult | None, usable: bool) -> bool:
    """Good enough to open a ticket on: the geocoder's verdict, or one exact, unambiguous street."""
    if usable or loc is None or not loc.found:
        return usable
    return loc.precision == "street" and loc.confidence >= STREET_MIN_CONFIDENCE


class PostText(NamedTuple):
    """One post as analyze_posts() reads it: text, channel kind, geotag, and whether it is private."""

    text: str
    channel_kind: str
    geotag: tuple[float, float] | None = None
    private: bool | None = None  # default: a DM


def analyze_post(
    text: str,
    *,
    channel_kind: str,
    gazetteer: Gazetteer,
    services: list[dict[str, Any]] | None = None,
    geotag: tuple[float, float] | None = None,
    private: bool | None = None,
    remote: RemoteGeocoder | None = None,
) -> Analysis:
    """Triage, locate and (for replies) classify intent, without touching the database.

    `private` (default: a DM) keeps the text off any remote geocoder.
    """
    post = PostText(text, channel_kind, geotag, private)
    return analyze_posts([post], gazetteer=gazetteer, services=services, remote=remote)[0]


def analyze_posts(
    posts: Sequence[PostText],
    *,
    gazetteer: Gazetteer,
    services: list[dict[str, Any]] | None = None,
    remote: RemoteGeocoder | None = None,
) -> list[Analysis]:
    """analyze_post() of each post, their triage read as one batch (triage_texts: the same answers)."""
    texts = [clean_text(p.text)[:MAX_STORED_TEXT] for p in posts]
    kinds = [p.channel_kind for p in posts]
    triages = triage_texts(list(zip(texts, kinds, strict=True)), services=services)
    return [
        _locate(text, post, triage, gazetteer, remote)
        for text, post, triage in zip(texts, posts, triages, strict=True)
    ]


def _locate(
    text: str, post: PostText, triage: TriageResult, gazetteer: Gazetteer, remote: RemoteGeocoder | None
) -> Analysis:
    """One triaged post's place and (for replies) intent."""
    private = post.channel_kind == "dm" if post.private is None else post.private
    location, usable = (
        locate_text(gazetteer, text, post.geotag, remote, private=private) if text.strip() else (None, False)
    )
    usable = usable_location(location, usable)
    intent: str | None = None
    reasons: list[str] = []
    if post.channel_kind == "reply":
        intent, reasons = classify_reply(text)
    return Analysis(
        triage=triage, location=location, usable_location=usable, reply_intent=intent, reply_reasons=reasons
    )


def triage_summary(t: TriageResult) -> dict[str, Any]:
    """The triage decision as kept on the post and the ticket."""
    return {
        "is_request": t.is_request,
        "service_code": t.service_code,
        "urgent": t.urgent,
        "hazards": list(t.hazards),
        "lang": t.lang,
        "kind": t.kind,
        "confidence": round(t.confidence, 3),
        "reasons": t.reasons[:8],
        # a request that reads as a question, complaint or praise (triage/reads_as.py): a person answers
        **({"reads_as": t.reads_as} if t.reads_as else {}),
        # The escalation signal (triage/risk.py): the inbox orders by its priority and shows its reasons.
        "risk": {
            "level": t.risk.level,
            "priority": t.risk.priority,
            "reasons": (t.risk.reasons + t.risk.reach)[:4],
        }
        if t.risk is not None
        else {},
    }


def location_summary(a: Analysis) -> dict[str, Any]:
    """The location found (or why none) as kept on the post and the ticket."""
    if a.location is None:
        return {"found": False, "reason": "empty text"}
    return {**a.location.to_dict(), "usable": a.usable_location}
