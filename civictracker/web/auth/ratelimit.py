"""Login attempts counted per account and per address over a moving 15-minute window, in Flask-Limiter's
storage.

The counts live in the app's rate-limit storage (`web/ratelimits.py`): Redis when CIVICTRACKER_REDIS_URL
is set, so the limit holds across gunicorn workers and hosts; memory for the one-process default.

An attempt takes its place in the (address, account) window before the password is checked (one atomic
`hit`, a Lua script on Redis): four workers checking "not blocked yet" at the same moment can no longer
all go on. That key is at the login limit and cleared by a success. The address alone has a second
window, at ADDRESS_FACTOR times the limit, which counts failures only and is never cleared by a success:
one address trying many accounts is stopped, a valid account of the attacker's cannot reset it, and an
office whose staff all log in from one address is never locked out by their own successes. It is exact
under racing workers too: every attempt reserves its place in the address window atomically before the
password is checked, and a success gives back one place (the newest entry), so what stays counted is
the failures, and no more than the address limit can ever be in the check at once.

Storage down (Redis away): login fails closed (429, logged). A login that is not limited is a password
guessing service; staff can wait for Redis, an attacker must not get unlimited guesses meanwhile.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

log = logging.getLogger(__name__)

WINDOW_S = 15 * 60
ADDRESS_FACTOR = 3  # attempts per address (any accounts) per window, as a multiple of the per-account limit
STORAGE_DOWN_WAIT_S = 60.0


class LoginLimiter:
    """Admits attempts while both windows have room; a key at its limit waits for its oldest attempt."""

    def __init__(
        self,
        limit: int,
        window_s: float = WINDOW_S,
        storage: Storage | None = None,
        prefix: str = "",
        address_limit: int | None = None,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._item = RateLimitItemPerSecond(limit, int(window_s))
        self._address_item = RateLimitItemPerSecond(address_limit or limit * ADDRESS_FACTOR, int(window_s))
        self._storage = storage or MemoryStorage()
        self._strategy = MovingWindowRateLimiter(self._storage)
        self._prefix = prefix

    def _key(self, address: str, account: str) -> tuple[str, ...]:
        return (self._prefix, "login", address, account)

    def _address_key(self, address: str) -> tuple[str, ...]:
        return (self._prefix, "login-address", address)

    def admit(self, address: str, account: str) -> float:
        """Take a place for this attempt: 0 when it may go on, else the seconds to wait (nothing kept)."""
        try:
            by_address = self._address_key(address)
            if not self._strategy.hit(self._address_item, *by_address):
                reset_at = self._strategy.get_window_stats(self._address_item, *by_address).reset_time
                return max(1.0, reset_at - time.time())
            by_account = self._key(address, account)
            if not self._strategy.hit(self._item, *by_account):
                self._give_back(self._address_item, by_address)  # not tried: only failures stay counted
                reset_at = self._strategy.get_window_stats(self._item, *by_account).reset_time
                return max(1.0, reset_at - time.time())
        except Exception as exc:  # the storage (Redis) is away: fail closed, see the module docstring
            log.warning("login refused: the rate-limit storage is unreachable (%s)", exc)
            return STORAGE_DOWN_WAIT_S
        return 0.0

    def _give_back(self, item: RateLimitItem, key: tuple[str, ...]) -> None:
        """Remove the newest entry of a moving window (the `limits` API has no refund; both of its
        moving-window stores keep a key's entries newest first, a Redis list and a Python list)."""
        name = item.key_for(*key)
        storage = self._storage
        if isinstance(storage, RedisStorage):
            connection: Any = storage.get_connection()  # a redis.Redis; limits types it as a protocol
            connection.lpop(storage.prefixed_key(name))
        elif isinstance(storage, MemoryStorage):
            with storage.locks[name]:
                if storage.events.get(name):
                    storage.events[name].pop(0)
        else:  # another store: the attempt stays counted, which errs on the safe side
            log.warning("login limit: cannot give back a place in %s", type(storage).__name__)

    def blocked_for(self, address: str, account: str) -> float:
        """Seconds until this key may try again, without taking a place; 0 when it may try now."""
        for item, key in (
            (self._address_item, self._address_key(address)),
            (self._item, self._key(address, account)),
        ):
            if not self._strategy.test(item, *key):
                return max(1.0, self._strategy.get_window_stats(item, *key).reset_time - time.time())
        return 0.0

    def reset(self, address: str, account: str) -> None:
        """A success clears its account's window and gives back its place in the address window."""
        try:
            self._strategy.clear(self._item, *self._key(address, account))
            self._give_back(self._address_item, self._address_key(address))
        except Exception as exc:
            log.warning("could not clear the login window of %s: %s", account, exc)
