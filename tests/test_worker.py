"""The worker's teardown returns at once, even when its listener reads the UNSUBSCRIBE reply first."""

from __future__ import annotations

import threading
import time
from typing import Any

from redis import Redis
from rq import Queue, SimpleWorker

from civictracker.jobs.worker import Worker
from tests.conftest import REDIS_URL


def _unsubscribe_with_slow_unsubscribe(worker_class: type[SimpleWorker]) -> tuple[float, bool]:
    """Subscribe a worker, then tear its listener down with an UNSUBSCRIBE that lingers 0.3 s after it
    is sent, so the listener thread surely reads the reply before anything else happens (the
    interleaving that made rq 3's own teardown hang 60 s at random). Returns (seconds, thread alive)."""
    connection = Redis.from_url(REDIS_URL)
    worker = worker_class([Queue("ct-test-teardown", connection=connection)], connection=connection)
    worker.subscribe()
    assert worker.pubsub is not None and worker.pubsub_thread is not None
    time.sleep(0.2)  # the listener is now blocked reading its socket
    send = worker.pubsub.unsubscribe

    def slow_unsubscribe(*args: Any) -> Any:
        sent = send(*args)
        time.sleep(0.3)
        return sent

    worker.pubsub.unsubscribe = slow_unsubscribe  # type: ignore[method-assign]
    # rq's teardown can block for a minute: run it aside and stop looking after 5 s.
    started = time.monotonic()
    teardown = threading.Thread(target=worker.unsubscribe, daemon=True)
    teardown.start()
    teardown.join(timeout=5)
    return time.monotonic() - started, worker.pubsub_thread.is_alive()


def test_worker_teardown_does_not_wait_for_the_listener_poll() -> None:
    seconds, listener_alive = _unsubscribe_with_slow_unsubscribe(Worker)
    assert seconds < 2 and not listener_alive
