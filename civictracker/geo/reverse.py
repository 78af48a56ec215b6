"""Reverse lookup: the human name of a point, the nearest corner or street, as a resident would say it."""

from __future__ import annotations

from .gazetteer import Gazetteer

CORNER_M = 60.0  # a point this close to where its street meets another is "at the corner"
STREET_M = 250.0  # farther than this from any street, a point has no street name


def place_name(gz: Gazetteer, lat: float, lon: float, *, street: str | None = None) -> str | None:
    """ "Hampshire St & Prospect St" when the point is at a corner, else "Hampshire St"; None off the streets.

    `street`: the street the point is already known to be on (a geotag on a street the post named).
    The cross street is the nearest junction of that street within CORNER_M of the point.
    """
    hit = gz.nearest_segment(lat, lon, max_m=STREET_M, street=street)
    if hit is None:
        return None
    seg, _d, (snap_lon, snap_lat) = hit
    best: tuple[float, str] | None = None
    for pair, junctions in gz.junctions.items():
        if seg.street not in pair:
            continue
        other = pair[1] if pair[0] == seg.street else pair[0]
        for junction in junctions:
            d = gz.distance_m((snap_lon, snap_lat), (junction.lon, junction.lat))
            if d <= CORNER_M and (best is None or d < best[0]):
                best = (d, other)
    return f"{seg.street} & {best[1]}" if best else seg.street
