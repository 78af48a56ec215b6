"""Failed-login counting per (address, account) over a sliding 15-minute window.

The store is in process memory: right for the embedded single-process default. Behind several
workers each process counts on its own, so the effective limit is the limit times the worker count.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

WINDOW_S = 15 * 60


class LoginLimiter:
    """Counts failures; a key at the limit is refused until its oldest failure leaves the window."""

    def __init__(self, limit: int, window_s: float = WINDOW_S) -> None:
        self.limit = limit
        self.window_s = window_s
        self._failures: dict[tuple[str, str], deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _trim(self, key: tuple[str, str], now: float) -> deque[float]:
        q = self._failures[key]
        while q and q[0] <= now - self.window_s:
            q.popleft()
        return q

    def blocked_for(self, address: str, account: str, now: float | None = None) -> float:
        """Seconds until this key may try again; 0 when it may try now."""
        now = time.monotonic() if now is None else now
        with self._lock:
            q = self._trim((address, account), now)
            if len(q) < self.limit:
                return 0.0
            return max(1.0, q[0] + self.window_s - now)

    def fail(self, address: str, account: str, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        with self._lock:
            self._trim((address, account), now).append(now)
            if len(self._failures) > 100_000:  # bound memory under a spray of accounts
                for k in [k for k, v in self._failures.items() if not v]:
                    del self._failures[k]

    def reset(self, address: str, account: str) -> None:
        with self._lock:
            self._failures.pop((address, account), None)
