"""What each post may touch, named for locks: its thread, its author, one service's reports nearby.

Two workers may process pages at once (PostgreSQL). A page cannot see another's uncommitted rows, so two
posts must not both decide about the same thing at once: a reply and the post it answers (the thread),
two posts of one author (their reporter row, their DM conversation), two reports of one service close
enough to be merged (cells of a coarse grid; the street too for street-wide services, which dedupe per
street). Only a post that may open or merge a placed ticket takes place locks: a located request (its
service), a located reply (it may answer our question about the place of a ticket of any service), or a
located DM (its own service, and those of the tickets its author was asked about by DM). A page takes the
locks of the posts it can take now without waiting, processes those and commits; the others wait for a
later round of the same job (`split_ready`, jobs/posts.py), so pages that share a place wait for each
other post by post.

Place locks are readers and writers: a report writes the cell its place is in (exclusive: a ticket may
be opened or placed there) and reads the cells its dedupe circle's box touches (shared: it looks for a
ticket there). Two reports of one service within the radius still exclude each other (the one's cell is
in the other's box), but two whose boxes only share cells no longer do.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from civictracker.geo.spatial import degree_box
from civictracker.intake.analysis import Analysis
from civictracker.models import InboundPost
from civictracker.services.post_facts import thread_ids

# The grid of the place locks, in degrees: about 220 m by 205 m in Cambridge. A report writes the cell it
# is in and reads every cell its dedupe circle's box touches (4 to 9 at 150 m). Two reports conflict only
# where one's circle reaches the other's cell: the finer the grid, the nearer that is to the radius itself
# (at 440 m by 410 m, pages on a busy day waited for each other three times as often), and the more
# names each report locks.
CELL_LAT = 0.002
CELL_LON = 0.0025

# The most lock names one round takes (the rest of the page waits for the next round). Advisory locks
# live in PostgreSQL's shared lock table, about 64 per connection (max_locks_per_transaction) for all
# transactions together: a page of 50 located replies, each locking up to 9 cells of every service, would
# fill it alone.
ROUND_LOCKS = 1000

# A post's locks: each name, and whether it is taken exclusive (True) or shared (False, a place it only
# reads). Two holders of one name conflict unless both hold it shared.
Locks: TypeAlias = dict[str, bool]


@dataclass(frozen=True)
class ServiceRule:
    """What a service's dedupe needs locked: its radius, and whether it merges per street."""

    radius_m: float
    street_wide: bool = False


def post_lock_names(
    post: InboundPost,
    analysis: Analysis | None,
    services: Mapping[str, ServiceRule],
    asked: Iterable[str] = (),
) -> Locks:
    """The locks one post needs. `analysis`: None when not analysed (it then places nothing); `services`:
    every service by code (a ticket asked back may be of any, an inactive one included); `asked`: for a
    DM, the services of the tickets its author may be answering (asked_codes)."""
    names: Locks = {f"author:{post.channel}:{post.author_id}": True}
    answers = thread_ids(post)
    for external_id in (post.external_id, *answers):
        names[f"thread:{post.channel}:{external_id}"] = True
    loc = analysis.location if analysis is not None and analysis.usable_location else None
    if analysis is None or loc is None or loc.lat is None or loc.lon is None:
        return names  # no place: it can neither open nor merge a placed ticket
    triage = analysis.triage
    chosen = triage.service_code
    own = [chosen] if triage.is_request and chosen is not None and chosen in services else []
    codes: Iterable[str]
    if answers:
        codes = services  # a reply may place a ticket of any service (the answer to our question)
    elif post.is_dm:
        # A DM answers our latest question to its author by DM (intake/threads._asked_by_dm), if any: only
        # the services asked about, besides its own as a new report.
        codes = sorted({*own, *(code for code in asked if code in services)})
    else:
        codes = own  # a new report dedupes within the service triage chose (none: no ticket is placed)
    for code in codes:
        rule = services[code]
        if rule.street_wide and loc.street:
            names[f"street:{code}:{loc.street}"] = True
        for x, y in cells(loc.lat, loc.lon, rule.radius_m):
            names.setdefault(f"near:{code}:{x}:{y}", False)  # read: a ticket to merge into may be there
        x, y = cells(loc.lat, loc.lon, 0)[0]
        names[f"near:{code}:{x}:{y}"] = True  # written: a ticket may be opened or placed here
    return names


def conflict(a: Mapping[str, bool], b: Mapping[str, bool]) -> bool:
    """Whether two sets of locks exclude each other: a name in both, exclusive in either."""
    small, large = (a, b) if len(a) <= len(b) else (b, a)
    return any(name in large and (exclusive or large[name]) for name, exclusive in small.items())


def merged(locks: Iterable[Mapping[str, bool]]) -> Locks:
    """The union of some posts' locks, each name exclusive if any of them takes it so."""
    out: Locks = {}
    for names in locks:
        for name, exclusive in names.items():
            out[name] = out.get(name, False) or exclusive
    return out


def split_ready(
    order: Iterable[int], names: Mapping[int, Mapping[str, bool]], busy: set[str]
) -> tuple[list[int], list[int]]:
    """(ready, deferred) posts, in `order`: a post is deferred if another transaction holds one of its
    names as it wants it (`busy`), or if its locks conflict with those of a post deferred before it (the
    two keep their order; two posts that only read one place do not)."""
    blocked: Locks = {}
    ready: list[int] = []
    deferred: list[int] = []
    for post_id in order:
        wanted = names.get(post_id, {})
        if any(name in busy for name in wanted) or conflict(wanted, blocked):
            deferred.append(post_id)
            blocked = merged([blocked, wanted])
        else:
            ready.append(post_id)
    return ready, deferred


def within(
    order: Iterable[int], names: Mapping[int, Mapping[str, bool]], limit: int
) -> tuple[list[int], list[int]]:
    """(now, later): the posts of `order` up to the first whose locks would bring the round past `limit`
    names, and the rest (at least one post runs now)."""
    taken: set[str] = set()
    now: list[int] = []
    later: list[int] = []
    for post_id in order:
        wanted = names.get(post_id, {})
        if later or (now and len(taken | wanted.keys()) > limit):
            later.append(post_id)
        else:
            now.append(post_id)
            taken |= wanted.keys()
    return now, later


def page_lock_names(
    posts: Iterable[InboundPost], analyses: Mapping[int, Analysis], services: Mapping[str, ServiceRule]
) -> Locks:
    """The locks of a whole page's posts, by name (`analyses` by post id)."""
    return merged(post_lock_names(post, analyses.get(post.id), services) for post in posts)


def cells(lat: float, lon: float, radius_m: float) -> list[tuple[int, int]]:
    """The grid cells the box around a circle of `radius_m` touches."""
    min_lon, min_lat, max_lon, max_lat = degree_box(lat, lon, radius_m)
    xs = range(math.floor(min_lon / CELL_LON), math.floor(max_lon / CELL_LON) + 1)
    ys = range(math.floor(min_lat / CELL_LAT), math.floor(max_lat / CELL_LAT) + 1)
    return [(x, y) for x in xs for y in ys]
