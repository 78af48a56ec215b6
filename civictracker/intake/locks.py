"""What each post may touch, named for locks: its thread, its author, one service's reports nearby.

Two workers may process pages at once (PostgreSQL). A page cannot see another's uncommitted rows, so two
posts must not both decide about the same thing at once: a reply and the post it answers (the thread),
two posts of one author (their reporter row, their DM conversation), two reports of one service close
enough to be merged (a cell of a coarse grid around each report, wide enough for the service's dedupe
radius; the street too for street-wide services, which dedupe per street). Only a post that may open or
merge a placed ticket takes place locks: a located request (its service), or a located reply or DM (it
may answer our question about the place of a ticket of any service). A page takes the locks of the posts
it can take now without waiting, processes those and commits; the others wait for a later round of the
same job (`split_ready`, jobs/posts.py), so pages that share a place wait for each other post by post.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from civictracker.geo.spatial import degree_box
from civictracker.intake.analysis import Analysis
from civictracker.models import InboundPost
from civictracker.services.post_facts import thread_ids

# The grid of the place locks, in degrees: about 440 m by 410 m in Cambridge. A report locks every cell
# its dedupe circle's box touches (up to 4 when the radius is below a cell's size).
CELL_LAT = 0.004
CELL_LON = 0.005


@dataclass(frozen=True)
class ServiceRule:
    """What a service's dedupe needs locked: its radius, and whether it merges per street."""

    radius_m: float
    street_wide: bool = False


def post_lock_names(
    post: InboundPost, analysis: Analysis | None, services: Mapping[str, ServiceRule]
) -> set[str]:
    """The lock names one post needs. `analysis`: None when not analysed (it then places nothing);
    `services`: every service by code (a ticket asked back may be of any, an inactive one included)."""
    names = {f"author:{post.channel}:{post.author_id}"}
    answers = thread_ids(post)
    for external_id in (post.external_id, *answers):
        names.add(f"thread:{post.channel}:{external_id}")
    loc = analysis.location if analysis is not None and analysis.usable_location else None
    if analysis is None or loc is None or loc.lat is None or loc.lon is None:
        return names  # no place: it can neither open nor merge a placed ticket
    triage = analysis.triage
    if answers or post.is_dm:
        # A reply or a DM may place a ticket of any service (the answer to our question about the place),
        # and a DM may be a new report too.
        codes: Iterable[str] = services
    elif triage.is_request and triage.service_code and triage.service_code in services:
        codes = [triage.service_code]  # a new report dedupes within the service triage chose
    else:
        return names  # not a request (or no such service): no ticket is opened or merged
    for code in codes:
        rule = services[code]
        if rule.street_wide and loc.street:
            names.add(f"street:{code}:{loc.street}")
        names.update(f"near:{code}:{x}:{y}" for x, y in cells(loc.lat, loc.lon, rule.radius_m))
    return names


def split_ready(
    order: Iterable[int], names: Mapping[int, set[str]], busy: set[str]
) -> tuple[list[int], list[int]]:
    """(ready, deferred) posts, in `order`: a post is deferred if another transaction holds one of its
    names (`busy`), or if it shares a name with a post deferred before it (the two keep their order)."""
    blocked = set(busy)
    ready: list[int] = []
    deferred: list[int] = []
    for post_id in order:
        wanted = names.get(post_id, set())
        if wanted & blocked:
            deferred.append(post_id)
            blocked |= wanted
        else:
            ready.append(post_id)
    return ready, deferred


def page_lock_names(
    posts: Iterable[InboundPost], analyses: Mapping[int, Analysis], services: Mapping[str, ServiceRule]
) -> list[str]:
    """The lock names of a whole page's posts, sorted (`analyses` by post id)."""
    names: set[str] = set()
    for post in posts:
        names |= post_lock_names(post, analyses.get(post.id), services)
    return sorted(names)


def cells(lat: float, lon: float, radius_m: float) -> list[tuple[int, int]]:
    """The grid cells the box around a circle of `radius_m` touches."""
    min_lon, min_lat, max_lon, max_lat = degree_box(lat, lon, radius_m)
    xs = range(math.floor(min_lon / CELL_LON), math.floor(max_lon / CELL_LON) + 1)
    ys = range(math.floor(min_lat / CELL_LAT), math.floor(max_lat / CELL_LAT) + 1)
    return [(x, y) for x in xs for y in ys]
