"""Plane geometry on local metres: polylines, projection, segment crossing, point-in-outline bands."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from .types import LonLat

NODE_ROUND = 1e6  # coordinates equal to ~0.1 m are the same node
OUTLINE_BAND_M = 50.0  # horizontal bands of the outline's edge index (point-in-polygon)


def valid_latlon(lat: Any, lon: Any) -> bool:
    try:
        lat_f, lon_f = float(lat), float(lon)
    except (TypeError, ValueError):
        return False
    if not (math.isfinite(lat_f) and math.isfinite(lon_f)):
        return False
    if abs(lat_f) > 90 or abs(lon_f) > 180:
        return False
    return not (abs(lat_f) < 1e-9 and abs(lon_f) < 1e-9)


def cumulative(xy: Sequence[tuple[float, float]]) -> list[float]:
    cum = [0.0]
    for (x1, y1), (x2, y2) in pairwise(xy):
        cum.append(cum[-1] + math.hypot(x2 - x1, y2 - y1))
    return cum


def along(xy: Sequence[tuple[float, float]], cum: Sequence[float], dist: float) -> tuple[float, float]:
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


def project(
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


def node_key(pt: LonLat) -> tuple[int, int]:
    return (round(pt[0] * NODE_ROUND), round(pt[1] * NODE_ROUND))


def nearest_node(graph: dict[tuple[int, int], Any], pt: LonLat) -> tuple[int, int] | None:
    px, py = pt[0] * NODE_ROUND, pt[1] * NODE_ROUND
    best = None
    bd = math.inf
    for key in graph:
        d = (key[0] - px) ** 2 + ((key[1] - py) * 1.35) ** 2
        if d < bd:
            bd, best = d, key
    return best


def seg_intersection(
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


def outline_index(
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


def rings_of(geom: Any) -> list[tuple[list[tuple[float, float]], list[list[tuple[float, float]]]]]:
    polys = list(geom.geoms) if hasattr(geom, "geoms") else [geom]
    return [
        (
            [(float(c[0]), float(c[1])) for c in p.exterior.coords],
            [[(float(c[0]), float(c[1])) for c in r.coords] for r in p.interiors],
        )
        for p in polys
        if p.geom_type == "Polygon" and not p.is_empty
    ]
