"""The rq worker class every civictracker worker runs (the CLI command and the tests' burst worker)."""

from __future__ import annotations

import contextlib

from redis.exceptions import ConnectionError as RedisConnectionError
from rq import SimpleWorker


class Worker(SimpleWorker):
    """rq's SimpleWorker (jobs run in this process, no fork per job) with a teardown that never stalls.

    rq 3.0 tears its command listener down as: UNSUBSCRIBE, then `pubsub_thread.stop()`, then
    `join(timeout=1)`. The listener thread can read the UNSUBSCRIBE reply before `stop()` clears its
    loop flag; it then loops into `get_message(timeout=60)`, which, with no channel left, waits up to
    60 s for a subscription. redis-py 8's `stop()` itself joins the thread with no timeout, so the
    worker's exit (a burst's end, a SIGTERM) hung for up to 60 s at random. Clearing the flag
    first means the UNSUBSCRIBE reply that wakes the thread's blocked read also ends its loop.
    """

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
