"""Production's clock: enqueue each periodic job on rq once per period, never again while one is pending.

Hand-written on purpose: rq's own scheduling (rq 3.0, read from its source) breaks a guarantee we test.
- `rq.cron.CronScheduler` enqueues a new job (a fresh random id: CronJob passes neither `job_id` nor
  `unique`) every period, whether or not the last one has run, and nothing stops a second scheduler
  process: behind a slow worker the polls pile up, and two schedulers double them.
- `Repeat` re-enqueues a job only after it succeeded, a fixed number of times: one failure (the
  database briefly away) would end that periodic job for good.
- `enqueue_in`/`enqueue_at` with `worker --with-scheduler` are one-shot delays (outbox retries use them).
- rq-scheduler (as Redash uses it; a new dependency) pushes the same job id onto the queue again at
  every interval whatever its state (`Scheduler.enqueue_job`), so a slow worker still gets a backlog.
None of them runs without Redis, where this clock does the same work in its own process (poll_once).
What rq gives is used: the atomic `unique=True` enqueue under a fixed id, refused while the id exists,
and its abandoned-job handling: a job whose worker died (SIGKILL, a lost host) keeps its "started" status,
so every tick runs `StartedJobRegistry.cleanup()`, which fails the jobs whose lease (the registry entry's
expiry, renewed by the worker's heartbeat, jobs/worker.py) ran out; the failed id is then free. rq's
own workers run that cleanup only every ten minutes, which stalled the outbox for about 610 s.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import Flask

from civictracker.runtime import settings_of

log = logging.getLogger(__name__)

# rq statuses in which a job will still run (or is running): enqueueing its id again would only pile up
# duplicates behind a slow worker.
PENDING_STATUSES = frozenset({"queued", "started", "deferred", "scheduled", "created", "ready_to_enqueue"})
SLOW_JOB_TIMEOUT = 600  # seconds: a source check makes up to `limit` platform calls of up to 10 s each


@dataclass(frozen=True)
class Task:
    """One periodic job: a fixed rq job id, the function with its arguments, and its period in seconds."""

    job_id: str
    func: Callable[..., Any]
    args: tuple[Any, ...]
    every: float
    timeout: int = 180
    in_poll_once: bool = False  # without Redis, poller.poll_once does this task (channels, then outbox)


def _id_part(value: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", value)  # rq accepts letters, digits, "_" and "-" in job ids


class Scheduler:
    """Runs `tick()` every `interval` seconds: due tasks are enqueued on rq, or run here without Redis.

    Job ids are fixed and prefixed with the queue name, so two deployments sharing a Redis database do
    not block each other, and a second scheduler process cannot double the work either: the enqueue is
    rq's atomic unique enqueue, refused while a job with that id exists. Finished jobs keep no result
    (result_ttl=0) so their id is free at once; a failed one is deleted before its next enqueue.
    """

    def __init__(
        self,
        app: Flask,
        *,
        interval: float,
        slow_every: float = 300.0,
        sources_limit: int = 25,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        from civictracker.queue import get_queue

        self.app = app
        self.queue = get_queue(app)
        self.interval = max(0.2, interval)
        self.slow_every = max(self.interval, slow_every)
        self.sources_limit = sources_limit
        self.clock = clock
        self._last_run: dict[str, float] = {}
        settings = settings_of(app)
        self.tasks = self._tasks(settings.channel_names, _id_part(settings.queue_name))

    def _tasks(self, channel_names: list[str], prefix: str) -> list[Task]:
        from civictracker.jobs import locate
        from civictracker.jobs import posts as jobs
        from civictracker.outbox import sources
        from civictracker.outbox import sweep as outbox

        tasks = [
            Task(
                f"{prefix}-poll-{_id_part(name)}",
                jobs.poll_channel,
                (name,),
                self.interval,
                in_poll_once=True,
            )
            for name in channel_names
        ]
        tasks.append(
            Task(f"{prefix}-sweep-outbox", outbox.sweep_outbox, (), self.interval, in_poll_once=True)
        )
        tasks.append(
            Task(
                f"{prefix}-check-sources",
                sources.check_sources,
                (self.sources_limit,),
                self.slow_every,
                SLOW_JOB_TIMEOUT,
            )
        )
        tasks.append(Task(f"{prefix}-retry-failed", jobs.retry_failed_posts, (), self.slow_every))
        # what a request committed but could not enqueue (Redis away): found here anyway
        tasks.append(Task(f"{prefix}-locate-pending", locate.locate_pending_tickets, (), self.slow_every))
        return tasks

    def due(self, now: float) -> list[Task]:
        return [t for t in self.tasks if now - self._last_run.get(t.job_id, -float("inf")) >= t.every]

    def tick(self) -> dict[str, str]:
        """One round: what became of each due task ("enqueued", "pending", "ran", "failed").

        A task is due once however many periods passed since its last round (after downtime, one run,
        not one per missed period).
        """
        now = self.clock()
        due = self.due(now)
        for task in due:
            self._last_run[task.job_id] = now
        if self.queue.is_inline:
            return self._run_inline(due)
        if due:
            self.reap_abandoned()
        return {task.job_id: self._enqueue_once(task) for task in due}

    def reap_abandoned(self) -> None:
        """Fail the started jobs whose worker stopped renewing their lease (rq's abandoned-job handling)."""
        from rq.registry import StartedJobRegistry

        StartedJobRegistry(queue=self.queue.rq_queue()).cleanup()

    def _enqueue_once(self, task: Task) -> str:
        """Enqueue the task under its fixed id, or say "pending" while a job with that id will still run."""
        from rq.exceptions import DuplicateJobError, NoSuchJobError
        from rq.job import Job

        rq_queue = self.queue.rq_queue()
        connection = rq_queue.connection
        try:
            job = Job.fetch(task.job_id, connection=connection)
        except NoSuchJobError:
            job = None
        if job is not None:
            status = job.get_status(refresh=False)
            if status is not None and str(getattr(status, "value", status)) in PENDING_STATUSES:
                log.debug("%s is still %s; not enqueued again", task.job_id, status)
                return "pending"
            # rq 3's delete reads every execution of the job; a killed worker's execution hash has expired
            # with its lease and delete() would raise: its registry goes first (nothing else reads it).
            from rq.executions import ExecutionRegistry

            connection.delete(ExecutionRegistry(job_id=job.id, connection=connection).key)
            job.delete()  # finished, failed, stopped or cancelled: the id is free for the next run
        try:
            rq_queue.enqueue(
                task.func,
                *task.args,
                job_id=task.job_id,
                unique=True,
                result_ttl=0,
                failure_ttl=24 * 3600,
                job_timeout=task.timeout,
            )
        except DuplicateJobError:  # another scheduler enqueued it between our check and our enqueue
            return "pending"
        return "enqueued"

    def _run_inline(self, due: list[Task]) -> dict[str, str]:
        """Without Redis the work runs here: one poll_once round (channels, then outbox), slow tasks after."""
        from civictracker.jobs.poller import poll_once

        results: dict[str, str] = {}
        polled = [t for t in due if t.in_poll_once]
        if polled:
            poll_once(self.app)  # logs and survives a failing channel itself
            results.update({t.job_id: "ran" for t in polled})
        for task in due:
            if task.in_poll_once:
                continue
            try:
                with self.app.app_context():
                    task.func(*task.args)
                results[task.job_id] = "ran"
            except Exception:  # one failing periodic job must not stop the clock
                log.exception("scheduled job %s failed; it runs again next period", task.job_id)
                results[task.job_id] = "failed"
        return results

    def run_forever(self, stop: threading.Event | None = None) -> None:
        stop = stop or threading.Event()
        log.info(
            "scheduler: %s on %s every %.1fs (slow jobs every %.0fs)",
            ", ".join(t.job_id for t in self.tasks),
            "inline" if self.queue.is_inline else f"rq queue {self.queue.queue_name}",
            self.interval,
            self.slow_every,
        )
        while not stop.is_set():
            try:
                self.tick()
            except Exception:  # Redis briefly unreachable: try again next tick rather than exit
                log.exception("scheduler tick failed")
            stop.wait(self.interval)
