"""The city's outline for a gazetteer: the official boundary widened a little, else the streets' hull."""

from __future__ import annotations

from collections.abc import Sequence

from .gazetteer import Gazetteer
from .geometry import rings_of
from .types import LonLat

# Without an official boundary file the city is the concave hull of its street vertices (ratio 0.02),
# widened by HULL_BUFFER_M so houses on edge streets stay in. Checked against Cambridge's official
# boundary: 16.35 km2 (land area ~16.6 km2), the hull passes 15-180 m outside the official line.
HULL_RATIO = 0.02
HULL_BUFFER_M = 40.0
# An official boundary is widened a little: a phone's GPS fix is often 10-40 m off, and a resident on a
# city's edge street must not be refused as "outside the city" (the line itself runs along streets).
BOUNDARY_TOLERANCE_M = 40.0


def build_outline(gz: Gazetteer, rings: Sequence[Sequence[LonLat]] | None, name: str) -> None:
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
            gz.boundary_rings, gz.boundary_source = rings_of(geom), f"file:{name}"
            return
    pts = [p for seg in gz.segments for p in seg.xy]
    if len(pts) < 3:
        return
    hull = shapely.concave_hull(MultiPoint(pts), ratio=HULL_RATIO).buffer(HULL_BUFFER_M)
    if hull.area > 0:
        gz.boundary_rings, gz.boundary_source = rings_of(hull), "street hull"
