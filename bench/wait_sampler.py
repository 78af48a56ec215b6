"""Where a multi-worker bench run's time goes: backends' wait events, workers' rq states, CPU vs run queue.

A thread samples, every `interval` seconds, pg_stat_activity for the bench's database (each backend by its
application_name, which the bench sets per process), the rq state of each worker and the queue's length.
Around it, /proc/<pid>/schedstat gives each process's time on a CPU and time runnable but waiting for one
(the other users of a shared machine); the rest of the wall time it slept (waiting for PostgreSQL, Redis
or a job). Printed as shares, so a run on a loaded machine still says where the time went.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from sqlalchemy import create_engine, text


def schedstat(pid: int) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable waiting for one) of a process's threads so far."""
    import os

    on = wait = 0.0
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0.0, 0.0
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat", encoding="ascii") as fh:
                a, b, _ = fh.read().split()
        except (OSError, ValueError):
            continue
        on += int(a) / 1e9
        wait += int(b) / 1e9
    return on, wait


class WaitSampler(threading.Thread):
    """Samples the bench database's backends and the rq workers until stopped; `report` prints shares."""

    def __init__(
        self, admin_url: str, database: str, redis: Any, queue_name: str, interval: float = 0.02
    ) -> None:
        super().__init__(name="wait-sampler", daemon=True)
        self.engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self.database, self.redis, self.queue_name, self.interval = database, redis, queue_name, interval
        self.backend = Counter[tuple[str, str]]()  # (application, state/wait) -> samples
        self.busy = Counter[int]()  # workers busy in a job -> samples
        self.queue_empty_busy = Counter[int]()  # same, once the queue is empty (the run's tail)
        self.lock_queries = Counter[str]()  # the statements waiting for a lock -> samples
        self.blockers = Counter[str]()  # what the first backend they wait for is doing -> samples
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        query = text(
            "SELECT a.application_name, a.state, a.wait_event_type, a.wait_event, left(a.query, 150), "
            "  (SELECT b.state || ': ' || left(b.query, 100) FROM pg_stat_activity b "
            "   WHERE a.wait_event_type = 'Lock' AND b.pid = (pg_blocking_pids(a.pid))[1]) "
            "FROM pg_stat_activity a WHERE a.datname = :db AND a.backend_type = 'client backend'"
        )
        workers_key = f"rq:workers:{self.queue_name}"
        with self.engine.connect() as conn:
            while not self._stop_event.wait(self.interval):
                self.samples += 1
                for app, state, wtype, wevent, sql, blocker in conn.execute(query, {"db": self.database}):
                    if wtype == "Lock":
                        self.lock_queries[f"{wevent}: {' '.join(sql.split())}"] += 1
                        self.blockers[" ".join((blocker or "?").split())] += 1
                    if state == "active":
                        what = f"active {wtype}/{wevent}" if wtype else "active on CPU"
                    else:
                        what = str(state)
                    self.backend[(app or "?", what)] += 1
                names = self.redis.smembers(workers_key)
                pipe = self.redis.pipeline()
                for name in names:
                    pipe.hget(name, "state")  # (the set holds the workers' keys)
                pipe.llen(f"rq:queue:{self.queue_name}")
                *states, length = pipe.execute()
                n_busy = sum(1 for s in states if s == b"busy")
                self.busy[n_busy] += 1
                if not length:
                    self.queue_empty_busy[n_busy] += 1
        self.engine.dispose()

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)

    def report(self, sched: dict[str, tuple[float, float]], wall: float) -> None:
        """Print the shares; `sched`: (CPU s, run-queue wait s) per process label over the run."""
        n = max(self.samples, 1)
        print(f"[waits] {self.samples} samples every {self.interval * 1000:.0f} ms over {wall:.1f} s")
        for label, (on, wait) in sorted(sched.items()):
            slept = max(wall - on - wait, 0.0)
            print(
                f"[waits] {label}: on CPU {on / wall:5.1%}, runnable waiting for a CPU {wait / wall:5.1%}, "
                f"asleep {slept / wall:5.1%}"
            )
        apps = sorted({app for app, _ in self.backend})
        for app in apps:
            rows = {what: c for (a, what), c in self.backend.items() if a == app}
            total = sum(rows.values())
            parts = ", ".join(
                f"{what} {c / n:.1%}" for what, c in sorted(rows.items(), key=lambda kv: -kv[1])
            )
            print(f"[waits] backends of {app} (per sample, {total / n:.2f} connections): {parts}")
        for sql, c in self.lock_queries.most_common(6):
            print(f"[waits] waiting for a lock {c / n:.1%}: {sql}")
        for sql, c in self.blockers.most_common(4):
            print(f"[waits] held by a backend that is {c / n:.1%}: {sql}")
        busy = ", ".join(f"{k} busy {c / n:.1%}" for k, c in sorted(self.busy.items()))
        print(f"[waits] rq workers in a job: {busy}")
        tail = sum(self.queue_empty_busy.values())
        if tail:
            parts = ", ".join(f"{k} busy {c / tail:.0%}" for k, c in sorted(self.queue_empty_busy.items()))
            print(f"[waits] once the queue was empty ({tail / n:.1%} of the run): {parts}")
