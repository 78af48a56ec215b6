"""Resolve location phrases (or a whole post) to a point/line with precision, confidence and reason."""

from __future__ import annotations

import math
import re
from dataclasses import replace

from .corners import geocode_between, geocode_intersection
from .extract import NUMBER_AFTER, extract_locations
from .gazetteer import NEAR_RANGE_GAP, Gazetteer
from .geometry import valid_latlon
from .result import make_result, name_penalty
from .reverse import place_name
from .types import GeocodeResult, LocationPhrase, LonLat, not_found

GEOTAG_STREET_M = 150.0  # a geotag this close to the named street pins the spot on it
# How good each precision is when several phrases compete in one post.
PRECISION_RANK = {
    "rooftop": 1.0,
    "interpolated": 0.97,
    "intersection": 0.97,
    "segment": 0.9,
    "place": 0.85,
    "street": 0.5,
    "area": 0.4,
}
STREET_KINDS = frozenset({"address", "intersection", "between", "street"})
_NUM_RE = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?([a-z])?$")


# --- addresses -------------------------------------------------------------------------------------
def geocode_address(gz: Gazetteer, phrase: LocationPhrase) -> GeocodeResult:
    """House number on a street: rooftop point (OSM), else interpolation along the matching range."""
    m = _NUM_RE.match(phrase.number or "")
    if not m or not phrase.streets or not phrase.streets[0]:
        return not_found("no house number or street", kind="address")
    first = int(m.group(1))
    second = int(m.group(2)) if m.group(2) else None
    if second is not None and second < first:  # "12-4" style abbreviations are not a range we trust
        second = None
    suffix = (m.group(3) or "").upper()
    number = first
    candidates = phrase.streets[0]
    best: GeocodeResult | None = None
    for rank, street in enumerate(candidates):
        res = _address_on(gz, street, number, second, suffix, phrase)
        if res.found:
            res.confidence -= 0.05 * rank
            if best is None or res.confidence > best.confidence:
                best = res
        elif best is None and rank == 0:
            first_fail = res
    if best is not None:
        if len(candidates) > 1 and not phrase.typed:
            hits = [s for s in candidates if gz.segment_for(s, number)]
            if len(hits) > 1:
                best.confidence = min(best.confidence, 0.55)
                best.reason = f"{number} exists on {', '.join(hits)}; chose {best.street}"
        return best
    return first_fail


def _address_on(
    gz: Gazetteer, street: str, number: int, second: int | None, suffix: str, phrase: LocationPhrase
) -> GeocodeResult:
    """One address on one street: its listed point, else a point along its range, else the nearest range."""
    label = f"{number}{'-' + str(second) if second else ''}{suffix} {street}"
    in_list = _in_address_list(gz, street, number, second)
    pen = name_penalty(phrase)
    pt = gz.addr_points.get((street, number, suffix)) or gz.addr_points.get((street, number, ""))
    if pt is not None:
        return make_result(
            gz,
            pt,
            GeocodeResult(
                precision="rooftop", confidence=0.95 - pen, matched=label, kind="address", street=street
            ),
        )
    res = _interpolated(gz, street, (number, second), label, pen)
    if res is None and in_list:
        res = _nearest_range(gz, street, number, label, pen)
    if res is not None:
        return res
    if street not in gz.streets:
        return not_found(f"unknown street {street}", kind="address")
    return not_found(f"{number} is outside every address range of {street}", kind="address", matched=label)


def _in_address_list(gz: Gazetteer, street: str, number: int, second: int | None) -> bool:
    """Whether the official address list has this number (or the second of a "12-14" span) on the street."""
    known = gz.addresses.get(street)
    return known is not None and (number in known or (second is not None and second in known))


def _interpolated(
    gz: Gazetteer, street: str, numbers: tuple[int, int | None], label: str, pen: float
) -> GeocodeResult | None:
    """The address placed along the centerline range that holds its number (None: no range does)."""
    number, second = numbers
    known = gz.addresses.get(street)
    in_list = _in_address_list(gz, street, number, second)
    hit = gz.segment_for(street, number)
    if hit is None and second is not None:
        # "12-14 Elm St": the building spans both numbers; either one in a range places it.
        hit = gz.segment_for(street, second)
        if hit is not None:
            number, second = second, None
    if hit is None:
        return None
    seg, frac, _side = hit
    if second is not None:
        hit2 = gz.segment_for(street, second)
        if hit2 is not None and hit2[0] is seg:
            frac = (frac + hit2[1]) / 2
    conf = 0.9 if in_list else (0.72 if known else 0.8)
    reason = None if in_list or not known else f"{number} {street} is not in the official address list"
    return make_result(
        gz,
        gz.point_along(seg, frac),
        GeocodeResult(
            precision="interpolated",
            confidence=conf - pen,
            matched=label,
            kind="address",
            street=street,
            reason=reason,
            segment_id=seg.id,
        ),
    )


def _nearest_range(gz: Gazetteer, street: str, number: int, label: str, pen: float) -> GeocodeResult | None:
    """An official address that no centerline range holds: the nearest range's end, at lower confidence."""
    near = gz.nearest_range(street, number)
    if near is None:
        return None
    seg, gap, frac = near
    if gap <= NEAR_RANGE_GAP:
        return make_result(
            gz,
            gz.point_along(seg, frac),
            GeocodeResult(
                precision="segment",
                confidence=0.5 - pen,
                matched=label,
                kind="address",
                street=street,
                reason=f"{number} is {gap} numbers outside the nearest address range of {street}",
                segment_id=seg.id,
            ),
        )
    # A real address (in the official list) that the centerline ranges miss by more than a block:
    # the street is certain, the spot is not; low confidence so the resident is asked.
    return make_result(
        gz,
        gz.point_along(seg, frac),
        GeocodeResult(
            precision="street",
            confidence=0.35 - pen,
            matched=label,
            kind="address",
            street=street,
            reason=f"{number} {street} is an official address {gap} numbers outside every centerline range",
            segment_id=seg.id,
        ),
    )


def geocode_street(gz: Gazetteer, phrase: LocationPhrase, geotag: LonLat | None = None) -> GeocodeResult:
    """A whole street or a bare street name: amid its addresses, with its line; a geotag pins the spot."""
    cands = phrase.streets[0] if phrase.streets else []
    # A bare "harvard" is Harvard St; the bridge reading only matters where streets meet.
    cands = [c for c in cands if c not in gz.bridges] or cands
    if not cands:
        return not_found("no known street", kind="street")
    pen = name_penalty(phrase)
    whole = phrase.place == "whole"
    if geotag is not None:
        for street in cands:
            hit = gz.nearest_segment(geotag[1], geotag[0], max_m=GEOTAG_STREET_M, street=street)
            if hit is not None:
                seg, _d, pt = hit
                return make_result(
                    gz,
                    pt,
                    GeocodeResult(
                        precision="segment",
                        confidence=0.7 - pen,
                        matched=place_name(gz, geotag[1], geotag[0], street=street) or street,
                        kind="street",
                        street=street,
                        segment_id=seg.id,
                        line=gz.street_line(street) if whole else None,
                    ),
                )
    street = cands[0]
    reason = None
    conf = (0.8 if whole else 0.45) * phrase.strength / max(phrase.strength, 0.5) - pen
    exact = phrase.exact[0] if phrase.exact else 0
    if exact == 1 and cands[0] == phrase.streets[0][0]:
        # "Gore St" names Gore St exactly; Gore Street Pl only contains those words and needs its "Pl".
        cands = cands[:1]
    if len(cands) > 1:
        lens = sorted((gz.street_len.get(s, 0.0) for s in cands), reverse=True)
        if lens[1] > lens[0] * 0.5 and not _branches_of(gz, cands[0], cands[1:]):
            return not_found(f"'{phrase.text}' could be {', '.join(cands[:4])}", kind="street")
        conf -= 0.1
        reason = f"also matches {', '.join(cands[1:4])}"
    line = gz.street_line(street)
    if not line:
        return not_found(f"{street} has no geometry", kind="street")
    if not whole:
        reason = reason or "only the street is known, not where on it"
    return make_result(
        gz,
        gz.street_point(street, line),
        GeocodeResult(
            precision="street",
            confidence=conf,
            matched=street,
            kind="street",
            street=street,
            line=line,
            reason=reason,
        ),
    )


def _branches_of(gz: Gazetteer, street: str, others: list[str]) -> bool:
    """Whether every other reading of a bare name meets `street` (Boardman Pl off Boardman St): whichever
    the resident meant, the spot is on or just off `street`, so the name still places the post."""
    return all(gz.intersections_of(street, o) for o in others)


def geocode_place(gz: Gazetteer, phrase: LocationPhrase) -> GeocodeResult:
    """A landmark, point of interest or neighbourhood by name."""
    for p in gz.places:
        if p.name == phrase.place:
            if p.kind == "area":
                reason = f"{p.name} is a neighbourhood, not a point: neighbourhood only"
                return make_result(
                    gz,
                    (p.lon, p.lat),
                    GeocodeResult(
                        precision="area", confidence=0.4, matched=p.name, kind="area", reason=reason
                    ),
                )
            conf = 0.85 if p.kind == "landmark" else 0.8
            return make_result(
                gz,
                (p.lon, p.lat),
                GeocodeResult(
                    precision="place",
                    confidence=conf - (0.1 if phrase.fuzzy else 0.0),
                    matched=p.name,
                    kind="place",
                    street=p.street,
                ),
            )
    return not_found("unknown place", kind="place")


def _standing_street(phrase: LocationPhrase) -> int | None:
    """Which street of an intersection that cannot be placed still locates the post, if any: the first
    street of a "near" pair, or the one named exactly when the other is a bare common word or the same."""
    if not phrase.streets or not phrase.streets[0]:
        return None
    if phrase.strength < 0.7:
        return 0
    weak = phrase.weak or [False] * len(phrase.streets)
    exact = phrase.exact or [0] * len(phrase.streets)
    firsts = {c[0] for c in phrase.streets if c}
    if not any(weak) and len(firsts) > 1:
        return None  # two real streets that never meet: ask, do not pick one
    for k, cands in enumerate(phrase.streets):
        if cands and k < len(weak) and k < len(exact) and not weak[k] and exact[k]:
            return k
    return None


def geocode_phrase(gz: Gazetteer, phrase: LocationPhrase, geotag: LonLat | None = None) -> GeocodeResult:
    """Dispatch one extracted phrase to its resolver."""
    if phrase.kind == "address":
        res = geocode_address(gz, phrase)
        if not res.found and phrase.place == NUMBER_AFTER:
            # "Hampshire St 12.": a number written after the street is the weaker reading; when it is no
            # address there, the street the post names still stands.
            sub = replace(phrase, kind="street", number=None, place=None, strength=0.5)
            street = geocode_street(gz, sub, geotag)
            if street.found:
                street.reason = f"{res.reason}; located on {street.street} only"
                return street
        return res
    if phrase.kind == "intersection":
        res = geocode_intersection(gz, phrase, geotag, near=phrase.strength < 0.7)
        keep = _standing_street(phrase) if not res.found else None
        if keep is not None:
            # "Harvard St near Oxford", "3rd day and Hampshire St", "Lambert and Lambert St": when the names
            # never meet, the street the post names for certain still stands.
            sub = LocationPhrase(
                kind="street",
                text=phrase.text,
                start=phrase.start,
                end=phrase.end,
                streets=[phrase.streets[keep]],
                fuzzy=phrase.fuzzy,
                typed=phrase.typed,
                strength=0.5,
                exact=phrase.exact[keep : keep + 1],
            )
            street = geocode_street(gz, sub, geotag)
            if street.found:
                street.reason = f"{res.reason}; located on {street.street} only"
                return street
        return res
    if phrase.kind == "between":
        res = geocode_between(gz, phrase, geotag)
        return res if res.found else _one_end_of_span(gz, phrase, geotag) or res
    if phrase.kind == "street":
        return geocode_street(gz, phrase, geotag)
    if phrase.kind in ("place", "area"):
        return geocode_place(gz, phrase)
    return not_found(f"unsupported phrase kind {phrase.kind}")


def _one_end_of_span(gz: Gazetteer, phrase: LocationPhrase, geotag: LonLat | None) -> GeocodeResult | None:
    """ "Hampshire St from Brattle St to Windsor St" where only one end meets the street (the other is
    misread or another town's street): the block starts at the corner that exists, a "near" intersection.
    None when both or neither end meets it (then the span says nothing sure)."""
    if len(phrase.streets) < 3 or not phrase.streets[0]:
        return None
    street = phrase.streets[0]
    meets = [
        k for k in (1, 2) if any(gz.intersections_of(a, c) for a in street[:3] for c in phrase.streets[k][:3])
    ]
    if len(meets) != 1:
        return None
    k = meets[0]
    sub = replace(
        phrase, kind="intersection", streets=[street, phrase.streets[k]], strength=0.6,
        exact=[phrase.exact[0], phrase.exact[k]] if len(phrase.exact) > 2 else [],
        weak=[phrase.weak[0], phrase.weak[k]] if len(phrase.weak) > 2 else [],
    )  # fmt: skip
    res = geocode_intersection(gz, sub, geotag, near=True)
    if not res.found:
        return None
    other = phrase.streets[3 - k][0] if phrase.streets[3 - k] else "?"
    res.reason = f"{street[0]} does not meet {other}: located at the end of the block that exists"
    return res


# --- whole posts -----------------------------------------------------------------------------------
def _check_geotag(gz: Gazetteer, geotag: object) -> tuple[LonLat | None, str | None]:
    """(lon, lat) of a usable geotag, or a reason it was ignored."""
    if geotag is None:
        return None, None
    try:
        pair = list(geotag)  # type: ignore[call-overload]
        if len(pair) != 2:
            raise ValueError("not a pair")
        lat, lon = float(pair[0]), float(pair[1])
    except (TypeError, ValueError):
        return None, "geotag ignored: not a (lat, lon) pair"
    if not valid_latlon(lat, lon):
        return None, "geotag ignored: coordinates out of range or 0,0"
    if not gz.contains(lat, lon):
        return None, "geotag ignored: outside the city"
    return (lon, lat), None


def _score(res: GeocodeResult, phrase: LocationPhrase) -> float:
    if not res.found or res.precision is None:
        return -1.0
    return PRECISION_RANK.get(res.precision, 0.3) * res.confidence * (0.5 + 0.5 * min(1.0, phrase.strength))


def geocode_text(gazetteer: Gazetteer, text: str, geotag: tuple[float, float] | None = None) -> GeocodeResult:
    """The best location of a whole post (text and optional geotag as (lat, lon)); never a made-up point."""
    gz = gazetteer
    tag, tag_reason = _check_geotag(gz, geotag)
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    phrases = extract_locations(text, gz) if text.strip() else []
    best, first_fail = _best_of_phrases(gz, phrases, tag)
    if best is not None and best.precision == "street" and tag is None:
        best = _where_named_streets_meet(gz, phrases, best) or best
    # The text names no spot (nothing, or only an area): the geotag says more. A street keeps its line;
    # geocode_street already pinned the geotag when it lay on the street.
    if tag is not None and (best is None or best.precision == "area"):
        return _from_geotag(gz, tag, best)
    if best is not None:
        if tag_reason and best.reason is None:
            best.reason = tag_reason
        return best
    if first_fail is not None:
        if tag_reason:
            first_fail.reason = f"{first_fail.reason}; {tag_reason}"
        return first_fail
    if not text.strip():
        return not_found("empty text" + (f"; {tag_reason}" if tag_reason else ""))
    return not_found("no location found in the text" + (f"; {tag_reason}" if tag_reason else ""))


def _best_of_phrases(
    gz: Gazetteer, phrases: list[LocationPhrase], tag: LonLat | None
) -> tuple[GeocodeResult | None, GeocodeResult | None]:
    """The best-scoring phrase's result, and the first failure of a likely phrase (to explain a miss)."""
    best: GeocodeResult | None = None
    best_score = -1.0
    first_fail: GeocodeResult | None = None
    fuzzy_place: tuple[float, GeocodeResult] | None = None
    exact_street = False
    for ph in phrases:
        res = geocode_phrase(gz, ph, tag)
        if not res.found:
            if first_fail is None and ph.strength >= 0.5:
                first_fail = res
            continue
        if ph.strength < 0.7:
            res.confidence = min(res.confidence, 0.3 + ph.strength * 0.5)
        sc = _score(res, ph)
        if ph.fuzzy and ph.kind in ("place", "area"):
            # A place read from a misspelt word loses to any street named exactly in the same post.
            if fuzzy_place is None or sc > fuzzy_place[0]:
                fuzzy_place = (sc, res)
            continue
        exact_street = exact_street or (not ph.fuzzy and ph.strength >= 0.5 and ph.kind in STREET_KINDS)
        if sc > best_score:
            best, best_score = res, sc
    if fuzzy_place is not None and not exact_street and fuzzy_place[0] > best_score:
        best = fuzzy_place[1]
    return best, first_fail


def _where_named_streets_meet(
    gz: Gazetteer, phrases: list[LocationPhrase], best: GeocodeResult
) -> GeocodeResult | None:
    """A post that only places itself on a street but names, elsewhere in its words, one street that meets
    it ("a pothole on Cambridge St in front of the bakery, near Prospect St"; "bache en Cambridge St cerca
    de Prospect St"): the place where the two meet, as a "near" intersection."""
    named = [ph for ph in phrases if ph.kind == "street" and not ph.fuzzy and ph.streets and ph.streets[0]]
    meeting: list[str] = []
    # Streets named plainly first; then common-word names read only after "on"/"of" ("on Memorial",
    # "the intersection of Grove"), which count when nothing plainer meets the street and one of them does.
    for strong in (True, False):
        others = {ph.streets[0][0] for ph in named if (ph.strength >= 0.5) == strong} - {best.street}
        meeting = [s for s in others if best.street and gz.intersections_of(best.street, s)]
        if meeting:
            break
    if len(meeting) != 1:
        return None  # none, or several streets to choose from: the street alone is the honest answer
    assert best.street is not None
    near = LocationPhrase(
        kind="intersection", text=f"{best.street} near {meeting[0]}", start=0, end=0,
        streets=[[best.street], meeting], strength=0.6,
    )  # fmt: skip
    res = geocode_intersection(gz, near)
    if not res.found:
        return None
    res.reason = f"{best.street} and {meeting[0]} both named: located where they meet"
    return res


def _from_geotag(gz: Gazetteer, tag: LonLat, best: GeocodeResult | None) -> GeocodeResult:
    """The post's geotag, on the nearest street segment when one is close, named by its corner or street."""
    hit = gz.nearest_segment(tag[1], tag[0], max_m=250.0)
    name = place_name(gz, tag[1], tag[0], street=hit[0].street) if hit else None
    return GeocodeResult(
        lat=tag[1],
        lon=tag[0],
        precision="segment" if hit else "area",
        confidence=0.6 if hit else 0.4,
        matched=name or "",
        reason="from the post's geotag" + ("" if best is None else f"; text only named {best.matched}"),
        street=hit[0].street if hit else None,
        segment_id=hit[0].id if hit else None,
        kind="geotag",
    )


def distance_m(a: LonLat, b: LonLat) -> float:
    """Great-circle distance in metres between two (lon, lat) points (for evaluation and tests)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a[0], a[1], b[0], b[1]))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(h)))
