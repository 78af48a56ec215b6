"""In-memory street gazetteer built from a city pack: names, segments, computed intersections, places."""

from __future__ import annotations

import hashlib
import heapq
import json
import logging
import math
import os
import pickle
import re
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from .importers import (
    read_addresses_csv,
    read_boundary_geojson,
    read_centerlines_csv,
    read_centerlines_geojson,
    read_osm,
    read_poi_csv,
)
from .normalize import name_tokens, split_type
from .types import AddressRecord, LonLat, PackError, PlaceRecord, SegmentRecord

log = logging.getLogger(__name__)

# Bump when the gazetteer's pickled structure or build logic changes: it is part of the cache key.
CODE_VERSION = "geo-24"
GRID_M = 150.0
NODE_ROUND = 1e6  # coordinates equal to ~0.1 m are the same node
SNAP_M = 4.0  # a dangling segment end this close to another street's line is a junction
CLUSTER_M = 80.0  # junction nodes of one street pair this close are one intersection (divided roads)
CONTAINS_M = 400.0  # a point farther than this from every street is not "in the city"
# Without an official boundary file the city is the concave hull of its street vertices (ratio 0.02),
# widened by HULL_BUFFER_M so houses on edge streets stay in. Checked against Cambridge's official
# boundary: 16.35 km2 (land area ~16.6 km2), the hull passes 15-180 m outside the official line.
OUTLINE_BAND_M = 50.0  # horizontal bands of the outline's edge index (point-in-polygon)
HULL_RATIO = 0.02
HULL_BUFFER_M = 40.0
# An official boundary is widened a little: a phone's GPS fix is often 10-40 m off, and a resident on a
# Cambridge edge street must not be refused as "outside the city" (the line itself runs along streets).
BOUNDARY_TOLERANCE_M = 40.0
BRIDGE_RANK = 2  # name rank of a bridge named without "Bridge" (after primary names 0 and aliases 1)

# Single-word street names that are ordinary English words or first names: without a street type they
# count only inside a clear pattern (house number, "corner of", a real intersection).
WEAK_NAMES = frozenset(
    [
        "arrow",
        "ash",
        "bay",
        "beacon",
        "bent",
        "birch",
        "bond",
        "bow",
        "brown",
        "camp",
        "canal",
        "cedar",
        "central",
        "center",
        "chalk",
        "cherry",
        "child",
        "church",
        "clay",
        "cross",
        "crescent",
        "day",
        "deacon",
        "dock",
        "e",
        "w",
        "n",
        "s",
        "education",
        "elm",
        "field",
        "fern",
        "1st",
        "2nd",
        "3rd",
        "4th",
        "5th",
        "6th",
        "7th",
        "8th",
        "forest",
        "fountain",
        "front",
        "frost",
        "garden",
        "gold",
        "granite",
        "green",
        "grove",
        "high",
        "hill",
        "holly",
        "hunting",
        "ivy",
        "jay",
        "king",
        "land",
        "lawn",
        "line",
        "locust",
        "magazine",
        "main",
        "maple",
        "market",
        "may",
        "meadow",
        "memorial",
        "mill",
        "museum",
        "new",
        "oak",
        "olive",
        "orchard",
        "pk",
        "parkway",
        "pearl",
        "pine",
        "pleasant",
        "pond",
        "prince",
        "prospect",
        "reservoir",
        "river",
        "royal",
        "school",
        "spring",
        "state",
        "steel",
        "stone",
        "story",
        "sunset",
        "temple",
        "terminal",
        "union",
        "university",
        "upland",
        "village",
        "water",
        "white",
        "willow",
        "winter",
        "wood",
        "citizens",
        "cottage",
        "porter",
        "harvard",
        "kendall",
        "inman",
        "alewife",
        "cambridge",
        "massachusetts",
        "charles",
        "james",
        "thomas",
        "henry",
        "george",
        "michael",
        "marie",
        "emily",
        "richard",
        "william",
        "arthur",
        "andrew",
        "frances",
        "francis",
        "florence",
        "vincent",
        "martin",
        "howard",
        "dana",
        "max",
        "norman",
        "lee",
        "grant",
        "marion",
        "gray",
        "brewer",
        "mason",
        "cutler",
        "doyle",
        "hayes",
        "russell",
        "lincoln",
        "washington",
        "franklin",
        "jefferson",
        "adams",
        "madison",
        "putnam",
        "perry",
        "tyler",
        "jackson",
        "church",
        "park",
        "way",
        "allen",
        "clark",
        "davis",
        "wright",
        "walker",
        "turner",
        "scott",
        "moore",
        "roberts",
        "rogers",
        "morgan",
        "hamilton",
        "hancock",
        "lowell",
        "dunster",
        "quincy",
        "kirkland",
        "boylston",
        "brattle",
        "oxford",
        "cambridgepark",
        "broadway",
        "summer",
        "north",
        "south",
        "east",
        "west",
        "concord",
        "somerville",
        "lexington",
        "belmont",
        "arlington",
        "boston",
        "watertown",
        "newton",
        "hampshire",
    ]
)
# Several entries above (hampshire, broadway...) are NOT weak in Cambridge; the set is trimmed below to the
# names residents use as ordinary words, keeping distinctive street names strong.
_STRONG_OVERRIDE = frozenset(
    ["hampshire", "broadway", "brattle", "kirkland", "dunster", "boylston", "cambridgepark"]
)
WEAK_NAMES = WEAK_NAMES - _STRONG_OVERRIDE


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
    junctions: dict[tuple[str, str], list[Junction]] = field(default_factory=dict)
    street_graph: dict[str, dict[tuple[int, int], list[tuple[tuple[int, int], int]]]] = field(
        default_factory=dict
    )
    addresses: dict[str, dict[int, set[str]]] = field(default_factory=dict)
    addr_points: dict[tuple[str, int, str], LonLat] = field(default_factory=dict)
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
        index = self.__dict__.get("_outline_index")
        if index is None:
            index = _outline_index(self.boundary_rings)
            self.__dict__["_outline_index"] = index
        inside = False
        # Even-odd ray casting to +x over the edges of this point's horizontal band (holes included).
        for x1, y1, x2, y2 in index.get(math.floor(y / OUTLINE_BAND_M), ()):
            if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
                inside = not inside
        return inside

    def contains(self, lat: float, lon: float) -> bool:
        """Inside the city's boundary polygon (a bbox admits the neighbours), and near one of its streets."""
        if not _valid_latlon(lat, lon):
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
        if not _valid_latlon(lat, lon):
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
                d, px, py, _ = _project(seg.xy, seg.cum, x, y)
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
                    d, px, py, _ = _project(seg.xy, seg.cum, x, y)
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
        x, y = _along(seg.xy, seg.cum, frac * seg.cum[-1])
        return self.to_lonlat(x, y)

    # --- names ---------------------------------------------------------------------------------------------
    def lookup_name(self, name: str) -> tuple[str, ...]:
        """Canonical streets for a name as written (full name first, then name without type)."""
        toks = name_tokens(name)
        hit = self.full_index.get(toks)
        if hit is None:
            base, _ = split_type(toks)
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
        return _longest_chain(self, street, graph)

    def path_between(self, street: str, a: LonLat, b: LonLat) -> list[LonLat] | None:
        """Line along a street from the node nearest a to the node nearest b (Dijkstra on its segments)."""
        graph = self.street_graph.get(street)
        if not graph:
            return None
        na = _nearest_node(graph, a)
        nb = _nearest_node(graph, b)
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
        return _stitch_path(self.segments, prev, na, nb)

    def line_midpoint(self, line: Sequence[LonLat]) -> LonLat:
        """Point halfway along a lon/lat line."""
        xy = [self.to_xy(lon, lat) for lon, lat in line]
        cum = _cumulative(xy)
        x, y = _along(xy, cum, cum[-1] / 2)
        return self.to_lonlat(x, y)


# --- geometry helpers ------------------------------------------------------------------------------
def _valid_latlon(lat: Any, lon: Any) -> bool:
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        return False
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        return False
    if abs(lat_f) > 90 or abs(lon_f) > 180:
        return False
    return not (abs(lat_f) < 1e-9 and abs(lon_f) < 1e-9)


def _cumulative(xy: Sequence[tuple[float, float]]) -> list[float]:
    cum = [0.0]
    for (x1, y1), (x2, y2) in pairwise(xy):
        cum.append(cum[-1] + math.hypot(x2 - x1, y2 - y1))
    return cum


def _along(xy: Sequence[tuple[float, float]], cum: Sequence[float], dist: float) -> tuple[float, float]:
    if dist <= 0:
        return xy[0]
    for i in range(1, len(xy)):
        if cum[i] >= dist:
            seg = cum[i] - cum[i - 1]
            t = 0.0 if seg == 0 else (dist - cum[i - 1]) / seg
            return (
                xy[i - 1][0] + t * (xy[i][0] - xy[i - 1][0]),
                xy[i - 1][1] + t * (xy[i][1] - xy[i - 1][1]),
            )
    return xy[-1]


def _project(
    xy: Sequence[tuple[float, float]], cum: Sequence[float], x: float, y: float
) -> tuple[float, float, float, float]:
    """Distance from (x, y) to a polyline, the projected point and its distance along the line."""
    best = (math.inf, 0.0, 0.0, 0.0)
    for i in range(1, len(xy)):
        x1, y1 = xy[i - 1]
        x2, y2 = xy[i]
        dx, dy = x2 - x1, y2 - y1
        L2 = dx * dx + dy * dy
        t = 0.0 if L2 == 0 else max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / L2))
        px, py = x1 + t * dx, y1 + t * dy
        d = math.hypot(x - px, y - py)
        if d < best[0]:
            best = (d, px, py, cum[i - 1] + t * math.sqrt(L2))
    return best


def _stitch_path(
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
        if _node_key(coords[0]) != from_node:
            coords = coords[::-1]
        line.extend(coords if not line else coords[1:])
    return line


def _node_key(pt: LonLat) -> tuple[int, int]:
    return (round(pt[0] * NODE_ROUND), round(pt[1] * NODE_ROUND))


def _nearest_node(graph: dict[tuple[int, int], Any], pt: LonLat) -> tuple[int, int] | None:
    px, py = pt[0] * NODE_ROUND, pt[1] * NODE_ROUND
    best = None
    bd = math.inf
    for key in graph:
        d = (key[0] - px) ** 2 + ((key[1] - py) * 1.35) ** 2
        if d < bd:
            bd, best = d, key
    return best


def _longest_chain(gz: Gazetteer, street: str, graph: dict[tuple[int, int], Any]) -> list[LonLat]:
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
    line = _stitch_path(gz.segments, prev, a, b)
    if not line:  # a single isolated segment that is its own loop
        line = list(gz.segments[gz.streets[street][0]].coords)
    return line


def _seg_intersection(
    p1: tuple[float, float], p2: tuple[float, float], p3: tuple[float, float], p4: tuple[float, float]
) -> tuple[float, float] | None:
    d = (p2[0] - p1[0]) * (p4[1] - p3[1]) - (p2[1] - p1[1]) * (p4[0] - p3[0])
    if abs(d) < 1e-12:
        return None
    t = ((p3[0] - p1[0]) * (p4[1] - p3[1]) - (p3[1] - p1[1]) * (p4[0] - p3[0])) / d
    u = ((p3[0] - p1[0]) * (p2[1] - p1[1]) - (p3[1] - p1[1]) * (p2[0] - p1[0])) / d
    if 0.0 < t < 1.0 and 0.0 < u < 1.0:
        return (p1[0] + t * (p2[0] - p1[0]), p1[1] + t * (p2[1] - p1[1]))
    return None


# --- building --------------------------------------------------------------------------------------
def canonical_street(name: str) -> str:
    """Tidy a source street name ("MASSACHUSETTS AVE" stays as the source spells it, whitespace fixed)."""
    return re.sub(r"\s+", " ", name).strip()


def build_gazetteer(
    segments: Iterable[SegmentRecord],
    addresses: Iterable[AddressRecord] = (),
    places: Iterable[PlaceRecord] = (),
    name: str = "",
    aliases: dict[str, str] | None = None,
    place_specs: Sequence[dict[str, Any]] = (),
    boundary: Sequence[Sequence[LonLat]] | None = None,
    boundary_name: str = "",
) -> Gazetteer:
    """Build a gazetteer from plain records (any source: official CSV/GeoJSON or OSM).

    boundary: the city's outer rings (lon/lat) when the pack has an official boundary; otherwise the
    concave hull of the streets stands in for it.
    """
    segs = list(segments)
    if not segs:
        raise PackError("no street segments to build a gazetteer from")
    lons = [c[0] for s in segs for c in s.coords]
    lats = [c[1] for s in segs for c in s.coords]
    gz = Gazetteer(name=name)
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
            _cumulative(xy),
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
    for alias, target in (aliases or {}).items():
        if target in gz.streets:
            street_aliases[target].add(alias)
        else:
            gz.warnings.append(f"alias {alias!r} points to unknown street {target!r}")
    _build_names(gz, street_aliases)
    _build_grid(gz)
    _build_boundary(gz, boundary, boundary_name)
    _build_graphs(gz)
    _build_junctions(gz)
    _build_addresses(gz, addresses)
    all_places = list(places) + _resolve_place_specs(gz, place_specs)
    _build_places(gz, all_places)
    return gz


def _build_names(gz: Gazetteer, street_aliases: dict[str, set[str]]) -> None:
    full: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)
    base: dict[tuple[str, ...], dict[str, int]] = defaultdict(dict)
    bridge_names: set[str] = set()

    def add(text: str, street: str, rank: int) -> None:
        toks = name_tokens(text)
        if not toks:
            return
        prev = full[toks].get(street)
        full[toks][street] = rank if prev is None else min(prev, rank)
        b, typ = split_type(toks)
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


def _build_boundary(gz: Gazetteer, rings: Sequence[Sequence[LonLat]] | None, name: str) -> None:
    import shapely
    from shapely.geometry import MultiPoint, Polygon

    if rings:
        polys = [Polygon([gz.to_xy(lon, lat) for lon, lat in ring]) for ring in rings if len(ring) >= 4]
        geom = shapely.make_valid(shapely.union_all([p for p in polys if not p.is_empty]))
        if not geom.is_empty:
            geom = geom.buffer(BOUNDARY_TOLERANCE_M)
        if geom.is_empty:
            gz.warnings.append(f"boundary {name!r} has no usable polygon; using the streets' hull")
        else:
            gz.boundary_rings, gz.boundary_source = _rings_of(geom), f"file:{name}"
            return
    pts = [p for seg in gz.segments for p in seg.xy]
    if len(pts) < 3:
        return
    hull = shapely.concave_hull(MultiPoint(pts), ratio=HULL_RATIO).buffer(HULL_BUFFER_M)
    if hull.area > 0:
        gz.boundary_rings, gz.boundary_source = _rings_of(hull), "street hull"


def _outline_index(
    rings: list[tuple[list[tuple[float, float]], list[list[tuple[float, float]]]]],
) -> dict[int, list[tuple[float, float, float, float]]]:
    bands: dict[int, list[tuple[float, float, float, float]]] = defaultdict(list)
    for ext, holes in rings:
        for ring in [ext, *holes]:
            for (x1, y1), (x2, y2) in pairwise(ring):
                if y1 == y2:
                    continue  # a horizontal edge never crosses a horizontal ray
                for b in range(
                    math.floor(min(y1, y2) / OUTLINE_BAND_M), math.floor(max(y1, y2) / OUTLINE_BAND_M) + 1
                ):
                    bands[b].append((x1, y1, x2, y2))
    return dict(bands)


def _rings_of(geom: Any) -> list[tuple[list[tuple[float, float]], list[list[tuple[float, float]]]]]:
    polys = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    return [
        (
            [(float(c[0]), float(c[1])) for c in p.exterior.coords],
            [[(float(c[0]), float(c[1])) for c in r.coords] for r in p.interiors],
        )
        for p in polys
        if p.geom_type == "Polygon" and not p.is_empty
    ]


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
            a, b = _node_key(c[0]), _node_key(c[-1])
            g[a].append((b, si))
            g[b].append((a, si))
        graphs[street] = dict(g)
    gz.street_graph = graphs


def _build_junctions(gz: Gazetteer) -> None:
    # 1. Every vertex (end or interior) used by two or more named streets is a junction node.
    node_streets: dict[tuple[int, int], set[str]] = defaultdict(set)
    node_pt: dict[tuple[int, int], LonLat] = {}
    end_nodes: dict[tuple[int, int], set[str]] = defaultdict(set)
    for seg in gz.segments:
        for i, pt in enumerate(seg.coords):
            k = _node_key(pt)
            node_streets[k].add(seg.street)
            node_pt.setdefault(k, pt)
            if i == 0 or i == len(seg.coords) - 1:
                end_nodes[k].add(seg.street)
    raw: dict[tuple[str, str], list[tuple[LonLat, bool, frozenset[str]]]] = defaultdict(list)
    for k, sts in node_streets.items():
        if len(sts) < 2:
            continue
        fs = frozenset(sts)
        ordered = sorted(sts)
        for i in range(len(ordered)):
            for j in range(i + 1, len(ordered)):
                raw[(ordered[i], ordered[j])].append((node_pt[k], False, fs))
    # 2. Dangling ends that stop a few metres short of another street (digitizing gaps) also meet it.
    for k in end_nodes:
        if len(node_streets[k]) > 1:
            continue
        lon, lat = node_pt[k]
        x, y = gz.to_xy(lon, lat)
        cx, cy = math.floor(x / GRID_M), math.floor(y / GRID_M)
        here = node_streets[k]
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                for si in gz.grid.get((cx + dx, cy + dy), ()):
                    seg = gz.segments[si]
                    if seg.street in here:
                        continue
                    d, _px, _py, _ = _project(seg.xy, seg.cum, x, y)
                    if d <= SNAP_M:
                        for s in here:
                            pair = (s, seg.street) if s <= seg.street else (seg.street, s)
                            raw[pair].append(((lon, lat), False, frozenset(here | {seg.street})))
    # 3. Lines that cross without a shared vertex (bridges, or unnoded data): kept as weaker junctions.
    crossings: dict[tuple[str, str], list[tuple[LonLat, bool, frozenset[str]]]] = defaultdict(list)
    for cell, idxs in gz.grid.items():
        for ii in range(len(idxs)):
            sa = gz.segments[idxs[ii]]
            for jj in range(ii + 1, len(idxs)):
                sb = gz.segments[idxs[jj]]
                if sa.street == sb.street:
                    continue
                pair = (sa.street, sb.street) if sa.street <= sb.street else (sb.street, sa.street)
                for a1, a2 in pairwise(sa.xy):
                    for b1, b2 in pairwise(sb.xy):
                        p = _seg_intersection(a1, a2, b1, b2)
                        if p is None:
                            continue
                        if (math.floor(p[0] / GRID_M), math.floor(p[1] / GRID_M)) != cell:
                            continue  # count each crossing once, in the cell that holds it
                        crossings[pair].append((gz.to_lonlat(*p), True, frozenset(pair)))
    for pair, pts in crossings.items():
        if pair not in raw:
            raw[pair] = pts
    gz.junctions = {pair: _cluster(gz, pts) for pair, pts in raw.items()}


def _cluster(gz: Gazetteer, pts: list[tuple[LonLat, bool, frozenset[str]]]) -> list[Junction]:
    # Single-linkage clustering of a street pair's junction nodes: a divided road or a multi-node
    # junction gives several nodes tens of metres apart that a resident calls one intersection.
    uniq: dict[tuple[int, int], tuple[LonLat, bool, frozenset[str]]] = {}
    for p in pts:
        uniq.setdefault(_node_key(p[0]), p)
    items = list(uniq.values())
    xy = [gz.to_xy(*p[0]) for p in items]
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if math.hypot(xy[i][0] - xy[j][0], xy[i][1] - xy[j][1]) <= CLUSTER_M:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(items)):
        groups[find(i)].append(i)
    out = []
    for members in groups.values():
        mx = sum(xy[i][0] for i in members) / len(members)
        my = sum(xy[i][1] for i in members) / len(members)
        # Representative: the real node nearest the cluster centre (never a point between carriageways
        # that no street passes through), preferring nodes where more streets meet.
        rep = min(members, key=lambda i: math.hypot(xy[i][0] - mx, xy[i][1] - my) - 8.0 * len(items[i][2]))
        sts: frozenset[str] = frozenset().union(*(items[i][2] for i in members))
        lon, lat = items[rep][0]
        mem = tuple((items[i][0][0], items[i][0][1], items[i][2]) for i in members)
        out.append(Junction(lon, lat, len(members), all(items[i][1] for i in members), sts, mem))
    out.sort(key=lambda j: (j.crossing, -j.nodes))
    return out


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


def _resolve_place_specs(gz: Gazetteer, specs: Sequence[dict[str, Any]]) -> list[PlaceRecord]:
    """Places defined in the pack by reference to street data (an intersection, an address, a street)."""
    out: list[PlaceRecord] = []
    for spec in specs:
        name = str(spec.get("name") or "").strip()
        if not name:
            continue
        pt: LonLat | None = None
        street: str | None = None
        try:
            if "at" in spec:
                a, b = (gz.lookup_name(x) for x in spec["at"][:2])
                if a and b:
                    js = gz.intersections_of(a[0], b[0])
                    if js:
                        pt = (js[0].lon, js[0].lat)
                        street = a[0]
            elif "address" in spec:
                m = re.match(r"\s*(\d+)\s+(.+)", str(spec["address"]))
                if m:
                    sts = gz.lookup_name(m.group(2))
                    if sts:
                        hit = gz.segment_for(sts[0], int(m.group(1)))
                        if hit:
                            pt = gz.point_along(hit[0], hit[1])
                            street = sts[0]
            elif "street" in spec:
                sts = gz.lookup_name(spec["street"])
                if sts:
                    line = gz.street_line(sts[0])
                    if line:
                        pt = gz.line_midpoint(line)
                        street = sts[0]
            elif "lonlat" in spec:
                pt = (float(spec["lonlat"][0]), float(spec["lonlat"][1]))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            gz.warnings.append(f"place {name!r}: bad spec ({exc})")
            continue
        if pt is None:
            gz.warnings.append(f"place {name!r}: its reference is not in the street data")
            continue
        out.append(
            PlaceRecord(
                name=name,
                lon=pt[0],
                lat=pt[1],
                kind=str(spec.get("kind", "place")),
                aliases=[str(a) for a in spec.get("aliases", [])],
                street=street,
                radius_m=float(spec.get("radius_m", 150.0 if spec.get("kind") != "area" else 800.0)),
            )
        )
    return out


def _build_places(gz: Gazetteer, places: Sequence[PlaceRecord]) -> None:
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    first: dict[str, int] = {}
    context: dict[str, int] = {}
    # Curated places (landmarks, neighbourhoods) come after POIs in the list; give them priority in lookups.
    ordered = sorted(range(len(places)), key=lambda i: 0 if places[i].kind in ("landmark", "area") else 1)
    gz.places = [places[i] for i in ordered]
    for pi, p in enumerate(gz.places):
        for nm in [p.name, *p.aliases]:
            toks = name_tokens(nm)
            # "the Galleria mall" is also "Galleria mall"; but in "the Common", "the Port" the article is
            # what makes an ordinary word a name ("a common problem" is no place), so it stays.
            if toks and toks[0] == "the" and len(toks) > 2:
                toks = toks[1:]
            if not toks:
                continue
            if len(toks) == 1 and toks[0] in WEAK_NAMES:
                context.setdefault(toks[0], pi)  # "at Central": only with a word that makes it a place
                continue
            if pi not in index[toks]:
                index[toks].append(pi)
            first[toks[0]] = max(first.get(toks[0], 0), len(toks))
    gz.place_index = dict(index)
    gz.place_first = first
    gz.place_context = context


# --- pack loading + cache --------------------------------------------------------------------------
def _default_cache_dir() -> Path:
    env = os.environ.get("CIVICTRACKER_GEO_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "civictracker" / "geo"


def _read_city(pack_dir: Path) -> dict[str, Any]:
    path = pack_dir / "city.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PackError(f"cannot read {path}: {exc}") from exc
    except ValueError as exc:
        raise PackError(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise PackError(f"{path} must hold a JSON object")
    return data


def _input_files(pack_dir: Path, city: dict[str, Any]) -> list[Path]:
    files = [pack_dir / "city.json"]
    for key in ("streets", "addresses", "places", "boundary"):
        spec = city.get(key)
        if isinstance(spec, dict) and spec.get("file"):
            files.append(pack_dir / str(spec["file"]))
    return files


def _cache_key(files: Sequence[Path]) -> str:
    h = hashlib.sha256(CODE_VERSION.encode())
    for f in files:
        h.update(str(f.name).encode())
        try:
            h.update(f.read_bytes())
        except OSError:
            h.update(b"<missing>")
    return h.hexdigest()[:24]


def load_gazetteer(pack_dir: Path, cache_dir: Path | None = None) -> Gazetteer:
    """Gazetteer of a city pack, from the on-disk cache when the inputs and code are unchanged."""
    pack_dir = Path(pack_dir)
    city = _read_city(pack_dir)
    files = _input_files(pack_dir, city)
    key = _cache_key(files)
    cdir = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    cpath = cdir / f"{city.get('slug') or pack_dir.name}-{key}.pickle"
    if cpath.exists():
        try:
            with cpath.open("rb") as fh:
                # Our own cache file, written by this function into a private cache dir.
                gz = pickle.load(fh)  # noqa: S301
            if isinstance(gz, Gazetteer) and gz.version == CODE_VERSION:
                return gz
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError) as exc:
            log.warning("ignoring unreadable gazetteer cache %s: %s", cpath, exc)
    t0 = time.perf_counter()
    gz = build_from_pack(pack_dir, city)
    log.info("built gazetteer for %s in %.2fs", pack_dir, time.perf_counter() - t0)
    try:
        cdir.mkdir(parents=True, exist_ok=True)
        tmp = cpath.with_suffix(f".tmp{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump(gz, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cpath)
    except OSError as exc:  # a read-only cache dir only costs speed
        log.warning("cannot write gazetteer cache %s: %s", cpath, exc)
    return gz


def build_from_pack(pack_dir: Path, city: dict[str, Any] | None = None) -> Gazetteer:
    """Read a pack's files through its field mapping and build the gazetteer (no cache)."""
    pack_dir = Path(pack_dir)
    city = city if city is not None else _read_city(pack_dir)
    streets = city.get("streets")
    if not isinstance(streets, dict) or not streets.get("file"):
        raise PackError(f"{pack_dir}/city.json lacks streets.file")
    geo = city.get("geo") if isinstance(city.get("geo"), dict) else {}
    assert isinstance(geo, dict)
    fields = dict(streets.get("fields") or {})
    fields.update(geo.get("street_fields") or {})
    spath = pack_dir / str(streets["file"])
    if not spath.exists():
        raise PackError(f"street file {spath} does not exist")
    fmt = str(streets.get("format") or "csv_wkt")
    addresses: list[AddressRecord] = []
    places: list[PlaceRecord] = []
    if fmt == "csv_wkt":
        segs = read_centerlines_csv(spath, fields)
    elif fmt == "geojson":
        segs = read_centerlines_geojson(spath, fields)
    elif fmt == "osm":
        segs, addresses, places = read_osm(spath)
    else:
        raise PackError(f"unknown streets.format {fmt!r}")
    addr_spec = city.get("addresses")
    if isinstance(addr_spec, dict) and addr_spec.get("file"):
        apath = pack_dir / str(addr_spec["file"])
        if apath.exists():
            addresses.extend(read_addresses_csv(apath))
        else:
            log.warning("address file %s missing; addresses will not be validated", apath)
    specs = list(geo.get("places") or []) + list(geo.get("areas") or [])
    aliases = {str(k): str(v) for k, v in (geo.get("aliases") or {}).items()}
    rings: list[list[LonLat]] | None = None
    bspec = city.get("boundary")
    bname = str(bspec["file"]) if isinstance(bspec, dict) and bspec.get("file") else ""
    if bname:
        rings = read_boundary_geojson(pack_dir / bname)
    gz = build_gazetteer(
        segs,
        addresses,
        places,
        name=str(city.get("name", "")),
        aliases=aliases,
        place_specs=specs,
        boundary=rings,
        boundary_name=bname,
    )
    place_spec = city.get("places")
    if isinstance(place_spec, dict) and place_spec.get("file") and (pack_dir / place_spec["file"]).exists():
        _add_pois(
            gz,
            read_poi_csv(pack_dir / str(place_spec["file"])),
            pack_dir / str(addr_spec["file"])
            if isinstance(addr_spec, dict) and addr_spec.get("file")
            else None,
        )
    return gz


def _add_pois(gz: Gazetteer, pois: list[tuple[str, str, str]], address_file: Path | None) -> None:
    """Points of interest get the interpolated point of their official address."""
    if address_file is None or not address_file.exists():
        return
    by_id: dict[str, AddressRecord] = {}
    for arec in read_addresses_csv(address_file):
        by_id.setdefault(arec.address_id, arec)
    extra: list[PlaceRecord] = []
    for name, addr_id, _ptype in pois:
        rec = by_id.get(addr_id)
        if rec is None:
            continue
        sts = gz.lookup_name(rec.street)
        if not sts:
            continue
        hit = gz.segment_for(sts[0], rec.number)
        if hit is None:
            continue
        lon, lat = gz.point_along(hit[0], hit[1])
        extra.append(PlaceRecord(name=name, lon=lon, lat=lat, kind="poi", street=sts[0]))
    _build_places(gz, list(gz.places) + extra)
