"""Intake jobs: process a stored post, poll a channel, retry failed posts (ids in, one commit each).

The outbox jobs live in `outbox.py`; they are re-exported here, where earlier releases defined them, so
jobs already queued under these names still run.
"""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from flask import Flask
from sqlalchemy import select

from civictracker.database import IdAllocator, begin_write
from civictracker.extensions import db
from civictracker.models import ChannelCursor, InboundPost, MessageState, OutboundMessage, PostState, Ticket
from civictracker.models.report import DONE_STATES, POST_TRANSITIONS, TODO_STATES
from civictracker.models.transitions import check_transition, values_of
from civictracker.models.types import utcnow
from civictracker.outbox.sweep import (  # noqa: F401  (sweep_outbox re-exported: queued jobs name it here)
    send_outbound,
    send_outbound_page,
    sweep_outbox,
)
from civictracker.runtime import job_context, runtime_of
from civictracker.services.inbox_rules import apply_inbox_decision, decide_inbox

log = logging.getLogger(__name__)


def _env(app: Flask) -> Any:
    from civictracker.intake.context import PipelineEnv

    cached = app.extensions.get("civictracker.pipeline_env")
    if cached is not None:
        return cached
    runtime = runtime_of(app)
    settings, city = runtime.settings, runtime.city
    env = PipelineEnv(
        gazetteer=runtime.gazetteer(),
        remote=runtime.remote,
        replies=runtime.replies,
        services=city.services,
        dedupe_radius_m=settings.dedupe_radius_m,
        dedupe_window_days=settings.dedupe_window_days,
        blocked=frozenset(b.strip().lower() for b in settings.blocked_accounts.split(",") if b.strip()),
        reply_to_non_requests=settings.reply_to_non_requests,
    )
    app.extensions["civictracker.pipeline_env"] = env
    return env


PAGE_SIZE = 50  # posts per processing job: a poll page; its replies go out when the whole page is stored


class PageFailed(RuntimeError):
    """Some posts of a page crashed: each is recorded on its post (state failed) and retried later."""


def process_post(post_id: int) -> str:
    """Run the intake pipeline on one stored post; a crash is recorded on the post and retried."""
    return process_posts([post_id])


def process_posts(post_ids: list[int]) -> str:
    """Run the intake pipeline on a page of stored posts, in rounds of one transaction and one commit.

    A round takes the locks of the posts no other page is busy with (intake/claim.py), processes those and
    commits; the posts it could not take run in the next round (on SQLite, or with no other page at work:
    one round), or, when a round could take none, or a retry round still found some held, while other
    jobs wait in the queue, in a new job at its back (_hand_back): the worker goes on with those instead
    of sleeping on the other page's locks. A
    round first runs in one go, written in a few large flushes. If any post crashes, that attempt is rolled
    back and the round runs again with a savepoint per post: the post that crashes is rolled back alone,
    recorded as failed (retry_failed_posts runs it again) and the rest lands. Replies
    are sent after the last commit, by one job for the page. Returns the outcome (one post) or the outcome
    counts (a page); raises PageFailed if any post crashed.
    """
    with job_context() as app:
        from civictracker.queue import get_queue

        ids = sorted(set(post_ids))  # ascending: the lock order of load_posts
        done, todo, wait, handed, rounds = _Page(), ids, False, 0, 0
        analyses: dict[int, Any] = {}  # each post's analysis, made once for all the rounds
        try:
            # The pack's replies with the admins' overrides as they are now (one small read per page);
            # in the outer try: a database that is away fails the page as any of its writes would.
            env = dataclasses.replace(_env(app), replies=runtime_of(app).replies_now(db.session))
            # What the posts say needs no database and no lock: worked out before any transaction that
            # locks them, so another page pulling one in (a reply's parent) never waits for the triage.
            analyses.update(_analyses(_read_posts(ids), env, analyses))
            db.session.rollback()  # (a read only: no lock held while the rounds wait for theirs)
            while todo:
                try:
                    page = _run_page(todo, env, analyses, isolate=False, wait=wait)
                except Exception as exc:  # a post crashed (or the page's write failed): find which
                    log.info(
                        "page %s-%s failed in one go (%s); running it post by post", ids[0], ids[-1], exc
                    )
                    db.session.rollback()
                    page = _run_page(todo, env, analyses, isolate=True, wait=wait)
                # The round's cache (in _run_page) is dropped with it: the rows it held, held only weakly
                # now, are let go, so the commits of the replies sent next do not expire each of them again.
                db.session.commit()
                done.add(page)
                rounds += 1
                wait = not page.outcome_of and not page.failures  # nothing was free: wait for the first
                todo = page.deferred
                # A retry round that still found posts another page holds: that page is in the middle of
                # a round, and the next round here would nearly always find them held again (on the
                # bench, 3 of 43 posts): they go back to the queue at once, as a round that got nothing.
                futile = rounds > 1 and page.held_elsewhere
                if todo and (wait or futile) and _hand_back(get_queue(app), todo):
                    handed, todo = len(todo), []
        except Exception as exc:
            # The round's transaction itself failed (the database went away, the commit was refused):
            # nothing of it landed. Each post says so and counts the attempt, so retry_failed_posts runs
            # it again and a page that can never commit ends after max_attempts instead of looping.
            db.session.rollback()
            try:
                _record_failures({i: _error_text(exc, "page failed: ") for i in todo})
                db.session.commit()
            except Exception:  # the database is still away: the posts stay "received", retried as such
                db.session.rollback()
                log.exception("could not record the failure of a page of %d posts", len(todo))
            try:  # what earlier rounds committed is sent (or left to the outbox sweep)
                _send_replies(get_queue(app), done.message_ids)
            except Exception:
                log.exception("could not queue the replies of a page's earlier rounds")
            raise
        _send_replies(get_queue(app), done.message_ids)
        if done.failures:
            raise PageFailed(
                f"{len(done.failures)} of {len(ids)} posts failed: "
                + "; ".join(f"post {i}: {e}" for i, e in sorted(done.failures.items())[:5])
            )
        if len(ids) == 1 and not handed:
            return done.outcome_of[ids[0]]  # it did not fail, so it has its outcome
        counts = {**done.outcomes, **({"handed_back": handed} if handed else {})}
        return ", ".join(f"{k}={v}" for k, v in sorted(counts.items()))


def _hand_back(queue: Any, post_ids: list[int]) -> bool:
    """The posts another page holds, as a new job at the back of the queue, when other jobs are waiting:
    the worker takes those instead of sleeping until that page commits (it holds their locks for the rest
    of its round). False (the caller waits, as with jobs inline) when the queue is empty or unreachable.

    Posts of one page keep their order in the job; against other pages they had none to keep (two
    workers run pages side by side). A reply's parent is still processed before it (unprocessed_parents).
    """
    if queue.is_inline:
        return False
    from redis.exceptions import RedisError

    try:
        if not queue.rq_queue().count:
            return False
        job_id = f"posts-{post_ids[0]}-{post_ids[-1]}-{len(post_ids)}-later-{uuid.uuid4().hex[:8]}"
        queue.enqueue(process_posts, post_ids, job_id=job_id)
    except RedisError as exc:
        log.info("could not hand %d held posts back to the queue (%s); waiting", len(post_ids), exc)
        return False
    log.info("%d posts held by another page handed back to the queue", len(post_ids))
    return True


def _send_replies(queue: Any, message_ids: set[int]) -> None:
    """The page's replies, one job: one read and two commits for all of them."""
    if message_ids:
        replies = sorted(message_ids)
        job_id = f"send-{replies[0]}-{replies[-1]}-{len(replies)}"
        queue.enqueue(send_outbound_page, replies, job_id=job_id, at_front=True)


@dataclass
class _Page:
    """What one run of a page did: outcome counts, the replies to send, the posts that crashed."""

    outcome_of: dict[int, str] = field(default_factory=dict)  # by post id
    message_ids: set[int] = field(default_factory=set)
    failures: dict[int, str] = field(default_factory=dict)
    deferred: list[int] = field(default_factory=list)  # left for the next round
    held_elsewhere: bool = False  # some of them because another page held them (not the round's budget)

    @property
    def outcomes(self) -> Counter[str]:
        return Counter(self.outcome_of.values())

    def add(self, other: _Page) -> None:
        """What another round did, added to this one's."""
        self.outcome_of.update(other.outcome_of)
        self.message_ids |= other.message_ids
        self.failures.update(other.failures)


def _run_page(ids: list[int], env: Any, analyses: dict[int, Any], *, isolate: bool, wait: bool) -> _Page:
    """Process one round of the page in the session's transaction, up to its commit.

    `analyses`: the posts' analyses made so far, by id (the rounds share them; new ones are added).
    `isolate`: a savepoint per post, so a crash is kept to its post (recorded, the rest goes on).
    Without it a crash propagates: the caller rolls back and runs the round again isolated. The savepoints
    cost a flush and two statements per post; without them the round's rows (its new tickets included:
    they take their ids from an IdAllocator) are written together, when a query must see them (a reply
    looking for its thread) or at the end of the round. `wait`: see claim_posts.
    """
    from civictracker.intake.claim import claim_posts, read_services
    from civictracker.intake.context import PageCache
    from civictracker.intake.load import load_posts, unprocessed_parents
    from civictracker.intake.process import process_post as run_pipeline
    from civictracker.intake.reporters import add_new_reporters

    session = db.session
    page = _Page()
    done: list[tuple[InboundPost, list[OutboundMessage], bool]] = []  # post, replies, joined a ticket
    cache = PageCache()  # what the round's posts share, for this run only
    begin_write(session)  # one transaction for the round, on SQLite too (and its write lock from the start)
    cache.ticket_ids = IdAllocator(session, Ticket.__tablename__)  # new tickets wait for the round's flush
    # A post of the page another page holds (it pulled it in as a reply's parent) is not waited for: it
    # waits for a later round, when that page has processed it (and the round leaves it as it is), unless
    # this round must wait.
    postgres = session.get_bind().dialect.name == "postgresql"
    loaded = load_posts(session, ids, skip_locked=not wait)  # type: ignore[arg-type]
    skipped = [post_id for post_id in ids if post_id not in loaded] if postgres and not wait else []
    ids = [post_id for post_id in ids if post_id not in skipped]
    parents = unprocessed_parents(session, loaded)  # type: ignore[arg-type]
    held: set[str] = set()  # the threads of parents another page is processing now
    if parents:  # the posts these answer go first (ids are in storage order: a parent's is lower)
        # (row locks after the page's own rows, and before any advisory lock: a page waiting here holds
        # none that another page could be waiting for). A parent another page holds is not waited for:
        # its replies wait for a later round, when it is processed, unless this round must wait.
        found = load_posts(session, list(parents), skip_locked=not wait)  # type: ignore[arg-type]
        held = {f"thread:{channel}:{ext}" for i, (channel, ext) in parents.items() if i not in found}
        loaded.update(found)
        ids = sorted({*ids, *found})
    # (the page's own posts were analysed before the round; a parent it brought in is analysed here)
    analyses.update(_analyses(loaded, env, analyses))
    # A page cannot see another's uncommitted tickets and posts: two pages at once could each open a
    # ticket for one problem, or miss a reply's thread. PostgreSQL: the round takes the locks of the
    # threads, authors and places of the posts no other page is busy with (intake/claim.py), and leaves
    # the others to the next round. SQLite: its one write lock (begin_write) runs one page at a time.
    held_back: list[int] = []  # another page holds their locks (skipped: their rows)
    over: list[int] = []  # past the round's lock budget
    if postgres:
        cache.services, rules = read_services(session, env.dedupe_radius_m)  # type: ignore[arg-type]
        ids, held_back, over = claim_posts(session, ids, loaded, analyses, rules, wait=wait, busy=held)  # type: ignore[arg-type]
        loaded = {post_id: loaded[post_id] for post_id in ids if post_id in loaded}
    page.deferred = sorted({*held_back, *over, *skipped})
    page.held_elsewhere = bool(held_back or skipped)
    cache.analyses = {post_id: analyses[post_id] for post_id in ids if post_id in analyses}
    add_new_reporters(session, loaded, cache)  # type: ignore[arg-type]
    cache.posts = {(post.channel, post.external_id): post for post, _ in loaded.values()}
    for post_id in ids:
        if isolate:
            try:
                with session.begin_nested():
                    post = run_pipeline(session, post_id, env, page=cache, loaded=loaded.get(post_id))  # type: ignore[arg-type]
                    session.flush()  # a write this post cannot make fails its savepoint, not the page
            except Exception as exc:  # recorded on the post, raised after the commit
                log.exception("processing post %s failed", post_id)
                page.failures[post_id] = _error_text(exc)
                continue
        else:
            post = run_pipeline(session, post_id, env, page=cache, loaded=loaded.get(post_id))  # type: ignore[arg-type]
        run = cache.run
        joined = bool(post.ticket_id) and post.ticket_id not in run.tickets
        done.append((post, list(run.messages), joined))
        page.outcome_of[post.id] = post.outcome or post.state
    session.flush()  # the queued replies get their ids
    page.message_ids = _replies_to_send(done)
    _record_failures(page.failures)
    return page


def _read_posts(ids: list[int]) -> dict[int, tuple[InboundPost, None]]:
    """The posts by id, read without a lock (shaped as load_posts returns them, authors left out)."""
    return {
        post.id: (post, None)
        for post in db.session.scalars(select(InboundPost).where(InboundPost.id.in_(ids)))
    }


def _analyses(loaded: Any, env: Any, known: dict[int, Any]) -> dict[int, Any]:
    """Each post's analysis (to do, not `known` yet), by id; a post whose analysis crashes is left to its
    own run."""
    from civictracker.intake.process import analyze, analyze_many

    todo = [post for post, _ in loaded.values() if post.state not in DONE_STATES and post.id not in known]
    try:  # the page's posts triaged as one batch: the same answers, in far fewer model calls
        return {post.id: made for post, made in zip(todo, analyze_many(todo, env), strict=True)}
    except Exception as exc:  # one post crashed the batch: find it post by post below
        log.info("analysis of a page of %d posts failed as a batch: %s", len(todo), exc)
    made: dict[int, Any] = {}
    for post in todo:
        try:
            made[post.id] = analyze(post, env)
        except Exception as exc:  # it crashes again in the post's own run, and is recorded there
            log.info("analysis of post %s failed before the page's locks: %s", post.id, exc)
    return made


def _replies_to_send(done: list[tuple[InboundPost, list[OutboundMessage], bool]]) -> set[int]:
    """The replies to send now: those the page queued, and any other pending on a ticket a post joined.

    An existing ticket may have replies still waiting: they go out with this one, as they always did. A
    ticket the page created has none but the ones it queued (nothing else queues by post id).
    """
    ids = {m.id for _, messages, _ in done for m in messages if m.state == MessageState.PENDING}
    joined = sorted({post.ticket_id for post, _, did_join in done if did_join and post.ticket_id})
    if joined:
        ids.update(
            db.session.scalars(
                select(OutboundMessage.id).where(
                    OutboundMessage.ticket_id.in_(joined), OutboundMessage.state == MessageState.PENDING
                )
            )
        )
    return ids


def _error_text(exc: Exception, prefix: str = "") -> str:
    return f"{prefix}{type(exc).__name__}: {exc}"[:2000]


def _record_failures(failures: dict[int, str]) -> None:
    """Mark each post failed with its error (and count the attempt); never a processed one."""
    for post_id, error in failures.items():
        post = db.session.get(InboundPost, post_id)
        if post is not None and post.state not in DONE_STATES:
            post.state = check_transition(POST_TRANSITIONS, post.state, PostState.FAILED)
            post.error = error
            post.attempts += 1
            # A crashed post waits for a person too (retried meanwhile; a later success decides anew).
            apply_inbox_decision(post, decide_inbox("failed", failed=True, is_dm=post.is_dm), utcnow())


def enqueue_processing(app: Flask, post_ids: list[int]) -> None:
    """One process_posts job per page of PAGE_SIZE stored posts, under a job id naming the page."""
    from civictracker.queue import get_queue

    queue = get_queue(app)
    ids = sorted(set(post_ids))
    for start in range(0, len(ids), PAGE_SIZE):
        page = ids[start : start + PAGE_SIZE]
        queue.enqueue(process_posts, page, job_id=f"posts-{page[0]}-{page[-1]}-{len(page)}")


def poll_channel(name: str) -> int:
    """Fetch new posts from one channel since its stored cursor; store each, then enqueue its processing."""
    from civictracker.intake.receive import receive_posts, record_rejects

    with job_context() as app:
        channel = runtime_of(app).channels.get(name)
        row = db.session.get(ChannelCursor, name)
        result = channel.fetch_since(row.cursor if row else None)
        begin_write(db.session)  # the page and the cursor in one transaction, on SQLite too
        received = receive_posts(db.session, list(result.posts))  # type: ignore[arg-type]  # scoped proxy
        record_rejects(db.session, name, list(result.errors))  # type: ignore[arg-type]  # scoped proxy
        new_ids = [post.id for post, created in received if created]
        if row is None:
            row = ChannelCursor(channel=name)
            db.session.add(row)
        row.cursor = result.cursor
        row.updated_at = utcnow()
        db.session.commit()  # posts and cursor together: a crash re-fetches, the unique key drops repeats
        enqueue_processing(app, new_ids)
        return len(new_ids)


def retry_failed_posts(max_attempts: int = 5) -> int:
    """Re-run posts whose processing crashed (a bug fixed, a database back): nothing is lost."""
    with job_context() as app:
        ids = list(
            db.session.scalars(
                select(InboundPost.id).where(
                    InboundPost.state.in_(values_of(TODO_STATES)), InboundPost.attempts < max_attempts
                )
            )
        )
        db.session.rollback()
        enqueue_processing(app, ids)
        return len(ids)
