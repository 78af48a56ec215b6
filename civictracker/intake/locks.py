"""What a page of posts may touch, named for locks: one thread, one author, one service's reports nearby.

Two workers may process pages at once (PostgreSQL). A page cannot see another's uncommitted rows, so two
pages must not both decide about the same thing: a reply and the post it answers (the thread), two posts
of one author (their reporter row, their DM conversation), two reports of one service close enough to be
merged (a cell of a coarse grid around each report, wide enough for the dedupe radius, and the street for
street-wide services). Each page holds the locks of what its posts may touch, taken together in one order
(database.hold_locks), until it commits; pages that share none run side by side.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from civictracker.geo.spatial import degree_box
from civictracker.intake.analysis import Analysis
from civictracker.models import InboundPost
from civictracker.services.post_facts import thread_ids

# The grid of the place locks, in degrees: about 440 m by 410 m in Cambridge. A report locks every cell
# its dedupe circle's box touches (up to 4 when the radius is below a cell's size).
CELL_LAT = 0.004
CELL_LON = 0.005
ANY_SERVICE = "*"


def page_lock_names(
    posts: Iterable[InboundPost],
    analyses: Mapping[int, Analysis],
    *,
    radius_m: float,
    service_codes: Iterable[str],
) -> list[str]:
    """The lock names a page's posts need, sorted. `analyses`: each post's analysis, by post id (absent:
    not analysed, e.g. already processed); `radius_m`: the widest dedupe radius of any service."""
    codes = sorted(set(service_codes)) or [ANY_SERVICE]
    names: set[str] = set()
    for post in posts:
        names.add(f"author:{post.channel}:{post.author_id}")
        answers = thread_ids(post)
        for external_id in (post.external_id, *answers):
            names.add(f"thread:{post.channel}:{external_id}")
        analysis = analyses.get(post.id)
        loc = analysis.location if analysis is not None and analysis.usable_location else None
        if analysis is None or loc is None or loc.lat is None or loc.lon is None:
            continue
        # A reply or a DM may place a ticket of any service (the answer to our question about the place);
        # a new report dedupes within the service triage chose.
        chosen = analysis.triage.service_code
        for code in codes if (answers or post.is_dm or not chosen) else [chosen]:
            if loc.street:
                names.add(f"street:{code}:{loc.street}")
            names.update(f"near:{code}:{x}:{y}" for x, y in cells(loc.lat, loc.lon, radius_m))
    return sorted(names)


def cells(lat: float, lon: float, radius_m: float) -> list[tuple[int, int]]:
    """The grid cells the box around a circle of `radius_m` touches."""
    min_lon, min_lat, max_lon, max_lat = degree_box(lat, lon, radius_m)
    xs = range(math.floor(min_lon / CELL_LON), math.floor(max_lon / CELL_LON) + 1)
    ys = range(math.floor(min_lat / CELL_LAT), math.floor(max_lat / CELL_LAT) + 1)
    return [(x, y) for x in xs for y in ys]
