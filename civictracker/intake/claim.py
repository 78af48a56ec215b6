"""Which posts of a page run now: those whose locks no other page holds; the rest wait for a later round."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.database import hold_locks, try_locks
from civictracker.intake.analysis import Analysis
from civictracker.intake.locks import ServiceRule, post_lock_names, split_ready
from civictracker.intake.reporters import Loaded
from civictracker.models import Service
from civictracker.models.report import DONE_STATES


def read_services(
    session: Session, default_radius_m: float
) -> tuple[dict[str, Service], dict[str, ServiceRule]]:
    """The active services by code (the page's catalog), and every service's dedupe rule for its locks."""
    rows = list(session.scalars(select(Service)))
    rules = {
        s.code: ServiceRule(
            radius_m=float(s.dedupe_radius_m or default_radius_m), street_wide=bool(s.street_wide)
        )
        for s in rows
    }
    return {s.code: s for s in rows if s.active}, rules


def claim_posts(
    session: Session,
    order: Sequence[int],
    loaded: Loaded,
    analyses: Mapping[int, Analysis],
    rules: Mapping[str, ServiceRule],
    *,
    wait: bool,
    busy: set[str] | None = None,
) -> tuple[list[int], list[int]]:
    """(ready, deferred) post ids, each in `order`: the locks of the ready ones are held until the commit.

    A post whose lock another page holds is deferred, and so is a later post sharing a lock with it (the
    two keep their order). Locks are only tried, never waited for, so pages cannot deadlock on them;
    `wait` (the round before got nothing): first wait for the first post's locks, as one statement before
    any other lock of the round, so every round makes progress. SQLite: every post is ready (its one write
    lock already runs one page at a time). `busy`: lock names to take as held elsewhere (the threads of
    parents another page is processing: their replies wait for a later round).
    """
    if session.get_bind().dialect.name != "postgresql":
        return list(order), []
    names = {
        post_id: post_lock_names(post, analyses.get(post_id), rules)
        for post_id, (post, _) in loaded.items()
        if post.state not in DONE_STATES
    }
    todo = [post_id for post_id in order if names.get(post_id)]
    if not todo:
        return list(order), []
    held: set[str] = set()
    if wait:
        held = names[todo[0]]
        hold_locks(session, held)
    wanted = set().union(*(names[post_id] for post_id in todo)) - held
    # A probe in a savepoint: its rollback lets go of what it took, so a deferred post holds nothing.
    probe = session.begin_nested()
    try:
        taken = try_locks(session, wanted) | (busy or set())
    finally:
        probe.rollback()
    ready, deferred = split_ready(todo, names, taken)
    taken_meanwhile = try_locks(session, set().union(set(), *(names[post_id] for post_id in ready)) - held)
    if taken_meanwhile:  # another page took one since the probe: those posts wait too
        ready, later = split_ready(ready, names, taken_meanwhile)
        deferred += later
    waiting = set(deferred)
    return [post_id for post_id in order if post_id not in waiting], [
        post_id for post_id in order if post_id in waiting
    ]
