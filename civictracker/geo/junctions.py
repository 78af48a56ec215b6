"""Junctions of a gazetteer: where two named streets meet (shared nodes, near-misses, crossings)."""

from __future__ import annotations

import math
from collections import defaultdict
from itertools import pairwise

from .gazetteer import CLUSTER_M, GRID_M, SNAP_M, Gazetteer, Junction
from .geometry import node_key, project, seg_intersection
from .types import LonLat

_Node = tuple[int, int]
_Meeting = tuple[LonLat, bool, frozenset[str]]  # point, a crossing without a shared node?, streets there


def build_junctions(gz: Gazetteer) -> None:
    """Where each pair of named streets meets: shared nodes, ends that stop short, else crossings."""
    node_streets, node_pt, end_nodes = _nodes(gz)
    raw = _shared_nodes(node_streets, node_pt)
    _snap_dangling_ends(gz, node_streets, node_pt, end_nodes, raw)
    for pair, pts in _crossings(gz).items():
        if pair not in raw:
            raw[pair] = pts
    gz.junctions = {pair: cluster_junctions(gz, pts) for pair, pts in raw.items()}


def _nodes(
    gz: Gazetteer,
) -> tuple[dict[_Node, set[str]], dict[_Node, LonLat], dict[_Node, set[str]]]:
    """Streets through every vertex, the vertex's point, and the streets that end at it."""
    node_streets: dict[_Node, set[str]] = defaultdict(set)
    node_pt: dict[_Node, LonLat] = {}
    end_nodes: dict[_Node, set[str]] = defaultdict(set)
    for seg in gz.segments:
        for i, pt in enumerate(seg.coords):
            k = node_key(pt)
            node_streets[k].add(seg.street)
            node_pt.setdefault(k, pt)
            if i == 0 or i == len(seg.coords) - 1:
                end_nodes[k].add(seg.street)
    return node_streets, node_pt, end_nodes


def _shared_nodes(
    node_streets: dict[_Node, set[str]], node_pt: dict[_Node, LonLat]
) -> dict[tuple[str, str], list[_Meeting]]:
    """Every vertex (end or interior) used by two or more named streets is a junction node."""
    raw: dict[tuple[str, str], list[_Meeting]] = defaultdict(list)
    for k, sts in node_streets.items():
        if len(sts) < 2:
            continue
        fs = frozenset(sts)
        ordered = sorted(sts)
        for i in range(len(ordered)):
            for j in range(i + 1, len(ordered)):
                raw[(ordered[i], ordered[j])].append((node_pt[k], False, fs))
    return raw


def _snap_dangling_ends(
    gz: Gazetteer,
    node_streets: dict[_Node, set[str]],
    node_pt: dict[_Node, LonLat],
    end_nodes: dict[_Node, set[str]],
    raw: dict[tuple[str, str], list[_Meeting]],
) -> None:
    """Dangling ends that stop a few metres short of another street (digitizing gaps) also meet it."""
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
                    d, _px, _py, _ = project(seg.xy, seg.cum, x, y)
                    if d <= SNAP_M:
                        for s in here:
                            pair = (s, seg.street) if s <= seg.street else (seg.street, s)
                            raw[pair].append(((lon, lat), False, frozenset(here | {seg.street})))


def _crossings(gz: Gazetteer) -> dict[tuple[str, str], list[_Meeting]]:
    """Lines that cross without a shared vertex (bridges, or unnoded data): kept as weaker junctions."""
    crossings: dict[tuple[str, str], list[_Meeting]] = defaultdict(list)
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
                        p = seg_intersection(a1, a2, b1, b2)
                        if p is None:
                            continue
                        if (math.floor(p[0] / GRID_M), math.floor(p[1] / GRID_M)) != cell:
                            continue  # count each crossing once, in the cell that holds it
                        crossings[pair].append((gz.to_lonlat(*p), True, frozenset(pair)))
    return crossings


def cluster_junctions(gz: Gazetteer, pts: list[tuple[LonLat, bool, frozenset[str]]]) -> list[Junction]:
    # Single-linkage clustering of a street pair's junction nodes: a divided road or a multi-node
    # junction gives several nodes tens of metres apart that a resident calls one intersection.
    uniq: dict[tuple[int, int], tuple[LonLat, bool, frozenset[str]]] = {}
    for p in pts:
        uniq.setdefault(node_key(p[0]), p)
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
