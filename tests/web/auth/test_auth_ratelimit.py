"""The login limit lives in the rate-limit storage: two app instances (two gunicorn workers) on one Redis
share it, and the embedded default counts in memory."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from auth_helpers import PASSWORD, login, make_user
from flask_limiter import Limiter
from limits.storage import MemoryStorage, RedisStorage

from civictracker.extensions import db
from civictracker.web.auth.ratelimit import LoginLimiter
from civictracker.web.ratelimits import limiter_of
from tests.conftest import REDIS_URL, drop_app, make_app


def test_two_apps_on_one_redis_share_the_login_limit(tmp_path: Path) -> None:
    shared = {"redis_url": REDIS_URL, "queue_name": f"ct-test-{uuid.uuid4().hex[:8]}", "login_rate_limit": 2}
    first, _ = make_app("sqlite", tmp_path, **shared)
    second, _ = make_app("sqlite", tmp_path, **shared)  # same database, another "worker" process
    try:
        assert isinstance(limiter_of(first).storage, RedisStorage)
        with first.app_context():
            user = make_user(db.session)
            email = user.email
        one, two = first.test_client(), second.test_client()
        for _ in range(2):
            assert login(one, email, "wrong-password!").status_code == 401
        # The other instance has seen no failure itself, yet refuses even the right password.
        r = login(two, email)
        assert r.status_code == 429 and b"Too many failed attempts" in r.data
        assert login(one, email, PASSWORD).status_code == 429
    finally:
        drop_app(second, None)
        drop_app(first, None)


def test_without_redis_the_limit_counts_in_memory(tmp_path: Path) -> None:
    app, _ = make_app("sqlite", tmp_path, login_rate_limit=1)
    try:
        limiter = limiter_of(app)
        assert isinstance(limiter, Limiter) and isinstance(limiter.storage, MemoryStorage)
        with app.app_context():
            email = make_user(db.session).email
        client = app.test_client()
        assert login(client, email, "wrong-password!").status_code == 401
        assert login(client, email).status_code == 429
    finally:
        drop_app(app, None)


def _race(limiter: LoginLimiter, accounts: int, attempts: int) -> int:
    """`attempts` wrong passwords from one address over `accounts` accounts, 8 threads at once: how many
    were let through to the password check."""
    admitted = []
    barrier = threading.Barrier(8)

    def attempt(n: int) -> None:
        if n < 8:
            barrier.wait()
        if limiter.admit("10.0.0.9", f"user{n % accounts}") == 0:
            time.sleep(0.002)  # the password check; the attempt failed, so its places are kept
            admitted.append(n)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(attempt, range(attempts)))
    return len(admitted)


def test_racing_attempts_from_one_address_never_pass_the_address_limit() -> None:
    """Reserve-then-check: 60 racing attempts over 12 accounts admit exactly the address limit, on both
    stores; a success gives its place back, so successes never lock an office out."""
    stores = [MemoryStorage(), RedisStorage(REDIS_URL)]
    for storage in stores:
        prefix = f"ct-test-{uuid.uuid4().hex[:8]}"
        limiter = LoginLimiter(10, storage=storage, prefix=prefix, address_limit=30)
        assert _race(limiter, accounts=12, attempts=60) == 30
        # A success (a valid account) gives back one place; failures stay counted.
        office = LoginLimiter(10, storage=storage, prefix=prefix + "o", address_limit=3)
        for n in range(20):
            assert office.admit("10.0.0.1", f"staff{n}") == 0
            office.reset("10.0.0.1", f"staff{n}")
        assert _race(office, accounts=5, attempts=10) == 3
