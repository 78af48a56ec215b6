"""The login limit lives in the rate-limit storage: two app instances (two gunicorn workers) on one Redis
share it, and the embedded default counts in memory."""

from __future__ import annotations

import uuid
from pathlib import Path

from auth_helpers import PASSWORD, login, make_user
from flask_limiter import Limiter
from limits.storage import MemoryStorage, RedisStorage

from civictracker.extensions import db
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
