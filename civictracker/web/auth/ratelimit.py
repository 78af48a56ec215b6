"""Failed-login counting per (address, account) over a moving 15-minute window, in Flask-Limiter's storage.

The counts live in the app's rate-limit storage (`web/ratelimits.py`): Redis when CIVICTRACKER_REDIS_URL
is set, so the limit holds across gunicorn workers and hosts; memory for the one-process default. Only
failures count (a login route limit would count successes too), and a success clears the key.
"""

from __future__ import annotations

import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage, Storage
from limits.strategies import MovingWindowRateLimiter

WINDOW_S = 15 * 60


class LoginLimiter:
    """Counts failures; a key at the limit is refused until its oldest failure leaves the window."""

    def __init__(
        self, limit: int, window_s: float = WINDOW_S, storage: Storage | None = None, prefix: str = ""
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._item = RateLimitItemPerSecond(limit, int(window_s))
        self._strategy = MovingWindowRateLimiter(storage or MemoryStorage())
        self._prefix = prefix

    def _key(self, address: str, account: str) -> tuple[str, ...]:
        return (self._prefix, "login", address, account)

    def blocked_for(self, address: str, account: str) -> float:
        """Seconds until this key may try again; 0 when it may try now."""
        key = self._key(address, account)
        if self._strategy.test(self._item, *key):
            return 0.0
        reset_at = self._strategy.get_window_stats(self._item, *key).reset_time
        return max(1.0, reset_at - time.time())

    def fail(self, address: str, account: str) -> None:
        self._strategy.hit(self._item, *self._key(address, account))

    def reset(self, address: str, account: str) -> None:
        self._strategy.clear(self._item, *self._key(address, account))
