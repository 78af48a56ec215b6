"""A geocode result from a point (its segment looked up), and what loose naming costs in confidence."""

from __future__ import annotations

from .gazetteer import Gazetteer
from .types import GeocodeResult, LocationPhrase, LonLat


def make_result(
    gz: Gazetteer,
    pt: LonLat,
    precision: str,
    confidence: float,
    matched: str,
    kind: str,
    street: str | None = None,
    reason: str | None = None,
    line: list[LonLat] | None = None,
    segment_id: str | None = None,
) -> GeocodeResult:
    if segment_id is None and street is not None:
        hit = gz.nearest_segment(pt[1], pt[0], max_m=80.0, street=street)
        segment_id = hit[0].id if hit else None
    return GeocodeResult(
        lat=pt[1],
        lon=pt[0],
        precision=precision,
        confidence=max(0.0, min(1.0, round(confidence, 3))),
        matched=matched,
        reason=reason,
        street=street,
        segment_id=segment_id,
        line=line,
        kind=kind,
    )


def name_penalty(phrase: LocationPhrase) -> float:
    pen = 0.0
    if phrase.fuzzy:
        pen += 0.12
    if not phrase.typed:
        pen += 0.04
    return pen
