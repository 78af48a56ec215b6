"""The production scheduler: fixed rq job ids on the real Redis, no pile-up behind a slow worker; inline without."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import func, select

from civictracker.extensions import db
from civictracker.jobs import posts as jobs
from civictracker.jobs.scheduler import Scheduler
from civictracker.models import ChannelCursor, InboundPost
from civictracker.queue import get_queue
from tests.conftest import BACKENDS, drop_app, make_app
from tests.intake.helpers import rq_app_on, work_burst

FEED = [
    {
        "id": "s-1",
        "kind": "mention",
        "author_id": "a1",
        "author_handle": "ana",
        "text": "pothole at 150 Hampshire St",
    },
    {
        "id": "s-2",
        "kind": "mention",
        "author_id": "b1",
        "author_handle": "bo",
        "text": "streetlight out at 40 Pearl St",
    },
]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _feed(tmp_path: Path) -> str:
    path = tmp_path / "feed.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in FEED), encoding="utf-8")
    return str(path)


@pytest.fixture(params=BACKENDS)
def rq_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    with rq_app_on(request.param, tmp_path, prefix="ct-sched", replay_feed=_feed(tmp_path)) as app:
        yield app
        connection = get_queue(app).connection()
        for task in Scheduler(app, interval=5).tasks:  # failed periodic jobs outlive the queue
            with contextlib.suppress(NoSuchJobError):
                Job.fetch(task.job_id, connection=connection).delete()


def test_tick_enqueues_fixed_ids_once_until_a_worker_has_run_them(
    rq_app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    name = get_queue(rq_app).queue_name
    scheduler = Scheduler(rq_app, interval=5, slow_every=300, clock=clock)
    rq_queue = get_queue(rq_app).rq_queue()

    first = scheduler.tick()
    ids = {
        "poll": f"{name}-poll-replay",
        "sweep": f"{name}-sweep-outbox",
        "sources": f"{name}-check-sources",
        "retry": f"{name}-retry-failed",
        "locate": f"{name}-locate-pending",
    }
    assert first == dict.fromkeys(ids.values(), "enqueued")
    assert sorted(rq_queue.job_ids) == sorted(ids.values())
    poll = Job.fetch(ids["poll"], connection=rq_queue.connection)
    assert poll.func_name == "civictracker.jobs.posts.poll_channel" and poll.args == ("replay",)
    assert Job.fetch(ids["sources"], connection=rq_queue.connection).func_name.endswith(
        "sources.check_sources"
    )

    # The worker is slow: every period comes round again while the jobs still wait. Nothing piles up,
    # neither from this scheduler nor from a second one started by mistake.
    clock.now += 301
    assert scheduler.tick() == dict.fromkeys(ids.values(), "pending")
    assert Scheduler(rq_app, interval=5, clock=clock).tick() == dict.fromkeys(ids.values(), "pending")
    assert rq_queue.count == 5

    # A job that fails must not block its id for ever.
    def broken(*_a: object, **_k: object) -> int:
        raise RuntimeError("database briefly away")

    monkeypatch.setattr(jobs, "retry_failed_posts", broken)
    work_burst(rq_app)  # polls the feed (2 posts, each processed by its own job), sweeps, checks, retries
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(InboundPost)) == 2
    assert db.session.get(ChannelCursor, "replay") is not None
    assert rq_queue.count == 0
    assert Job.fetch(ids["retry"], connection=rq_queue.connection).get_status() == "failed"

    clock.now += 5  # only the fast jobs are due; finished jobs left no id behind
    assert scheduler.tick() == {ids["poll"]: "enqueued", ids["sweep"]: "enqueued"}
    clock.now += 300
    assert scheduler.tick() == dict.fromkeys((ids["sources"], ids["retry"], ids["locate"]), "enqueued") | {
        ids["poll"]: "pending",
        ids["sweep"]: "pending",
    }
    assert rq_queue.count == 5


def test_without_redis_a_tick_runs_the_work_inline(tmp_path: Path) -> None:
    app, pg_db = make_app("sqlite", tmp_path, replay_feed=_feed(tmp_path))
    try:
        with app.app_context():
            assert get_queue(app).is_inline
            clock = Clock()
            scheduler = Scheduler(app, interval=5, slow_every=60, clock=clock)
            results = scheduler.tick()
            assert set(results.values()) == {"ran"} and len(results) == 5
            assert db.session.scalar(select(func.count()).select_from(InboundPost)) == 2
            assert set(db.session.scalars(select(InboundPost.state))) == {"processed"}
            clock.now += 1
            assert scheduler.tick() == {}  # nothing is due yet
            clock.now += 5
            assert set(scheduler.tick()) == {"civictracker-poll-replay", "civictracker-sweep-outbox"}

            from civictracker.cli.commands import civictracker_cli

            result = app.test_cli_runner().invoke(civictracker_cli, ["scheduler", "--once"])
            assert result.exit_code == 0, result.output
            assert json.loads(result.output)["civictracker-poll-replay"] == "ran"
    finally:
        drop_app(app, pg_db)
