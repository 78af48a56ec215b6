"""A geocode result from a point (its segment looked up), and what loose naming costs in confidence."""

from __future__ import annotations

from dataclasses import replace

from .gazetteer import Gazetteer
from .types import GeocodeResult, LocationPhrase, LonLat


def make_result(gz: Gazetteer, pt: LonLat, found: GeocodeResult) -> GeocodeResult:
    """`found` (how it matched: precision, confidence, matched text, kind, street ...) placed at `pt`.

    Its confidence is clamped to 0..1; a street without a segment id gets the segment nearest `pt`."""
    segment_id = found.segment_id
    if segment_id is None and found.street is not None:
        hit = gz.nearest_segment(pt[1], pt[0], max_m=80.0, street=found.street)
        segment_id = hit[0].id if hit else None
    return replace(
        found,
        lat=pt[1],
        lon=pt[0],
        confidence=max(0.0, min(1.0, round(found.confidence, 3))),
        segment_id=segment_id,
    )


def name_penalty(phrase: LocationPhrase) -> float:
    pen = 0.0
    if phrase.fuzzy:
        pen += 0.12
    if not phrase.typed:
        pen += 0.04
    return pen
