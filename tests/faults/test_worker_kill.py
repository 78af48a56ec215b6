"""A worker SIGKILLed mid-job: the scheduler sees the lapsed lease and enqueues the periodic job again."""

from __future__ import annotations

import time
import uuid

from redis import Redis
from rq import Queue
from rq.job import Job

from civictracker.jobs.scheduler import Scheduler, Task
from tests.conftest import REDIS_URL
from tests.faults.workers import kill, slow_job, start_worker, stop, wait_for

INTERVAL = 2.0


class _Ticker:
    """The scheduler's clock: a fresh period at every call, so each tick tries every task."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 1000.0
        return self.now


def _status(connection: Redis, job_id: str) -> str | None:
    try:
        status = Job.fetch(job_id, connection=connection).get_status()
        return str(getattr(status, "value", status))
    except Exception:
        return None


def test_a_periodic_job_of_a_killed_worker_runs_again_within_two_intervals() -> None:
    name = f"ct-faults-{uuid.uuid4().hex[:8]}"
    connection = Redis.from_url(REDIS_URL)
    queue = Queue(name, connection=connection)
    scheduler = Scheduler.__new__(Scheduler)  # the real tick, on a queue of its own, with one task
    scheduler.interval, scheduler.clock, scheduler._last_run = INTERVAL, _Ticker(), {}
    scheduler.queue = type("Q", (), {"is_inline": False, "rq_queue": lambda self: queue})()
    job_id = f"{name}-sweep-outbox"
    scheduler.tasks = [Task(job_id, slow_job, (60.0,), INTERVAL)]
    worker = start_worker(REDIS_URL, name, lease_s=int(INTERVAL))
    try:
        assert scheduler.tick() == {job_id: "enqueued"}
        assert wait_for(lambda: _status(connection, job_id) == "started", 30) is not None
        kill(worker)
        killed = time.monotonic()
        assert scheduler.tick() == {job_id: "pending"}  # its lease still runs
        stall = None
        while time.monotonic() - killed < 30:
            if scheduler.tick()[job_id] == "enqueued":
                stall = time.monotonic() - killed
                break
            time.sleep(INTERVAL / 4)
        # rq alone: the job stays "started" for its timeout + 60 s (and its cleanup runs every 10 min)
        assert stall is not None and stall <= 2 * INTERVAL + 0.5, stall
    finally:
        stop(worker)
        queue.delete(delete_jobs=True)
        for key in connection.scan_iter(f"rq:*{name}*"):
            connection.delete(key)
