"""Build a gazetteer from plain records: projection, segments, name indexes, search grid, street graphs."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from .gazetteer import BRIDGE_RANK, GRID_M, Gazetteer, NameHit, Segment
from .geometry import cumulative, node_key
from .junctions import build_junctions
from .lexicon import Lexicon, default_lexicon
from .normalize import name_tokens, split_type
from .outline import build_outline
from .places import build_places, resolve_place_specs
from .stopwords import WEAK_NAMES
from .types import AddressRecord, LonLat, PackError, PlaceRecord, SegmentRecord


def canonical_street(name: str) -> str:
    """Tidy a source street name ("MASSACHUSETTS AVE" stays as the source spells it, whitespace fixed)."""
    return re.sub(r"\s+", " ", name).strip()


@dataclass(frozen=True)
class GazetteerSpec:
    """What a city pack says about its gazetteer besides the street, address and place records.

    boundary: the city's outer rings (lon/lat) when the pack has an official boundary (boundary_name: its
    file, for messages); otherwise the concave hull of the streets stands in for it. place_specs: named
    places and areas placed by their streets. weak_names: the city's own one-word names that are ordinary
    words (squares, neighbouring towns), added to the generic list; region_words: words that make a
    one-word place name before them a region ("central Boston"), besides the city's own name.
    """

    name: str = ""
    aliases: Mapping[str, str] = field(default_factory=dict)
    place_specs: Sequence[dict[str, Any]] = ()
    boundary: Sequence[Sequence[LonLat]] | None = None
    boundary_name: str = ""
    weak_names: Sequence[str] = ()
    region_words: Sequence[str] = ()
    lexicon: Lexicon | None = None  # the pack's words (lexicon.load_lexicon); None: the defaults


def build_gazetteer(
    segments: Iterable[SegmentRecord],
    addresses: Iterable[AddressRecord] = (),
    places: Iterable[PlaceRecord] = (),
    spec: GazetteerSpec = GazetteerSpec(),  # frozen: one shared default is safe
) -> Gazetteer:
    """Build a gazetteer from plain records (any source: official CSV/GeoJSON or OSM) and the pack's spec."""
    segs = list(segments)
    if not segs:
        raise PackError("no street segments to build a gazetteer from")
    gz = Gazetteer(name=spec.name, weak_names=WEAK_NAMES | frozenset(w.lower() for w in spec.weak_names))
    gz.lexicon = spec.lexicon or default_lexicon()
    gz.region_words = frozenset(w.lower() for w in spec.region_words)
    _set_frame(gz, segs)
    street_aliases = _add_segments(gz, segs)
    for alias, target in spec.aliases.items():
        if target in gz.streets:
            street_aliases[target].add(alias)
        else:
            gz.warnings.append(f"alias {alias!r} points to unknown street {target!r}")
    _build_names(gz, street_aliases)
    _build_grid(gz)
    build_outline(gz, spec.boundary, spec.boundary_name)
    _build_graphs(gz)
    build_junctions(gz)
    _build_addresses(gz, addresses)
    _build_street_points(gz)
    all_places = list(places) + resolve_place_specs(gz, spec.place_specs)
    build_places(gz, all_places)
    return gz


def _set_frame(gz: Gazetteer, segs: list[SegmentRecord]) -> None:
    """The bounding box and the local metric projection around the streets' centre."""
    lons = [c[0] for s in segs for c in s.coords]
    lats = [c[1] for s in segs for c in s.coords]
    gz.bbox = (
        math.floor(min(lons) * 1e4) / 1e4,
        math.floor(min(lats) * 1e4) / 1e4,
        math.ceil(max(lons) * 1e4) / 1e4,
        math.ceil(max(lats) * 1e4) / 1e4,
    )
    gz.lon0 = (min(lons) + max(lons)) / 2
    gz.lat0 = (min(lats) + max(lats)) / 2
    gz.ky = 111_132.954 - 559.822 * math.cos(2 * math.radians(gz.lat0))
    gz.kx = 111_412.84 * math.cos(math.radians(gz.lat0)) - 93.5 * math.cos(3 * math.radians(gz.lat0))


def _add_segments(gz: Gazetteer, segs: list[SegmentRecord]) -> dict[str, set[str]]:
    """Every segment projected and filed under its street; returns the aliases the records carry."""
    street_aliases: dict[str, set[str]] = defaultdict(set)
    seen_ids: set[str] = set()
    for rec in segs:
        street = canonical_street(rec.street)
        sid = rec.id
        while sid in seen_ids:  # duplicate ids in a source must not collide
            sid += "'"
        seen_ids.add(sid)
        xy = [gz.to_xy(lon, lat) for lon, lat in rec.coords]
        box = (min(p[0] for p in xy), min(p[1] for p in xy), max(p[0] for p in xy), max(p[1] for p in xy))
        seg = Segment(
            sid,
            street,
            rec.coords,
            xy,
            cumulative(xy),
            rec.l_from,
            rec.l_to,
            rec.r_from,
            rec.r_to,
            rec.zip,
            box,
        )
        gz.seg_by_id[sid] = len(gz.segments)
        gz.segments.append(seg)
        gz.streets.setdefault(street, []).append(len(gz.segments) - 1)
        for al in rec.aliases:
            street_aliases[street].add(al)
    for street, idxs in gz.streets.items():
        gz.street_len[street] = sum(gz.segments[i].length for i in idxs)
    return street_aliases


def _build_names(gz: Gazetteer, street_aliases: dict[str, set[str]]) -> None:
    full: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)
    base: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)
    bridge_names: set[str] = set()

    def add(text: str, street: str, rank: int) -> None:
        toks = name_tokens(text, gz.lexicon)
        if not toks:
            return
        prev = full[toks].get(street)
        full[toks][street] = rank if prev is None else min(prev, rank)
        b, typ = split_type(toks, gz.lexicon)
        if typ is not None and b:
            # A bridge without its type word ("Harvard & Memorial") is only a last candidate (rank
            # BRIDGE_RANK): "harvard" still means Harvard St first; the bridge wins only where it meets.
            brank = BRIDGE_RANK if typ in ("bridge", "footbridge") else rank
            if brank == BRIDGE_RANK:
                bridge_names.add(street)
            prev = base[b].get(street)
            base[b][street] = brank if prev is None else min(prev, brank)

    for street in gz.streets:
        add(street, street, 0)
        for al in street_aliases.get(street, ()):
            add(al, street, 1)

    def ordered(d: dict[str, int]) -> NameHit:
        best = min(d.values())
        # Primary names beat aliases; among equals, the longer street is the likelier meaning.
        streets = sorted((s for s, r in d.items() if r == best), key=lambda s: -gz.street_len.get(s, 0.0))
        extra = sorted(s for s, r in d.items() if r == BRIDGE_RANK) if best < BRIDGE_RANK else []
        return NameHit(
            tuple(streets + extra),
            alias=0 < best < BRIDGE_RANK,
            bridges=len(streets) if best == BRIDGE_RANK else len(extra),
        )

    gz.bridges = frozenset(bridge_names)
    gz.full_index = {k: ordered(v) for k, v in full.items()}
    gz.base_index = {k: ordered(v) for k, v in base.items()}
    vocab: set[str] = set()
    longest = 1
    first: dict[str, int] = {}
    for k in list(full) + list(base):
        vocab.update(k)
        longest = max(longest, len(k))
        first[k[0]] = max(first.get(k[0], 0), len(k))
    gz.name_first = first
    gz.vocab = frozenset(t for t in vocab if t.isalpha())
    gz.max_name_len = longest + 1


def _build_grid(gz: Gazetteer) -> None:
    grid: dict[tuple[int, int], set[int]] = defaultdict(set)
    for si, seg in enumerate(gz.segments):
        for (x1, y1), (x2, y2) in pairwise(seg.xy):
            n = max(1, int(math.hypot(x2 - x1, y2 - y1) / (GRID_M / 2)) + 1)
            for k in range(n + 1):
                t = k / n
                x, y = x1 + t * (x2 - x1), y1 + t * (y2 - y1)
                grid[(math.floor(x / GRID_M), math.floor(y / GRID_M))].add(si)
    gz.grid = {k: sorted(v) for k, v in grid.items()}


def _build_graphs(gz: Gazetteer) -> None:
    graphs: dict[str, dict[tuple[int, int], list[tuple[tuple[int, int], int]]]] = {}
    for street, idxs in gz.streets.items():
        g: dict[tuple[int, int], list[tuple[tuple[int, int], int]]] = defaultdict(list)
        for si in idxs:
            c = gz.segments[si].coords
            a, b = node_key(c[0]), node_key(c[-1])
            g[a].append((b, si))
            g[b].append((a, si))
        graphs[street] = dict(g)
    gz.street_graph = graphs


def _build_addresses(gz: Gazetteer, addresses: Iterable[AddressRecord]) -> None:
    unknown: set[str] = set()
    for rec in addresses:
        streets = gz.lookup_name(rec.street)
        if not streets:
            unknown.add(rec.street)
            continue
        street = streets[0]
        gz.addresses.setdefault(street, {}).setdefault(rec.number, set()).add(rec.suffix)
        if rec.lon is not None and rec.lat is not None:
            gz.addr_points[(street, rec.number, rec.suffix)] = (rec.lon, rec.lat)
    if unknown:
        gz.warnings.append(f"{len(unknown)} address street names not in the centerlines")


# A post that names only a street ("Museum St was skipped for trash") was most likely written near where
# people live or work on it, so its pin goes where the street's addresses are densest, not halfway along
# a line that may run past a park or a rail yard. The radius is a couple of blocks: on the real-style
# dev set (bench/eval_geocode.py --only realstyle) street-only posts within 250 m of the resident's pin
# went from 64% (line middle) to 70%.
STREET_POINT_RADIUS_M = 250.0


def _build_street_points(gz: Gazetteer) -> None:
    """For every street with addresses, the address point with the most of its addresses within the radius."""
    r2 = STREET_POINT_RADIUS_M**2
    for street, numbers in gz.addresses.items():
        pts: list[tuple[float, float]] = []
        for number, suffixes in numbers.items():
            keys = [(street, number, s) for s in suffixes]
            known = next((gz.addr_points[k] for k in keys if k in gz.addr_points), None)
            if known is not None:
                pts.append(gz.to_xy(*known))
                continue
            hit = gz.segment_for(street, number)
            if hit is not None:
                pts.append(gz.to_xy(*gz.point_along(hit[0], hit[1])))
        if not pts:
            continue
        pts.sort()
        best, best_n, lo = 0, -1, 0
        # Points sorted by x: only those within the radius in x can be within it in distance.
        for i, (x, y) in enumerate(pts):
            while pts[lo][0] < x - STREET_POINT_RADIUS_M:
                lo += 1
            n = 0
            for j in range(lo, len(pts)):
                px, py = pts[j]
                if px > x + STREET_POINT_RADIUS_M:
                    break
                n += (px - x) ** 2 + (py - y) ** 2 <= r2
            if n > best_n:
                best, best_n = i, n
        gz.street_points[street] = gz.to_lonlat(*pts[best])
