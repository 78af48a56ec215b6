"""Posts processed a page per job: one transaction, a savepoint per post, replies after the one commit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from civictracker.extensions import db as ext_db
from civictracker.intake.receive import receive_posts
from civictracker.jobs import posts as jobs
from civictracker.models import Follower, InboundPost, OutboundMessage, Reporter, Ticket
from tests.intake.helpers import count_rows, incoming


def _store(*posts) -> list[int]:  # type: ignore[no-untyped-def]
    received = receive_posts(ext_db.session, list(posts))
    ext_db.session.commit()
    return [post.id for post, _ in received]


def test_a_page_dedupes_within_itself_and_shares_new_reporters(app) -> None:  # type: ignore[no-untyped-def]
    ids = _store(
        incoming("huge pothole at 150 Hampshire St", author="p1"),
        incoming("pothole in front of 150 Hampshire St, still there", author="p2"),  # same problem
        incoming("the streetlight at 150 Hampshire St is out", author="p1"),  # same new author again
        incoming("great fireworks last night, thanks Cambridge!", author="p3"),
    )
    assert jobs.process_posts(ids) == "created=2, merged=1, not_request:praise=1"
    ext_db.session.expire_all()
    posts = [ext_db.session.get(InboundPost, i) for i in ids]
    assert [p.outcome for p in posts] == ["created", "merged", "created", "not_request:praise"]
    assert posts[1].ticket_id == posts[0].ticket_id  # the second saw the first's ticket in the same page
    assert count_rows(Reporter) == 3 and posts[0].reporter_id == posts[2].reporter_id
    assert count_rows(Follower, Follower.ticket_id == posts[0].ticket_id) == 2
    # every reply was queued in the page's transaction and sent after its commit
    states = dict(ext_db.session.execute(select(OutboundMessage.state, func.count()).group_by("state")).all())
    assert states == {"sent": 3}
    # the same page again changes nothing
    assert jobs.process_posts(ids) == "created=2, merged=1, not_request:praise=1"
    assert count_rows(Ticket) == 2 and count_rows(OutboundMessage) == 3


def test_a_post_that_crashes_is_rolled_back_alone(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import civictracker.services.dedupe as dedupe

    real = dedupe.find_duplicate

    def explode_on_graffiti(session, service, *args, **kwargs):  # type: ignore[no-untyped-def]
        if service.code == "graffiti":
            raise RuntimeError("dedupe exploded")
        return real(session, service, *args, **kwargs)

    monkeypatch.setattr(dedupe, "find_duplicate", explode_on_graffiti)
    ids = _store(
        incoming("huge pothole at 150 Hampshire St", author="c1"),
        incoming("fresh graffiti on the wall at 300 Broadway", author="c2"),
        incoming("streetlight out at 10 Ware St", author="c3"),
    )
    with pytest.raises(jobs.PageFailed, match=r"1 of 3 posts failed: post .*dedupe exploded"):
        jobs.process_posts(ids)
    ext_db.session.expire_all()
    first, crashed, last = (ext_db.session.get(InboundPost, i) for i in ids)
    assert first.outcome == "created" and last.outcome == "created"
    assert crashed.state == "failed" and "dedupe exploded" in crashed.error and crashed.attempts == 1
    assert crashed.ticket_id is None and crashed.reporter_id is None  # nothing of it is left half-done
    assert count_rows(Ticket) == 2
    # the page wrote its new authors up front (add_new_reporters); the crashed post left nothing of its own
    assert count_rows(Reporter, Reporter.external_id == "c2") == 1
    assert count_rows(OutboundMessage, OutboundMessage.state == "sent") == 2  # the others were answered

    monkeypatch.undo()
    assert jobs.retry_failed_posts() == 1
    ext_db.session.expire_all()
    assert ext_db.session.get(InboundPost, crashed.id).outcome == "created"
    assert count_rows(Reporter, Reporter.external_id == "c2") == 1  # the retry found its author's row
    assert count_rows(OutboundMessage, OutboundMessage.state == "sent") == 3


def test_inline_page_failure_is_reported_not_raised(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import civictracker.intake.analysis as analysis

    monkeypatch.setattr(analysis, "triage_texts", lambda *a, **k: 1 / 0)
    ids = _store(incoming("pothole at 150 Hampshire St", author="i1"))
    queue = app.extensions["civictracker.queue"]
    before = len(queue.inline_errors)
    jobs.enqueue_processing(app, ids)  # as a poll does: inline, the request that enqueued it goes on
    assert len(queue.inline_errors) == before + 1 and "ZeroDivisionError" in queue.inline_errors[-1]
    ext_db.session.expire_all()
    assert ext_db.session.get(InboundPost, ids[0]).state == "failed"


def test_posts_are_enqueued_a_page_per_job(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    calls: list[tuple[list[int], str | None]] = []
    queue = app.extensions["civictracker.queue"]
    monkeypatch.setattr(jobs, "PAGE_SIZE", 2)
    monkeypatch.setattr(queue, "enqueue", lambda func, ids, job_id=None: calls.append((ids, job_id)))
    jobs.enqueue_processing(app, [5, 3, 9, 3, 4])
    assert calls == [([3, 4], "posts-3-4-2"), ([5, 9], "posts-5-9-2")]  # sorted, each id once


def test_a_page_whose_commit_fails_lands_nothing_and_says_so(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ids = _store(
        incoming("huge pothole at 150 Hampshire St", author="f1"),
        incoming("streetlight out at 10 Ware St", author="f2"),
    )
    real_commit = ext_db.session.commit
    refusals = iter([True])

    def commit_refused_once() -> None:
        if next(refusals, False):
            raise RuntimeError("disk I/O error")
        real_commit()

    monkeypatch.setattr(ext_db.session, "commit", commit_refused_once)
    with pytest.raises(RuntimeError, match="disk I/O error"):
        jobs.process_posts(ids)
    monkeypatch.undo()
    ext_db.session.expire_all()
    for post in (ext_db.session.get(InboundPost, i) for i in ids):
        assert post.state == "failed" and post.attempts == 1 and "page failed" in post.error
    assert count_rows(Ticket) == 0 and count_rows(OutboundMessage) == 0  # nothing half-landed, nothing sent
    assert jobs.retry_failed_posts() == 2
    assert count_rows(Ticket) == 2 and count_rows(OutboundMessage, OutboundMessage.state == "sent") == 2


def test_an_author_created_meanwhile_by_another_worker_is_found(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The page read no reporter row for an author, but another worker wrote one before the page's own
    insert: the page's batch of new reporters fails as one, and each post finds or creates its own."""
    import civictracker.intake.load as load

    ids = _store(
        incoming("huge pothole at 150 Hampshire St", author="w1"),
        incoming("streetlight out at 10 Ware St", author="w2"),
    )
    other = Reporter(channel="replay", external_id="w1", handle="w1")
    ext_db.session.add(other)
    ext_db.session.commit()
    real = load.load_posts

    def as_read_before_the_other_worker(session, post_ids, **kwargs):  # type: ignore[no-untyped-def]
        return {i: (post, None) for i, (post, _) in real(session, post_ids, **kwargs).items()}

    monkeypatch.setattr(load, "load_posts", as_read_before_the_other_worker)
    assert jobs.process_posts(ids) == "created=2"
    ext_db.session.expire_all()
    first, second = (ext_db.session.get(InboundPost, i) for i in ids)
    assert first.reporter_id == other.id
    assert count_rows(Reporter) == 2 and second.reporter_id not in {None, other.id}


def test_one_page_keeps_the_dedupe_rules_for_tickets_it_has_not_written_yet(app) -> None:  # type: ignore[no-untyped-def]
    """A page writes its new tickets together at its end: before that no query sees them, so dedupe looks
    at them in memory, by the same rules as in the table."""
    ids = _store(
        incoming("pothole in front of 100 Hampshire St", author="d1"),
        incoming("pothole in front of 108 Hampshire St", author="d2"),  # 38.6 m away, another door
        incoming("huge pothole at 100 Hampshire St", author="d3"),  # the first one again
        incoming("@CambridgeMA Fayerweather St hasn't seen a plow since yesterday morning", author="d4"),
        incoming("Fayerweather St still not plowed, total mess", author="d5"),  # street-wide: the same
        incoming("streetlight out at 100 Hampshire St", author="d6"),  # same place, another service
    )
    assert jobs.process_posts(ids) == "created=4, merged=2"
    ext_db.session.expire_all()
    posts = [ext_db.session.get(InboundPost, i) for i in ids]
    assert [p.outcome for p in posts] == ["created", "created", "merged", "created", "merged", "created"]
    assert posts[2].ticket_id == posts[0].ticket_id != posts[1].ticket_id
    assert posts[4].ticket_id == posts[3].ticket_id
    assert len({posts[0].ticket_id, posts[1].ticket_id, posts[3].ticket_id, posts[5].ticket_id}) == 4
    first = ext_db.session.get(Ticket, posts[0].ticket_id)
    assert first.report_count == 2 and first.follower_count == 2
    # every reply names its ticket, written with it in the page's one transaction
    for post in posts:
        (reply,) = ext_db.session.scalars(
            select(OutboundMessage).where(
                OutboundMessage.ticket_id == post.ticket_id, OutboundMessage.reporter_id == post.reporter_id
            )
        )
        assert reply.state == "sent" and f"CT-{post.ticket_id}" in reply.text


def test_a_reply_to_a_post_earlier_in_the_same_page_finds_its_ticket(app) -> None:  # type: ignore[no-untyped-def]
    first = incoming("the streetlight at 150 Hampshire St is out", author="r1")
    ids = _store(first, incoming("still not fixed!!", author="r1", kind="reply", reply_to=first.external_id))
    assert jobs.process_posts(ids) == "created=1, still_open=1"
    ext_db.session.expire_all()
    report, reply = (ext_db.session.get(InboundPost, i) for i in ids)
    assert reply.ticket_id == report.ticket_id
    assert ext_db.session.get(Ticket, report.ticket_id).report_count == 2


def test_thread_lookups_in_a_page_write_nothing(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A reply and a DM answer find what earlier posts of their page did without a flush: the page's rows
    are written once, at its end, not once per reply."""
    import civictracker.intake.process as process

    real, pending = process.thread_ticket, []

    def spy(session, post, page=None):  # type: ignore[no-untyped-def]
        before = set(session.new)
        found = real(session, post, page)
        pending.append((len(before), before == set(session.new)))
        return found

    monkeypatch.setattr(process, "thread_ticket", spy)
    first = incoming("the streetlight at 150 Hampshire St is out", author="f1")
    ids = _store(
        first,
        incoming("still not fixed!!", author="f2", kind="reply", reply_to=first.external_id),
        incoming("the streetlight on my block has been out for two weeks", author="f3", kind="dm"),
        incoming("it's at 20 Prospect St", author="f3", kind="dm"),
        incoming("thanks", author="f4", kind="reply", reply_to="never-sent-by-us"),
    )
    outcomes = jobs.process_posts(ids)
    assert outcomes == "ask_back=1, created=1, located=1, not_request:praise=1, still_open=1", outcomes
    assert all(unchanged for _, unchanged in pending) and any(n for n, _ in pending[1:])
    ext_db.session.expire_all()
    posts = [ext_db.session.get(InboundPost, i) for i in ids]
    assert posts[1].ticket_id == posts[0].ticket_id and posts[3].ticket_id == posts[2].ticket_id


def test_ticket_ids_handed_out_by_a_page_never_collide_with_others(app) -> None:  # type: ignore[no-untyped-def]
    from civictracker.services import tickets as ticket_service
    from civictracker.services.catalog import get_service

    before = ticket_service.create_ticket(ext_db.session, get_service(ext_db.session, "pothole"))
    ext_db.session.commit()
    ids = _store(
        incoming("pothole at 150 Hampshire St", author="i1"),
        incoming("graffiti at 300 Broadway", author="i2"),
    )
    assert jobs.process_posts(ids) == "created=2"
    after = ticket_service.create_ticket(ext_db.session, get_service(ext_db.session, "pothole"))
    ext_db.session.commit()
    ext_db.session.expire_all()
    page = sorted(ext_db.session.get(InboundPost, i).ticket_id for i in ids)
    assert before.id < page[0] < page[1] < after.id  # in order, as the table itself would have numbered them


def test_a_reply_key_taken_meanwhile_fails_only_its_post(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Another worker queued the same reply (same key) after this page looked: the page's write fails, the
    page runs again a savepoint per post, and only that post fails; retried, it finds the other's row."""
    from civictracker.services import notify

    (first,) = _store(incoming("huge pothole at 150 Hampshire St", author="k1"))
    assert jobs.process_posts([first]) == "created"
    ticket_id = ext_db.session.get(InboundPost, first).ticket_id
    other = Reporter(channel="replay", external_id="k2", handle="k2")
    ext_db.session.add(other)
    ext_db.session.flush()
    key = f"merged:ticket:{ticket_id}:reporter:{other.id}"
    ext_db.session.add(
        OutboundMessage(
            idempotency_key=key, channel="replay", kind="merged", ticket_id=ticket_id, reporter_id=other.id,
            recipient_id="k2", text="queued by another worker", state="sent",
        )
    )  # fmt: skip
    ext_db.session.commit()
    monkeypatch.setattr(notify, "_queued", lambda session, key: None)  # it was not there when we looked
    ids = _store(
        incoming("pothole in front of 150 Hampshire St", author="k2"),
        incoming("streetlight out at 10 Ware St", author="k3"),
    )
    with pytest.raises(jobs.PageFailed, match="IntegrityError"):
        jobs.process_posts(ids)
    ext_db.session.expire_all()
    merged, other_post = (ext_db.session.get(InboundPost, i) for i in ids)
    assert merged.state == "failed" and merged.ticket_id is None and other_post.outcome == "created"
    assert ext_db.session.get(Ticket, ticket_id).report_count == 1  # nothing of the failed post landed
    monkeypatch.undo()
    assert jobs.retry_failed_posts() == 1
    ext_db.session.expire_all()
    assert ext_db.session.get(InboundPost, ids[0]).outcome == "merged"
    assert count_rows(OutboundMessage, OutboundMessage.idempotency_key == key) == 1


def test_a_reply_processed_before_the_post_it_answers_takes_that_post_along(app) -> None:  # type: ignore[no-untyped-def]
    """The post a reply answers is stored but not processed yet (a retry, or another page still waiting):
    the reply's page processes it first, so the reply joins its thread instead of becoming a report."""
    first = incoming("the streetlight at 150 Hampshire St is out", author="q1")
    (parent,) = _store(first)
    (reply,) = _store(incoming("still not fixed!!", author="q1", kind="reply", reply_to=first.external_id))
    assert jobs.process_post(reply) == "still_open"  # the reply's own outcome
    ext_db.session.expire_all()
    parent_post, reply_post = ext_db.session.get(InboundPost, parent), ext_db.session.get(InboundPost, reply)
    assert parent_post.outcome == "created" and reply_post.ticket_id == parent_post.ticket_id
    assert jobs.process_post(parent) == "created"  # its own job later changes nothing
    assert count_rows(Ticket) == 1


def test_a_page_locks_what_its_posts_touch(app, backend, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: before it writes anything, a page holds an advisory lock per author, thread and place
    its posts may touch, until its commit. SQLite: its write lock runs one page at a time."""
    from sqlalchemy import text

    import civictracker.intake.reporters as reporters

    real = reporters.add_new_reporters
    held: list[object] = []

    def look(session, loaded, page):  # type: ignore[no-untyped-def]
        if backend == "postgis":
            query = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            held.append(session.execute(text(query)).scalar())
        else:
            held.append(session.connection().connection.dbapi_connection.in_transaction)
        return real(session, loaded, page)

    monkeypatch.setattr(reporters, "add_new_reporters", look)
    assert jobs.process_posts(_store(incoming("pothole at 150 Hampshire St", author="l1"))) == "created"
    if backend == "sqlite":
        assert held == [True]
    else:  # an author, a thread, and the cells of the grid around the place
        assert len(held) == 1 and held[0] >= 3, held


def _race(app, ids: list[int]):  # type: ignore[no-untyped-def]
    """PostgreSQL: each page in a thread of its own (a worker each), started together. SQLite: one after
    the other (its one write lock serializes writers; threads sharing the test's file add nothing).
    The outcome of each page, by post id."""
    import threading

    if app.config["CT_BACKEND"] == "sqlite":
        return {post_id: jobs.process_posts([post_id]) for post_id in ids}
    barrier, results = threading.Barrier(len(ids)), {}

    def work(post_id: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[post_id] = jobs.process_posts([post_id])
            finally:
                ext_db.session.remove()

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_two_workers_racing_on_one_problem_open_one_ticket(app) -> None:  # type: ignore[no-untyped-def]
    """Two near-identical reports processed at the same moment by two workers: one ticket, one merge."""
    ids = _store(
        incoming("huge pothole outside 150 Hampshire St", author="w1"),
        incoming("pothole in front of 150 Hampshire St, nearly lost a tire", author="w2"),
    )
    results = _race(app, ids)
    assert sorted(results.values()) == ["created", "merged"]
    ext_db.session.expire_all()
    assert count_rows(Ticket) == 1
    ticket = ext_db.session.scalar(select(Ticket))
    assert ticket.report_count == 2 and ticket.follower_count == 2  # no update lost either


def test_pages_with_nothing_in_common_run_side_by_side(app, backend, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: a page about another place and author does not wait for one still running (SQLite
    runs them one after the other, behind the database's one write lock)."""
    import threading

    import civictracker.intake.reporters as reporters

    ids = _store(
        incoming("huge pothole outside 150 Hampshire St", author="s1"),
        incoming("streetlight out at 20 Prospect St", author="s2"),
    )
    real, other_done = reporters.add_new_reporters, threading.Event()
    overlapped: list[bool] = []

    def slow_first(session, loaded, page):  # type: ignore[no-untyped-def]
        if ids[0] in loaded:  # the first page waits, holding its locks, for the other to finish
            overlapped.append(other_done.wait(30 if backend == "postgis" else 0))
        return real(session, loaded, page)

    def mark(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_process(*args, **kwargs)
        if args[0] == [ids[1]]:
            other_done.set()
        return result

    monkeypatch.setattr(reporters, "add_new_reporters", slow_first)
    real_process = jobs.process_posts
    monkeypatch.setattr(jobs, "process_posts", mark)
    results = _race(app, ids)
    assert sorted(results.values()) == ["created", "created"]
    assert overlapped == [backend == "postgis"]
