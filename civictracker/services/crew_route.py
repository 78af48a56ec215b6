"""A crew's day in driving order: urgent work first, then the nearest next stop, from the crew's yard."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from civictracker.geo.spatial import haversine_m


class Stop(Protocol):
    priority: int
    lat: float | None
    lon: float | None


T = TypeVar("T", bound=Stop)


def order_route(start: tuple[float, float] | None, stops: Sequence[T]) -> list[T]:
    """Urgent stops first, each group in nearest-neighbour order from where the crew is; stops with no
    point keep their order at the end of their group (a crew asks the dispatcher where they are)."""
    ordered: list[T] = []
    here = start
    for urgent in (True, False):
        group = [s for s in stops if (s.priority > 0) == urgent]
        placed = [s for s in group if s.lat is not None and s.lon is not None]
        while placed:
            origin = here
            nxt = placed[0] if origin is None else min(placed, key=lambda s: _metres(origin, s))
            placed.remove(nxt)
            ordered.append(nxt)
            here = (float(nxt.lat), float(nxt.lon))  # type: ignore[arg-type]
        ordered += [s for s in group if s.lat is None or s.lon is None]
    return ordered


def _metres(here: tuple[float, float], stop: Stop) -> float:
    return haversine_m(here[0], here[1], float(stop.lat), float(stop.lon))  # type: ignore[arg-type]


def route_metres(start: tuple[float, float] | None, stops: Sequence[Stop]) -> float:
    """The straight-line length of the route, for the page's "about N km" line."""
    total, here = 0.0, start
    for s in stops:
        if s.lat is None or s.lon is None:
            continue
        if here is not None:
            total += _metres(here, s)
        here = (float(s.lat), float(s.lon))
    return total
