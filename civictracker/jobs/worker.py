"""The rq worker class every civictracker worker runs (the CLI command and the tests' burst worker)."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq import SimpleWorker

log = logging.getLogger(__name__)

# Seconds a running job's lease lasts without a heartbeat (rq's StartedJobRegistry score). The worker
# renews it every third of that while the job runs; the scheduler fails a job whose lease ran out (its
# worker is dead) and enqueues the periodic job again. Short, so a SIGKILLed worker stalls a periodic job
# about one poll interval, not rq's default of the job's timeout plus a minute.
DEFAULT_LEASE_S = 5


class _OncePerOutage(logging.Filter):
    """Lets one of rq's "could not connect to Redis" lines through per outage; the rest repeat it."""

    def __init__(self) -> None:
        super().__init__()
        self.in_outage = False

    def filter(self, record: logging.LogRecord) -> bool:
        if "could not connect to Redis" not in str(record.msg):
            return True
        if self.in_outage:
            return False
        self.in_outage = True
        return True


class Worker(SimpleWorker):
    """rq's SimpleWorker (jobs run in this process, no fork per job) with a short lease on running jobs
    and a teardown that never stalls.

    Lease: rq's SimpleWorker registers a running job for its whole timeout plus 60 s and never renews it
    (the forking worker's monitor loop does that for the horse). Here a thread renews worker, execution and
    registry entry (rq's `maintain_heartbeats`) every `lease_s / 3` while the job runs, so the entry
    expires `lease_s` after the worker dies, not minutes later.

    Teardown: rq 3.0 tears its command listener down as: UNSUBSCRIBE, then `pubsub_thread.stop()`, then
    `join(timeout=1)`. The listener thread can read the UNSUBSCRIBE reply before `stop()` clears its
    loop flag; it then loops into `get_message(timeout=60)`, which, with no channel left, waits up to
    60 s for a subscription. redis-py 8's `stop()` itself joins the thread with no timeout, so the
    worker's exit (a burst's end, a SIGTERM) hung for up to 60 s at random. Clearing the flag
    first means the UNSUBSCRIBE reply that wakes the thread's blocked read also ends its loop.
    """

    lease_s: int = DEFAULT_LEASE_S
    outage_filter = _OncePerOutage()

    def __init__(self, *args: Any, lease_s: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if lease_s is not None:
            self.lease_s = max(2, int(lease_s))
        logger = logging.getLogger("rq.worker")
        if self.outage_filter not in logger.filters:
            logger.addFilter(self.outage_filter)

    def get_heartbeat_ttl(self, job: Any, working_time: float = 0.0) -> int:
        return self.lease_s

    def heartbeat(self, timeout: int | None = None, pipeline: Any = None) -> None:
        super().heartbeat(timeout, pipeline=pipeline)
        if pipeline is None:  # it reached Redis: an outage, if any, is over
            self.outage_filter.in_outage = False

    def execute_job(self, job: Any, queue: Any) -> None:
        done = threading.Event()
        execution: list[Any] = []
        prepare = self.prepare_execution

        def prepared(j: Any) -> Any:
            execution.append(prepare(j))
            return execution[0]

        def renew() -> None:
            while not done.wait(self.lease_s / 3):
                if execution:
                    with contextlib.suppress(Exception):  # Redis away: the lease lapses, as it should
                        self.maintain_heartbeats(job, execution[0])

        self.prepare_execution = prepared  # type: ignore[method-assign,assignment]
        beat = threading.Thread(target=renew, name="civictracker-lease", daemon=True)
        beat.start()
        try:
            super().execute_job(job, queue)
        finally:
            done.set()
            self.prepare_execution = prepare  # type: ignore[method-assign]
            beat.join(timeout=1)

    def unsubscribe(self) -> None:
        thread, pubsub = self.pubsub_thread, self.pubsub
        if thread is None or pubsub is None:
            return
        thread.stop(timeout=0)  # clear the loop flag only; the thread is still blocked reading
        # Its reply wakes that read and the thread leaves its loop. A connection error means the thread had
        # just woken and closed the connection itself: nothing is left to unsubscribe.
        with contextlib.suppress(RedisConnectionError):
            pubsub.unsubscribe()
        thread.join(timeout=1)
        pubsub.close()


def run_worker(
    connect: Callable[[], tuple[list[Any], Any]],
    *,
    burst: bool = False,
    lease_s: int = DEFAULT_LEASE_S,
    max_wait_s: float = 30.0,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Run a Worker until it is told to stop (SIGTERM/SIGINT, or the end of a burst).

    rq's worker quits for good ("found an unhandled exception, quitting") when Redis drops at the wrong
    moment, or raises at start-up when Redis is not there yet. Here it waits and starts again: Redis is
    pinged with a doubling backoff up to `max_wait_s`, logged once when the outage starts and once when it
    ends. `connect` returns (queues, connection), fresh for each start (a restarted Redis is empty).
    """
    wait, down_since = 1.0, None
    while True:
        try:
            queues, connection = connect()
            connection.ping()
            if down_since is not None:
                back_after = time.monotonic() - down_since
                log.warning("Redis is back after %.0f s; the worker starts again", back_after)
                down_since, wait = None, 1.0
            worker = Worker(queues, connection=connection, lease_s=lease_s)
            worker.work(burst=burst, with_scheduler=True)
            if burst or worker._stop_requested:
                return
            connection.ping()  # it quit on its own: an error, most likely Redis going away
            log.warning("the rq worker quit on an error with Redis up; starting it again")
            continue
        except (RedisError, OSError) as exc:
            if down_since is None:
                down_since = time.monotonic()
                log.warning("Redis is unreachable (%s); the worker reconnects with backoff", exc)
        sleep(wait)
        wait = min(max_wait_s, wait * 2)
