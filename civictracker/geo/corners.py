"""Geocode where streets meet: intersections (two or three streets, near-misses) and between-spans."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise, product

from .gazetteer import Gazetteer, Junction
from .result import make_result, name_penalty
from .types import GeocodeResult, LocationPhrase, LonLat, not_found

NEAR_MISS_M = 60.0  # two streets that stop this close to each other are treated as meeting (data gaps)


def _fit(j: Junction, queried: set[str]) -> int:
    """How badly a junction's best node fits the named streets (0 = exactly those streets meet there)."""
    mems = j.members or ((j.lon, j.lat, j.streets),)
    return min(len(m[2] - queried) + 2 * len(queried - m[2]) for m in mems)


def _pick_junction(
    js: Sequence[Junction], queried: set[str], geotag: LonLat | None, gz: Gazetteer
) -> tuple[LonLat, bool]:
    """Best point of a street pair; True when the choice was ambiguous (several places, nothing to decide)."""
    if len(js) == 1:
        return js[0].best_node(queried), False
    if geotag is not None:
        j = min(js, key=lambda j: gz.distance_m((j.lon, j.lat), geotag))
        return j.best_node(queried), False
    # A node where exactly the named streets meet is a better reading of "A & B" than one with more streets.
    ranked = sorted(js, key=lambda j: (j.crossing, _fit(j, queried), -j.nodes))
    far = max(gz.distance_m((ranked[0].lon, ranked[0].lat), (j.lon, j.lat)) for j in ranked[1:])
    return ranked[0].best_node(queried), far > 40.0


def geocode_intersection(
    gz: Gazetteer, phrase: LocationPhrase, geotag: LonLat | None = None, near: bool = False
) -> GeocodeResult:
    """Where the named streets meet (2 or 3 streets), from geometry computed at build time."""
    cands = [c for c in phrase.streets if c]
    if len(cands) < 2:
        return not_found("an intersection needs two known streets", kind="intersection")
    if len(cands) >= 3:
        res = _three_named(gz, phrase, cands, geotag, near)
        if res is not None:
            return res
        cands = cands[:2]
    options = _junction_options(gz, cands[0], cands[1])
    if not options:
        return _near_miss_fallback(gz, cands[0], cands[1], name_penalty(phrase))
    return _best_option(gz, phrase, options, geotag, near)


def _three_named(
    gz: Gazetteer, phrase: LocationPhrase, cands: list[list[str]], geotag: LonLat | None, near: bool
) -> GeocodeResult | None:
    """Where three named streets meet, else the first pair of them that meets at all (None: no pair does)."""
    res = _three_way(gz, cands, geotag)
    if res is not None:
        res.confidence -= name_penalty(phrase)
        return res
    # No two of the three meet near the others: fall back to the first pair that meets at all.
    for x, y in ((0, 1), (0, 2), (1, 2)):
        sub = LocationPhrase(
            kind="intersection",
            text=phrase.text,
            start=phrase.start,
            end=phrase.end,
            streets=[cands[x], cands[y]],
            fuzzy=phrase.fuzzy,
            typed=phrase.typed,
        )
        res = geocode_intersection(gz, sub, geotag, near)
        if res.found:
            res.confidence = min(res.confidence, 0.7)
            res.reason = res.reason or "not all named streets meet here"
            return res
    return None


_Option = tuple[int, str, str, list[Junction]]  # (rank of the two readings, street a, street b, junctions)


def _junction_options(gz: Gazetteer, first: list[str], second: list[str]) -> list[_Option]:
    """Every pair of readings of the two names (up to four each) that meets, best-ranked readings first."""
    options: list[_Option] = []
    for ra, a in enumerate(first[:4]):
        for rb, b in enumerate(second[:4]):
            if a == b:
                continue
            js = gz.intersections_of(a, b)
            if js:
                options.append((ra + rb, a, b, js))
    options.sort(key=lambda o: o[0])
    return options


def _best_option(
    gz: Gazetteer, phrase: LocationPhrase, options: list[_Option], geotag: LonLat | None, near: bool
) -> GeocodeResult:
    """The best-ranked meeting of the two streets, its confidence lowered for each doubt about it."""
    rank, a, b, js = options[0]
    pt, ambiguous = _pick_junction(js, {a, b}, geotag, gz)
    conf = 0.95 - name_penalty(phrase) - 0.04 * rank
    reason = None
    others = [o for o in options[1:] if o[0] == rank or not phrase.typed]
    if others:
        conf = min(conf, 0.6 if phrase.typed else 0.55)
        reason = "several streets match these names: " + "; ".join(f"{o[1]} & {o[2]}" for o in options[:3])
    if ambiguous:
        conf = min(conf, 0.55)
        reason = f"{a} and {b} meet at {len(js)} places; chose the main one"
    if all(j.crossing for j in js):
        conf = min(conf, 0.7)
        reason = reason or f"{a} and {b} cross without a shared node (bridge or underpass?)"
    if near:
        conf = min(conf, 0.65)
        reason = reason or "near this intersection"
    return make_result(
        gz,
        pt,
        GeocodeResult(
            precision="intersection",
            confidence=conf,
            matched=f"{a} & {b}",
            kind="intersection",
            street=a,
            reason=reason,
        ),
    )


def _near_miss_fallback(gz: Gazetteer, first: list[str], second: list[str], pen: float) -> GeocodeResult:
    """Two streets that never meet in the data: the closest approach of their first readings, if near."""
    a, b = first[0], second[0]
    if a == b and len(first) == 1 and len(second) == 1:
        return not_found(f"both names are {a}", kind="intersection")
    approx = None
    for a2 in first[:2]:
        for b2 in second[:2]:
            if a2 != b2:
                got = _near_miss(gz, a2, b2)
                if got is not None and (approx is None or got[1] < approx[1]):
                    approx, a, b = got, a2, b2
    if approx is None:
        return not_found(f"{a} and {b} never meet", kind="intersection", matched=f"{a} & {b}")
    pt, gap = approx
    return make_result(
        gz,
        pt,
        GeocodeResult(
            precision="intersection",
            confidence=0.6 - pen,
            matched=f"{a} & {b}",
            kind="intersection",
            street=a,
            reason=f"{a} and {b} do not touch in the street data; they come within {gap:.0f} m",
        ),
    )


def _three_way(gz: Gazetteer, cands: list[list[str]], geotag: LonLat | None) -> GeocodeResult | None:
    best: tuple[tuple[int, int, float], LonLat, list[str]] | None = None
    # Up to four variants per bare name ("Clifton" is St, Cir or Pl): the combination that really meets wins.
    for combo in product(*(c[:4] for c in cands[:3])):
        streets = list(combo)
        if len(set(streets)) < 3:
            continue
        queried = set(streets)
        rank = sum(c.index(s) for c, s in zip(cands, streets, strict=False))
        pts: list[Junction] = []
        for i in range(3):
            for k in range(i + 1, 3):
                pts.extend(gz.intersections_of(streets[i], streets[k]))
        for j in pts:
            # How many named streets meet here, or at another pair's junction close by.
            here = len(j.streets & queried)
            support = sum(
                1 for j2 in pts if j2 is not j and gz.distance_m((j.lon, j.lat), (j2.lon, j2.lat)) < 80
            )
            dist = 0.0 if geotag is None else gz.distance_m((j.lon, j.lat), geotag)
            key = (-(here + support), rank, dist)
            if best is None or key < best[0]:
                best = (key, j.best_node(queried), streets)
    if best is None:
        return None
    key, pt, streets = best
    conf = 0.93 if -key[0] >= 3 else 0.75
    return make_result(
        gz,
        pt,
        GeocodeResult(
            precision="intersection",
            confidence=conf,
            matched=" & ".join(streets),
            kind="intersection",
            street=streets[0],
            reason=None if conf > 0.9 else "these streets do not all meet at one point",
        ),
    )


def _near_miss(gz: Gazetteer, a: str, b: str) -> tuple[LonLat, float] | None:
    """Point on the longer street nearest the shorter one, when they stop short of each other."""
    if gz.street_len.get(a, 0) < gz.street_len.get(b, 0):
        a, b = b, a
    best: tuple[float, LonLat] | None = None
    for si in gz.streets.get(b, ()):
        for lon, lat in gz.segments[si].coords:
            hit = gz.nearest_segment(lat, lon, max_m=NEAR_MISS_M, street=a)
            if hit is not None and (best is None or hit[1] < best[0]):
                best = (hit[1], hit[2])
    if best is None:
        return None
    return best[1], best[0]


# --- between-spans, streets, places ---------------------------------------------------------------
def geocode_between(gz: Gazetteer, phrase: LocationPhrase, geotag: LonLat | None = None) -> GeocodeResult:
    """A block of street A between B and C: the middle of the span, with the span as a line."""
    if len(phrase.streets) < 3 or not all(phrase.streets[:3]):
        return not_found("a between-span needs three known streets", kind="between")
    pen = name_penalty(phrase)
    for street in phrase.streets[0][:3]:
        ends: list[LonLat] = []
        for cross in phrase.streets[1:3]:
            j: LonLat | None = None
            for c in cross[:3]:
                js = gz.intersections_of(street, c)
                if js:
                    j = _pick_junction(js, {street, c}, geotag, gz)[0]
                    break
            if j is None:
                break
            ends.append(j)
        if len(ends) < 2:
            continue
        names = [phrase.streets[1][0], phrase.streets[2][0]]
        label = f"{street} between {names[0]} and {names[1]}"
        line = gz.path_between(street, ends[0], ends[1])
        if line is None or len(line) < 2:
            mid = ((ends[0][0] + ends[1][0]) / 2, (ends[0][1] + ends[1][1]) / 2)
            hit = gz.nearest_segment(mid[1], mid[0], max_m=200, street=street)
            if hit is None:
                continue
            return make_result(
                gz,
                hit[2],
                GeocodeResult(
                    precision="segment",
                    confidence=0.75 - pen,
                    matched=label,
                    kind="between",
                    street=street,
                    line=list(ends),
                ),
            )
        length = sum(gz.distance_m(p, q) for p, q in pairwise(line))
        conf = 0.88 if length < 400 else 0.75
        return make_result(
            gz,
            gz.line_midpoint(line),
            GeocodeResult(
                precision="segment",
                confidence=conf - pen,
                matched=label,
                kind="between",
                street=street,
                line=line,
            ),
        )
    a = phrase.streets[0][0]
    return not_found(f"{a} does not meet both cross streets", kind="between", matched=a)
