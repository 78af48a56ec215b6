"""Read budgets per endpoint: spend a platform's read limit evenly over its window, with a reserve."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from civictracker.channels.limits import Tier


@dataclass
class _Bucket:
    tokens: float
    last: float
    remaining: int | None = None  # from the platform's headers, when seen
    reset: float = 0.0


class ReadBudget:
    """When each endpoint may be read again, from the tier's table (channels/limits.py) and the headers.

    A poll is due when its bucket holds a token: tokens refill at limit/window per second up to `burst`,
    so polls come no faster than the limit allows on average (X DM lookups: one a minute) while a quiet
    account still answers a first poll at once. The platform's own `remaining` is the hard stop: polls
    leave the last `reserve` calls of a window to `find_sent` (priority reads), which share the bucket.
    """

    def __init__(
        self, tier: Tier, *, clock: Callable[[], float] = time.time, burst: float = 2.0, reserve: int = 1
    ) -> None:
        self.tier = tier
        self._clock = clock
        self.burst = burst
        self.reserve = reserve
        self._buckets: dict[str, _Bucket] = {}

    def _bucket(self, label: str) -> tuple[_Bucket, float] | None:
        name = self.tier.read_buckets.get(label, label)
        window = self.tier.reads.get(name)
        if window is None:
            return None
        rate = window.limit / window.window_s
        now = self._clock()
        bucket = self._buckets.get(name)
        if bucket is None:
            bucket = self._buckets[name] = _Bucket(tokens=min(self.burst, window.limit), last=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.last) * rate)
        bucket.last = now
        return bucket, rate

    def due_in(self, label: str, *, priority: bool = False) -> float:
        """Seconds until `label` may be read (0: now). `priority` reads (find_sent) may use the reserve."""
        found = self._bucket(label)
        if found is None:
            return 0.0
        bucket, rate = found
        now = self._clock()
        keep = 0 if priority else self.reserve
        if bucket.remaining is not None and bucket.remaining <= keep and bucket.reset > now:
            return bucket.reset - now
        if priority or bucket.tokens >= 1:
            return 0.0
        return (1 - bucket.tokens) / rate

    def spend(self, label: str) -> None:
        found = self._bucket(label)
        if found is not None:
            found[0].tokens -= 1

    def note(self, label: str, remaining: int, reset: float) -> None:
        """The platform's count for the endpoint's current window (x-rate-limit-remaining / -reset)."""
        found = self._bucket(label)
        if found is not None:
            found[0].remaining, found[0].reset = remaining, reset

    def interval(self, label: str) -> float:
        """The average seconds between reads the limit allows (0: not limited)."""
        name = self.tier.read_buckets.get(label, label)
        window = self.tier.reads.get(name)
        return window.window_s / window.limit if window else 0.0
