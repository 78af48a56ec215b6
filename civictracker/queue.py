"""Enqueue jobs by id: on rq when Redis is configured, inline in this process otherwise."""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app

from civictracker.config import ConfigError, Settings

log = logging.getLogger(__name__)


class JobQueue:
    """The one way the app starts background work; callers commit first, then enqueue ids."""

    def __init__(self, app: Flask, *, redis_url: str = "", queue_name: str = "civictracker") -> None:
        self.app = app
        self.redis_url = redis_url
        self.queue_name = queue_name
        self._queue: Any = None
        self.inline_errors: list[str] = []  # failures of inline jobs, kept for the demo and tests

    @classmethod
    def from_settings(cls, app: Flask, settings: Settings, *, check: bool = True) -> JobQueue:
        queue = cls(app, redis_url=settings.redis_url, queue_name=settings.queue_name)
        if settings.redis_url and check:
            queue.ping()
        return queue

    @property
    def is_inline(self) -> bool:
        return not self.redis_url

    def ping(self) -> None:
        from redis.exceptions import RedisError

        try:
            self.connection().ping()
        except RedisError as exc:
            raise ConfigError(
                f"Cannot reach Redis at {self.redis_url} ({exc}). Start redis-server, or unset "
                "CIVICTRACKER_REDIS_URL to run jobs inline."
            ) from None

    def connection(self) -> Any:
        from redis import Redis

        return Redis.from_url(self.redis_url)

    def rq_queue(self) -> Any:
        if self._queue is None:
            from rq import Queue

            self._queue = Queue(self.queue_name, connection=self.connection())
        return self._queue

    def enqueue(
        self,
        func: Callable[..., Any] | str,
        *args: Any,
        job_id: str | None = None,
        at_front: bool = False,
        delay: dt.timedelta | None = None,
    ) -> None:
        """Run `func(*args)` in the background (rq) or now (inline); args are ids and plain values.

        `func` may be a job's import path ("package.module.function"), as rq stores it: a module may then
        enqueue a job defined in a module that imports it."""
        if not self.is_inline:
            queue = self.rq_queue()
            if delay:
                queue.enqueue_in(delay, func, *args, job_id=job_id)
            else:
                queue.enqueue(func, *args, job_id=job_id, at_front=at_front)
            return
        if delay:
            # Inline mode has no scheduler: delayed work (retries) is picked up by the next outbox sweep.
            return
        try:
            (_import_job(func) if isinstance(func, str) else func)(*args)
        except Exception as exc:  # an inline job must not fail the request that enqueued it
            log.exception("inline job %s%r failed", getattr(func, "__name__", func), args)
            self.inline_errors.append(f"{getattr(func, '__name__', func)}{args!r}: {exc}")


def enqueue_after_commit(app: Flask, why: str, enqueue: Callable[[], None]) -> bool:
    """Run `enqueue` (the work is committed already); if Redis refuses it, log and go on.

    The caller's work is done and must be answered as done: an error here would make a client retry it
    (a second ticket). A periodic job finds what was not enqueued (`why` names it in the log).
    """
    from redis.exceptions import RedisError

    try:
        enqueue()
    except RedisError as exc:
        log.warning("could not enqueue after commit (%s); %s", exc, why)
        return False
    return True


def _import_job(path: str) -> Callable[..., Any]:
    module, _, name = path.rpartition(".")
    job: Callable[..., Any] = getattr(importlib.import_module(module), name)
    return job


def get_queue(app: Flask | None = None) -> JobQueue:
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    queue = app.extensions["civictracker.queue"]
    assert isinstance(queue, JobQueue)
    return queue
