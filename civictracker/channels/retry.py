"""Backoff for channel calls: how long to wait after a failure, and a retry loop with injectable sleep."""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from civictracker.channels.base import ChannelError

log = logging.getLogger(__name__)

T = TypeVar("T")


def backoff_delay(
    attempt: int,
    *,
    base: float = 2.0,
    cap: float = 900.0,
    retry_after: float | None = None,
    jitter: float = 0.1,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt `attempt + 1` (attempt counts from 1).

    Exponential (base * 2**(attempt-1)) up to `cap`, with +-`jitter` spread so a fleet of workers does
    not retry in lockstep. A platform's own `retry_after` (rate-limit reset) wins when it is longer:
    retrying before the reset only earns another 429.
    """
    delay = min(cap, base * (2 ** max(0, attempt - 1)))
    if jitter:
        delay *= 1 + (rng or random).uniform(-jitter, jitter)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return max(0.0, delay)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from an HTTP Retry-After header (seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def call_with_retry(
    fn: Callable[[], T],
    *,
    attempts: int = 5,
    base: float = 1.0,
    cap: float = 60.0,
    max_wait: float = 300.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Call `fn`, retrying retryable ChannelErrors with backoff; re-raise the last error or a permanent one.

    Meant for reads (fetch, post_exists). A send must not be blindly retried: a timeout or 5xx may come
    after the post was made, so sends go through `base.deliver_once(maybe_sent=True)` instead.

    A wait longer than `max_wait` is not slept through here (a poller should not block for a 15-minute
    rate-limit window): the error is re-raised with its `retry_after` for the scheduler to honour.
    """
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except ChannelError as exc:
            if not exc.retryable or attempt == attempts:
                raise
            delay = backoff_delay(attempt, base=base, cap=cap, retry_after=exc.retry_after)
            if delay > max_wait:
                raise
            log.warning("channel call failed (%s); retry %s/%s in %.1fs", exc, attempt, attempts, delay)
            sleep(delay)
    raise AssertionError("unreachable")
