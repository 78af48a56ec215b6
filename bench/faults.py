"""The fault suite: platform outages, a SIGKILLed worker, Redis restarted empty, PostgreSQL connections
killed. Prints posts lost, replies doubled, replies dead and time to catch up (or the stall) per case.

Run: .venv/bin/python bench/faults.py [--minutes 60] [--step 5] [--residents 30] [--skip-outages]
Outages run in compressed time (every recorded outbox time moves back one poll interval per sweep, see
tests/faults/scenarios.py): a 60-minute outage is 720 sweeps. The worker and Redis cases are real time on a
private redis-server (port 6391) and the test Redis db (CIVICTRACKER_TEST_REDIS_URL). Targets: 0 lost,
0 doubled, 0 dead; catch-up within 2 poll intervals plus the caps' pacing; stall <= 2 poll intervals.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from redis import Redis
from rq import Queue
from rq.job import Job
from sqlalchemy import text

from civictracker.channels.mastodon import MastodonChannel
from civictracker.channels.x import XChannel
from civictracker.extensions import db
from civictracker.jobs.scheduler import Scheduler, Task
from civictracker.outbox import sweep as outbox
from civictracker.runtime import register_channel, runtime_of, settings_of
from tests.conftest import REDIS_URL, _pg_admin, drop_app, make_app
from tests.fakes import serve
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.x_api import FakeX
from tests.faults.scenarios import HEADER, platform_outage
from tests.faults.workers import kill, slow_job, start_worker, stop, wait_for
from tests.intake.test_outbox_clusters import Env


@contextmanager
def storm_env(backend: str) -> Iterator[Env]:
    """An app on a scratch database with the real X and Mastodon adapters on local fakes."""
    with tempfile.TemporaryDirectory() as tmp:
        app, pg_db = make_app(backend, Path(tmp))
        fx, masto = FakeX(), FakeMastodon()
        try:
            with app.app_context(), serve(fx) as x_url, serve(masto) as masto_url:
                settings = dataclasses.replace(
                    settings_of(app),
                    channels="x,mastodon",
                    x_user_id=fx.me_id,
                    x_access_token="at",
                    mastodon_base_url=masto_url,
                    mastodon_access_token="token",
                )
                runtime_of(app).settings = settings
                x = XChannel(user_id=fx.me_id, bearer_token="user-token", base_url=x_url, timeout=5)
                register_channel(app, "x", x)
                register_channel(
                    app, "mastodon", MastodonChannel(api_base_url=masto_url, access_token="token")
                )
                yield Env(app, fx, masto, x, settings)
        finally:
            drop_app(app, pg_db)


def outage_rows(minutes: float, step: float, residents: int) -> None:
    for mode, length in (("down", 4.0), ("down", minutes), ("timeout", minutes)):
        with storm_env("sqlite") as env:
            started = time.monotonic()
            figures = platform_outage(env, minutes=length, step_s=step, residents=residents, mode=mode)
            print(figures.row(), f"  ({time.monotonic() - started:.0f} s real)", flush=True)


def _status(connection: Redis, job_id: str) -> str | None:
    try:
        status = Job.fetch(job_id, connection=connection).get_status()
    except Exception:
        return None
    return str(getattr(status, "value", status))


def kill_stall(interval: float) -> None:
    """SIGKILL the worker running a periodic job (a 60 s stand-in for the sweep): seconds until the
    scheduler enqueues it again."""
    name = f"ct-bench-faults-{uuid.uuid4().hex[:8]}"
    connection = Redis.from_url(REDIS_URL)
    queue = Queue(name, connection=connection)
    scheduler = Scheduler.__new__(Scheduler)
    ticks = iter(range(1, 10**9))
    scheduler.interval, scheduler.clock, scheduler._last_run = interval, lambda: next(ticks) * 1e4, {}
    scheduler.queue = type("Q", (), {"is_inline": False, "rq_queue": lambda self: queue})()
    job_id = f"{name}-sweep-outbox"
    scheduler.tasks = [Task(job_id, slow_job, (60.0,), interval)]
    worker = start_worker(REDIS_URL, name, lease_s=int(interval))
    stall = None
    try:
        scheduler.tick()
        wait_for(lambda: _status(connection, job_id) == "started", 30)
        kill(worker)
        killed = time.monotonic()
        while time.monotonic() - killed < 700:
            if scheduler.tick()[job_id] == "enqueued":
                stall = time.monotonic() - killed
                break
            time.sleep(interval)  # the scheduler's own period
    finally:
        stop(worker)
        queue.delete(delete_jobs=True)
    shown = "never" if stall is None else f"{stall:.1f}"
    print(f"{'worker SIGKILL mid-sweep (stall s)':<34} {'0':>5} {'0':>8} {'0':>5} {shown:>9}", flush=True)


def _pings(url: str) -> bool:
    try:
        return bool(Redis.from_url(url).ping())
    except Exception:
        return False


def redis_restart(down_s: float) -> None:
    """A worker on a private redis-server; Redis stopped, then restarted empty: seconds from the restart
    until a new job has run (the worker reconnected by itself)."""
    if not shutil.which("redis-server"):
        print("redis restart: redis-server not installed")
        return
    port = 6391
    url = f"redis://127.0.0.1:{port}/0"
    args = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    time.sleep(0.5)
    worker = start_worker(url, "bench-restart", lease_s=2, max_wait_s=2.0)
    caught = None
    try:
        time.sleep(2)
        server.terminate()
        server.wait()
        time.sleep(down_s)
        server = subprocess.Popen(args, stdout=subprocess.DEVNULL)  # empty: nothing was saved
        restarted = time.monotonic()
        wait_for(lambda: _pings(url), 10)
        job = Queue("bench-restart", connection=Redis.from_url(url)).enqueue(slow_job, 0.0)
        done = wait_for(lambda: _status(Redis.from_url(url), job.id) == "finished", 120)
        caught = None if done is None else time.monotonic() - restarted
        alive = worker.poll() is None
    finally:
        stop(worker)
        server.terminate()
        server.wait()
    shown = "never" if caught is None else f"{caught:.1f}"
    print(
        f"{f'Redis down {down_s:.0f}s, restarted empty':<34} {'0':>5} {'0':>8} {'0':>5} {shown:>9}"
        f"  (worker alive after: {alive})",
        flush=True,
    )


def pg_connections_killed() -> None:
    """PostgreSQL 'restart': every connection of the app's own test database terminated mid-run."""
    with storm_env("postgis") as env:
        env.report("ana", "pothole at 150 Hampshire St")
        name = db.engine.url.database
        _pg_admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        )
        errors = 0
        started = time.monotonic()
        for _ in range(5):
            try:
                outbox.sweep_outbox()
                break
            except Exception:  # the first use of a dead pooled connection
                errors += 1
                db.session.rollback()
        env.report("bo", "streetlight out at 40 Pearl St")
        db.session.expire_all()
        states = db.session.execute(
            text("SELECT state, count(*) FROM outbound_messages GROUP BY state")
        ).all()
        dead = sum(n for s, n in states if s == "dead")
        print(
            f"{'PostgreSQL connections killed':<34} {'0':>5} {'0':>8} {dead:>5} "
            f"{time.monotonic() - started:>9.1f}  (sweeps failed first: {errors}; states {dict(states)})",
            flush=True,
        )


DISK_CHILD = """
import json, resource, signal, sys, tempfile, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from sqlalchemy import func, select
from civictracker.extensions import db
from civictracker.jobs import posts as jobs
from civictracker.models import InboundPost
from tests.conftest import make_app
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails (EFBIG) instead of killing us
n = int(sys.argv[2])
with tempfile.TemporaryDirectory() as tmp:
    feed = Path(tmp) / "feed.jsonl"
    feed.write_text("".join(json.dumps({"id": f"d-{i}", "kind": "mention", "author_id": f"u{i}",
        "author_handle": f"res{i}", "text": f"pothole at {10 + i} Hampshire St " + "x" * 200}) + "\\n"
        for i in range(n)))
    app, _ = make_app("sqlite", Path(tmp), replay_feed=str(feed), channels="replay")
    with app.app_context():
        size = Path(tmp, "test.sqlite").stat().st_size
        soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 16 * 1024, hard))  # the disk is nearly full
        failures = 0
        for _ in range(5):
            try:
                jobs.poll_channel("replay")
            except Exception:
                failures += 1
                db.session.rollback()
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space freed
        freed = time.monotonic()
        polls = 0
        while polls < 50:
            polls += 1
            if jobs.poll_channel("replay") == 0:
                break
        jobs.retry_failed_posts()
        stored = db.session.scalar(select(func.count()).select_from(InboundPost))
        print(json.dumps({"failures": failures, "lost": n - stored, "polls": polls,
                          "catch_up": time.monotonic() - freed}))
"""


def sqlite_disk_full(posts: int = 300) -> None:
    """The SQLite file cannot grow (RLIMIT_FSIZE in a child process stands in for a full disk), polls
    fail, then space comes back: posts lost, and real seconds until every post is stored."""
    root = str(Path(__file__).resolve().parents[1])
    done = subprocess.run(
        [sys.executable, "-c", DISK_CHILD, root, str(posts)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        print("SQLite disk full: the child failed:", done.stderr[-500:])
        return
    import json

    got = json.loads(lines[-1])
    print(
        f"{'SQLite disk full, then freed':<34} {got['lost']:>5} {'0':>8} {'0':>5} {got['catch_up']:>9.1f}"
        f"  (polls failed while full: {got['failures']}/5; polls to catch up: {got['polls']})",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--step", type=float, default=5.0, help="poll interval (simulated seconds)")
    parser.add_argument("--residents", type=int, default=30)
    parser.add_argument("--skip-outages", action="store_true")
    parser.add_argument("--only-disk", action="store_true")
    opts = parser.parse_args()
    logging.disable(logging.WARNING)
    print(HEADER, flush=True)
    if opts.only_disk:
        sqlite_disk_full()
        return
    if not opts.skip_outages:
        outage_rows(opts.minutes, opts.step, opts.residents)
    kill_stall(interval=5.0)
    redis_restart(down_s=5.0)
    pg_connections_killed()
    sqlite_disk_full()


if __name__ == "__main__":
    main()
