"""Which posts of a page run now: those whose locks no other page holds; the rest wait for a later round."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from civictracker.database import hold_locks, try_locks
from civictracker.intake.analysis import Analysis
from civictracker.intake.locks import (
    ROUND_LOCKS,
    Locks,
    ServiceRule,
    merged,
    post_lock_names,
    split_ready,
    within,
)
from civictracker.intake.reporters import Loaded
from civictracker.models import Follower, InboundPost, Reporter, Service, Ticket, TicketStatus
from civictracker.models.report import DONE_STATES
from civictracker.services.post_facts import thread_ids

Author = tuple[str, str]  # (channel, author id)


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
) -> tuple[list[int], list[int], list[int]]:
    """(ready, deferred, later) post ids, each in `order`: the locks of the ready ones are held until the
    commit; the deferred ones wait for another page, the later ones for the round's lock budget.

    A post whose lock another page holds is deferred, and so is a later post whose locks conflict with it
    (the two keep their order). Locks are only tried, never waited for, so pages cannot deadlock on them;
    `wait` (the round before got nothing): first wait for the first post's locks, as one statement before
    any other lock of the round, so every round makes progress. SQLite: every post is ready (its one write
    lock already runs one page at a time). `busy`: lock names to take as held elsewhere (the threads of
    parents another page is processing: their replies wait for a later round).
    """
    if session.get_bind().dialect.name != "postgresql":
        return list(order), [], []
    todo_posts = {post_id: post for post_id, (post, _) in loaded.items() if post.state not in DONE_STATES}
    placed = _placed_dms(todo_posts, analyses)
    asked = asked_codes(session, set(placed.values()), todo_posts, analyses)
    names = _names(todo_posts, analyses, rules, asked)
    todo, over = within([post_id for post_id in order if names.get(post_id)], names, ROUND_LOCKS)
    if not todo:
        return list(order), [], []
    held: Locks = {}
    if wait:
        held = names[todo[0]]
        hold_locks(session, held)
    wanted = _without(merged(names[post_id] for post_id in todo), held)
    # A probe in a savepoint: its rollback lets go of what it took, so a deferred post holds nothing.
    probe = session.begin_nested()
    try:
        taken = try_locks(session, wanted) | (busy or set())
    finally:
        probe.rollback()
    ready, deferred = split_ready(todo, names, taken)
    taken_meanwhile = try_locks(session, _without(merged(names[post_id] for post_id in ready), held))
    if taken_meanwhile:  # another page took one since the probe: those posts wait too
        ready, later = split_ready(ready, names, taken_meanwhile)
        deferred += later
    ready, later = _recheck_asked(session, ready, placed, todo_posts, analyses, rules, names, asked)
    deferred += later
    waiting = {*deferred, *over}
    return (
        [post_id for post_id in order if post_id not in waiting],
        [post_id for post_id in order if post_id in deferred],
        over,
    )


def asked_codes(
    session: Session, authors: set[Author], posts: Mapping[int, InboundPost], analyses: Mapping[int, Analysis]
) -> dict[Author, set[str]]:
    """The services of the tickets each of `authors` may be answering by DM: those we asked them about by
    DM that still need a place (intake/threads._asked_by_dm), and, as an earlier DM of the page may be
    asked back now, those of the author's DMs in the page (`posts` by id, with their `analyses`)."""
    if not authors:
        return {}
    asked: dict[Author, set[str]] = {author: set() for author in authors}
    rows = session.execute(
        select(Reporter.channel, Reporter.external_id, Service.code)
        .join(Follower, Follower.reporter_id == Reporter.id)
        .join(Ticket, Ticket.id == Follower.ticket_id)
        .join(Service, Service.id == Ticket.service_id)
        .where(
            tuple_(Reporter.channel, Reporter.external_id).in_(sorted(authors)),
            Follower.is_dm.is_(True),
            Ticket.status == TicketStatus.NEEDS_LOCATION.value,
        )
    )
    for channel, author_id, code in rows:
        asked[(channel, author_id)].add(code)
    for post_id, post in posts.items():
        analysis = analyses.get(post_id)
        author = (post.channel, post.author_id)
        if post.is_dm and author in asked and analysis is not None and analysis.triage.service_code:
            asked[author].add(analysis.triage.service_code)
    return asked


def _placed_dms(posts: Mapping[int, InboundPost], analyses: Mapping[int, Analysis]) -> dict[int, Author]:
    """The page's located DMs that answer no thread, which may answer a question asked by DM: their
    authors, by post id."""
    found: dict[int, Author] = {}
    for post_id, post in posts.items():
        analysis = analyses.get(post_id)
        if post.is_dm and not thread_ids(post) and analysis is not None and analysis.usable_location:
            found[post_id] = (post.channel, post.author_id)
    return found


def _names(
    posts: Mapping[int, InboundPost],
    analyses: Mapping[int, Analysis],
    rules: Mapping[str, ServiceRule],
    asked: Mapping[Author, set[str]],
) -> dict[int, Locks]:
    """Each post's locks, by id."""
    return {
        post_id: post_lock_names(
            post, analyses.get(post_id), rules, asked.get((post.channel, post.author_id), ())
        )
        for post_id, post in posts.items()
    }


def _without(locks: Locks, held: Locks) -> Locks:
    """`locks` less those already held in a mode that covers them."""
    return {name: excl for name, excl in locks.items() if not (name in held and (held[name] or not excl))}


def _recheck_asked(
    session: Session,
    ready: list[int],
    placed: Mapping[int, Author],
    posts: Mapping[int, InboundPost],
    analyses: Mapping[int, Analysis],
    rules: Mapping[str, ServiceRule],
    names: dict[int, Locks],
    asked: Mapping[Author, set[str]],
) -> tuple[list[int], list[int]]:
    """(ready, deferred): the ready DMs' questions read again now that their authors' locks are held. A
    question asked by a page that committed since the first read (it held the author's lock until then)
    adds the locks of its service: taken if free, else the DM waits for a later round (and with it any
    later post whose locks conflict with it). `placed`: the page's located DMs (_placed_dms)."""
    dms = {post_id: author for post_id, author in placed.items() if post_id in ready}
    if not dms:
        return ready, []
    now = asked_codes(session, set(dms.values()), posts, analyses)
    grown = [post_id for post_id, author in dms.items() if now[author] - set(asked.get(author, ()))]
    if not grown:
        return ready, []
    extra: list[Locks] = []
    for post_id in grown:
        before = names[post_id]
        names[post_id] = post_lock_names(posts[post_id], analyses.get(post_id), rules, now[dms[post_id]])
        extra.append(_without(names[post_id], before))
    busy = try_locks(session, merged(extra))
    return split_ready(ready, names, busy) if busy else (ready, [])
