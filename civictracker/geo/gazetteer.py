"""The in-memory street gazetteer of a city: segments, names, junctions, places, and the queries on them."""

from __future__ import annotations

import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .geometry import (
    OUTLINE_BAND_M,
    along,
    cumulative,
    nearest_node,
    node_key,
    outline_index,
    project,
    valid_latlon,
)
from .lexicon import Lexicon, default_lexicon
from .normalize import name_tokens, split_type
from .stopwords import WEAK_NAMES
from .types import LonLat, PlaceRecord

# Bump when the pickled structure or the build logic changes: it is part of the cache key.
CODE_VERSION = "geo-29"
GRID_M = 150.0
SNAP_M = 4.0  # a dangling segment end this close to another street's line is a junction
CLUSTER_M = 80.0  # junction nodes of one street pair this close are one intersection (divided roads)
CONTAINS_M = 400.0  # a point farther than this from every street is not "in the city"
BRIDGE_RANK = 2  # name rank of a bridge named without "Bridge" (after primary names 0 and aliases 1)


@dataclass(slots=True)
class Segment:
    """A centerline piece with its projected coordinates and address ranges."""

    id: str
    street: str
    coords: list[LonLat]
    xy: list[tuple[float, float]]
    cum: list[float]
    l_from: int | None
    l_to: int | None
    r_from: int | None
    r_to: int | None
    zip: str | None
    box: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # projected min x, min y, max x, max y

    @property
    def length(self) -> float:
        return self.cum[-1]


@dataclass(slots=True)
class Junction:
    """Where two named streets meet (one cluster of shared nodes)."""

    lon: float
    lat: float
    nodes: int  # how many shared nodes were merged (divided roads, multi-node junctions)
    crossing: bool  # only lines crossing, no shared node (may be a bridge/underpass)
    streets: frozenset[str]
    members: tuple[tuple[float, float, frozenset[str]], ...] = ()  # every node: lon, lat, streets there

    def best_node(self, queried: set[str]) -> tuple[float, float]:
        """The member node that best fits the named streets (where exactly those streets meet)."""
        if len(self.members) <= 1:
            return (self.lon, self.lat)
        best = min(
            self.members,
            key=lambda m: (
                len(m[2] - queried) + 2 * len(queried - m[2]),
                (m[0] - self.lon) ** 2 + ((m[1] - self.lat) * 1.35) ** 2,
            ),
        )
        return (best[0], best[1])


@dataclass(slots=True)
class NameHit:
    """Streets a normalized name key refers to, best first."""

    streets: tuple[str, ...]
    alias: bool
    bridges: int = 0  # how many trailing streets are bridges named without "Bridge" (last resorts)


# An official address this many house numbers past the nearest range end is placed at that end: the ranges
# of the centerlines stop a few numbers short of some corner lots, parks and plazas.
NEAR_RANGE_GAP = 20


@dataclass
class Gazetteer:
    """Everything a geocode needs, picklable, built once per pack."""

    name: str = ""
    bbox: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # min lon, min lat, max lon, max lat
    lon0: float = 0.0
    lat0: float = 0.0
    kx: float = 1.0
    ky: float = 1.0
    segments: list[Segment] = field(default_factory=list)
    seg_by_id: dict[str, int] = field(default_factory=dict)
    streets: dict[str, list[int]] = field(default_factory=dict)
    street_len: dict[str, float] = field(default_factory=dict)
    full_index: dict[tuple[str, ...], NameHit] = field(default_factory=dict)
    base_index: dict[tuple[str, ...], NameHit] = field(default_factory=dict)
    vocab: frozenset[str] = frozenset()
    max_name_len: int = 1
    name_first: dict[str, int] = field(default_factory=dict)  # first token -> longest name starting with it
    bridges: frozenset[str] = frozenset()  # streets whose type is bridge/footbridge
    # One-word names that are ordinary words here (the generic list plus the pack's geo.weak_names):
    # without a street type they name a street only inside a clear pattern.
    weak_names: frozenset[str] = WEAK_NAMES
    # Words after a one-word place name that make it a region ("central Boston"): the pack's geo.region_words.
    region_words: frozenset[str] = frozenset()
    junctions: dict[tuple[str, str], list[Junction]] = field(default_factory=dict)
    street_graph: dict[str, dict[tuple[int, int], list[tuple[tuple[int, int], int]]]] = field(
        default_factory=dict
    )
    addresses: dict[str, dict[int, set[str]]] = field(default_factory=dict)
    addr_points: dict[tuple[str, int, str], LonLat] = field(default_factory=dict)
    # Where a street named alone is pinned: its address with the most of the street's other addresses
    # nearby (build.street_points); streets without addresses fall back to their line's middle.
    street_points: dict[str, LonLat] = field(default_factory=dict)
    places: list[PlaceRecord] = field(default_factory=list)
    place_index: dict[tuple[str, ...], list[int]] = field(default_factory=dict)
    place_first: dict[str, int] = field(default_factory=dict)
    # One-word place names that are also common words ("Central", "Porter"): read only after "at"/"in".
    place_context: dict[str, int] = field(default_factory=dict)
    grid: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    # The city's outline in local metres (the official line, or the streets' hull) as plain rings, one
    # (exterior, holes) per polygon: the cache load stays free of shapely (and of WKB, which breaks when
    # SpatiaLite loads another GEOS into the process); the polygon is built on the first contains().
    boundary_rings: list[tuple[list[tuple[float, float]], list[list[tuple[float, float]]]]] | None = None
    boundary_source: str = ""  # "file:<name>" | "street hull" | "" (none: bbox + street distance only)
    warnings: list[str] = field(default_factory=list)
    # The pack's street types and corner/between/"and" words per language (language.json over the defaults).
    lexicon: Lexicon = field(default_factory=default_lexicon)
    version: str = CODE_VERSION

    # --- projection ------------------------------------------------------------------------------------
    def to_xy(self, lon: float, lat: float) -> tuple[float, float]:
        """Local equirectangular metres around the city centre (accurate to <0.1% across a city)."""
        return ((lon - self.lon0) * self.kx, (lat - self.lat0) * self.ky)

    def to_lonlat(self, x: float, y: float) -> LonLat:
        return (x / self.kx + self.lon0, y / self.ky + self.lat0)

    def distance_m(self, a: LonLat, b: LonLat) -> float:
        ax, ay = self.to_xy(*a)
        bx, by = self.to_xy(*b)
        return math.hypot(ax - bx, ay - by)

    def __getstate__(self) -> dict[str, Any]:
        # Per-process caches (prepared outline, fuzzy-word cache) are rebuilt on use, never pickled.
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    # --- spatial queries ---------------------------------------------------------------------------------
    def inside_outline(self, x: float, y: float) -> bool:
        """Point (local metres) inside the city's outline; True when there is none. Pure Python on purpose:
        shapely at query time segfaults in processes where SpatiaLite loaded its own GEOS."""
        if not self.boundary_rings:
            return True
        index = self.__dict__.get("outline_index")
        if index is None:
            index = outline_index(self.boundary_rings)
            self.__dict__["outline_index"] = index
        inside = False
        # Even-odd ray casting to +x over the edges of this point's horizontal band (holes included).
        for x1, y1, x2, y2 in index.get(math.floor(y / OUTLINE_BAND_M), ()):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside

    def contains(self, lat: float, lon: float) -> bool:
        """Inside the city's boundary polygon (a bbox admits the neighbours), and near one of its streets."""
        if not valid_latlon(lat, lon):
            return False
        min_lon, min_lat, max_lon, max_lat = self.bbox
        if not (min_lon <= lon <= max_lon and min_lat <= lat <= max_lat):
            return False
        if not self.inside_outline(*self.to_xy(lon, lat)):
            return False
        return self.nearest_segment(lat, lon, max_m=CONTAINS_M) is not None

    def nearest_segment(
        self, lat: float, lon: float, max_m: float = 250.0, street: str | None = None
    ) -> tuple[Segment, float, LonLat] | None:
        """Closest segment (optionally of one street) within max_m: (segment, distance m, snapped lon/lat)."""
        if not valid_latlon(lat, lon):
            return None
        x, y = self.to_xy(lon, lat)
        best: tuple[float, int, float, float] | None = None
        if street is not None:
            # One street's own segments, box-filtered, beat scanning grid cells full of other streets.
            for si in self.streets.get(street, ()):
                seg = self.segments[si]
                bx0, by0, bx1, by1 = seg.box
                if x < bx0 - max_m or x > bx1 + max_m or y < by0 - max_m or y > by1 + max_m:
                    continue
                d, px, py, _ = project(seg.xy, seg.cum, x, y)
                if d <= max_m and (best is None or d < best[0]):
                    best = (d, si, px, py)
            if best is None:
                return None
            return self.segments[best[1]], best[0], self.to_lonlat(best[2], best[3])
        cx, cy = math.floor(x / GRID_M), math.floor(y / GRID_M)
        rings = math.ceil(max_m / GRID_M)
        seen: set[int] = set()
        for dx in range(-rings, rings + 1):
            for dy in range(-rings, rings + 1):
                for si in self.grid.get((cx + dx, cy + dy), ()):
                    if si in seen:
                        continue
                    seen.add(si)
                    seg = self.segments[si]
                    d, px, py, _ = project(seg.xy, seg.cum, x, y)
                    if d <= max_m and (best is None or d < best[0]):
                        best = (d, si, px, py)
        if best is None:
            return None
        d, si, px, py = best
        return self.segments[si], d, self.to_lonlat(px, py)

    def segment_for(self, street: str, number: int) -> tuple[Segment, float, str] | None:
        """Segment whose address range holds number: (segment, fraction along it, side 'L'/'R')."""
        best: tuple[int, Segment, float, str] | None = None
        for si in self.streets.get(street, ()):
            seg = self.segments[si]
            for side, a, b in (("L", seg.l_from, seg.l_to), ("R", seg.r_from, seg.r_to)):
                if a is None or b is None or (a == 0 and b == 0):
                    continue
                lo, hi = min(a, b), max(a, b)
                if not lo <= number <= hi:
                    continue
                parity_ok = (a % 2 != b % 2) or number % 2 == a % 2
                # Prefer the right parity, then the tightest range (overlapping ranges exist).
                score = (0 if parity_ok else 100000) + (hi - lo)
                frac = 0.5 if a == b else (number - a) / (b - a)
                if best is None or score < best[0]:
                    best = (score, seg, frac, side)
        if best is None:
            return None
        return best[1], best[2], best[3]

    def nearest_range(self, street: str, number: int) -> tuple[Segment, int, float] | None:
        """The segment whose range end is closest to number: (segment, gap in house numbers, fraction)."""
        best: tuple[int, Segment, float] | None = None
        for si in self.streets.get(street, ()):
            seg = self.segments[si]
            for a, b in ((seg.l_from, seg.l_to), (seg.r_from, seg.r_to)):
                if a is None or b is None or (a == 0 and b == 0):
                    continue
                for end, frac in ((a, 0.0), (b, 1.0)):
                    gap = abs(number - end)
                    if best is None or gap < best[0]:
                        best = (gap, seg, frac)
        if best is None:
            return None
        return best[1], best[0], best[2]

    def point_along(self, seg: Segment, frac: float) -> LonLat:
        """Point at a fraction of a segment's length."""
        frac = min(1.0, max(0.0, frac))
        x, y = along(seg.xy, seg.cum, frac * seg.cum[-1])
        return self.to_lonlat(x, y)

    # --- names ---------------------------------------------------------------------------------------------
    def lookup_name(self, name: str) -> tuple[str, ...]:
        """Canonical streets for a name as written (full name first, then name without type)."""
        toks = name_tokens(name, self.lexicon)
        hit = self.full_index.get(toks)
        if hit is None:
            base, _ = split_type(toks, self.lexicon)
            # "Acorn Park Dr" -> Acorn Pk: the name without its type is itself a full street name.
            hit = self.base_index.get(base) or self.full_index.get(base)
        return hit.streets if hit else ()

    def intersections_of(self, a: str, b: str) -> list[Junction]:
        """Junction clusters of two canonical streets, biggest first."""
        key = (a, b) if a <= b else (b, a)
        return self.junctions.get(key, [])

    def street_line(self, street: str) -> list[LonLat]:
        """The longest connected chain of a street's segments, as one line."""
        graph = self.street_graph.get(street)
        if not graph:
            return []
        return longest_chain(self, street, graph)

    def path_between(self, street: str, a: LonLat, b: LonLat) -> list[LonLat] | None:
        """Line along a street from the node nearest a to the node nearest b (Dijkstra on its segments)."""
        graph = self.street_graph.get(street)
        if not graph:
            return None
        na = nearest_node(graph, a)
        nb = nearest_node(graph, b)
        if na is None or nb is None:
            return None
        if na == nb:
            return None
        dist: dict[tuple[int, int], float] = {na: 0.0}
        prev: dict[tuple[int, int], tuple[tuple[int, int], int]] = {}
        heap: list[tuple[float, tuple[int, int]]] = [(0.0, na)]
        while heap:
            d, node = heapq.heappop(heap)
            if node == nb:
                break
            if d > dist.get(node, math.inf):
                continue
            for nxt, si in graph.get(node, ()):
                nd = d + self.segments[si].length
                if nd < dist.get(nxt, math.inf):
                    dist[nxt] = nd
                    prev[nxt] = (node, si)
                    heapq.heappush(heap, (nd, nxt))
        if nb not in prev:
            return None
        return stitch_path(self.segments, prev, na, nb)

    def street_point(self, street: str, line: Sequence[LonLat]) -> LonLat:
        """Where to pin a street named alone: amid most of its addresses, else halfway along its line."""
        return self.street_points.get(street) or self.line_midpoint(line)

    def line_midpoint(self, line: Sequence[LonLat]) -> LonLat:
        """Point halfway along a lon/lat line."""
        xy = [self.to_xy(lon, lat) for lon, lat in line]
        cum = cumulative(xy)
        x, y = along(xy, cum, cum[-1] / 2)
        return self.to_lonlat(x, y)


def stitch_path(
    segments: Sequence[Segment],
    prev: Mapping[tuple[int, int], tuple[tuple[int, int], int]],
    start: tuple[int, int],
    end: tuple[int, int],
) -> list[LonLat]:
    """The line from node `start` to node `end` along a shortest-path tree (`prev`: node -> (previous node,
    segment index)), each segment turned to run the path's way and joined without repeating shared points."""
    chain: list[tuple[tuple[int, int], int]] = []
    node = end
    while node != start:
        node_before, si = prev[node]
        chain.append((node_before, si))
        node = node_before
    chain.reverse()
    line: list[LonLat] = []
    for from_node, si in chain:
        coords = segments[si].coords
        if node_key(coords[0]) != from_node:
            coords = coords[::-1]
        line.extend(coords if not line else coords[1:])
    return line


def longest_chain(gz: Gazetteer, street: str, graph: dict[tuple[int, int], Any]) -> list[LonLat]:
    # Two sweeps of farthest-node search give the longest path in a tree; good enough for streets.
    def farthest(src: tuple[int, int]) -> tuple[tuple[int, int], dict[tuple[int, int], tuple[Any, int]]]:
        dist = {src: 0.0}
        prev: dict[tuple[int, int], tuple[Any, int]] = {}
        heap = [(0.0, src)]
        while heap:
            d, node = heapq.heappop(heap)
            if d > dist[node]:
                continue
            for nxt, si in graph.get(node, ()):
                nd = d + gz.segments[si].length
                if nd < dist.get(nxt, math.inf):
                    dist[nxt] = nd
                    prev[nxt] = (node, si)
                    heapq.heappush(heap, (nd, nxt))
        far = max(dist, key=lambda k: dist[k])
        return far, prev

    start = next(iter(graph))
    a, _ = farthest(start)
    b, prev = farthest(a)
    line = stitch_path(gz.segments, prev, a, b)
    if not line:  # a single isolated segment that is its own loop
        line = list(gz.segments[gz.streets[street][0]].coords)
    return line
