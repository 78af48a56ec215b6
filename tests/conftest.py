"""Shared fixtures: the app and database on both backends (SQLite/SpatiaLite and PostgreSQL/PostGIS)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text
from sqlalchemy.orm import Session

# A test run fails, never skips, when a backend is missing (CI must prove both work).
PG_ADMIN_URL = os.environ.get(
    "CIVICTRACKER_TEST_PG_ADMIN_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("CIVICTRACKER_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
BACKENDS = ["sqlite", "postgis"]


def _pg_url(dbname: str) -> str:
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


def _pg_admin(sql: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def make_app(backend: str, tmp: Path, **overrides: object) -> tuple[Flask, str | None]:
    """A migrated app on a brand-new database; returns the app and the PG database to drop, if any."""
    from civictracker.app import create_app
    from civictracker.bootstrap import prepare_database

    pg_db = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'test.sqlite'}"
    else:
        pg_db = f"ct_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
        _pg_admin(f'CREATE DATABASE "{pg_db}"')
        url = _pg_url(pg_db)
    config: dict[str, object] = {
        "database_url": url,
        "instance_path": str(tmp / "instance"),
        "secret_key": "test-secret",
        "extra": {"TESTING": True, "WTF_CSRF_ENABLED": False},
        # The session-wide apps serve thousands of API requests from 127.0.0.1; the Open311 limits have
        # their own tests (tests/web/open311/test_open311_ratelimit.py).
        "open311_rate_limit": "",
        "open311_post_rate_limit": "",
    }
    config.update(overrides)
    app = create_app(config)
    prepare_database(app)
    return app, pg_db


def drop_app(app: Flask, pg_db: str | None) -> None:
    from civictracker.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if pg_db:
        _pg_admin(f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def backend_app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    tmp = tmp_path_factory.mktemp(f"app-{request.param}")
    app, pg_db = make_app(request.param, tmp)
    app.config["CT_BACKEND"] = request.param
    yield app
    drop_app(app, pg_db)


# Tables emptied between tests, children first; services (the catalog) stay loaded.
_DATA_TABLES = [
    "outbound_messages",
    "followers",
    "ticket_events",
    "inbox_events",
    "post_media_events",
    "post_media",
    "inbound_posts",
    "tickets",
    "reporters",
    "api_keys",
    "admin_events",
    "reply_overrides",
    "password_resets",
    "users",
    "crews",
    "channel_cursors",
    "rejected_inputs",
]


def _clean(app: Flask) -> None:
    from civictracker.extensions import db

    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text(f"TRUNCATE {', '.join(_DATA_TABLES)} RESTART IDENTITY CASCADE"))
            else:
                conn.execute(text("UPDATE tickets SET duplicate_of_id = NULL"))
                for table in _DATA_TABLES:
                    conn.execute(text(f"DELETE FROM {table}"))


@pytest.fixture()
def app(backend_app: Flask) -> Iterator[Flask]:
    """The app on each backend with empty data tables and the Cambridge services loaded."""
    _clean(backend_app)
    with backend_app.app_context():
        yield backend_app
    _clean(backend_app)


@pytest.fixture()
def db(app: Flask) -> Session:
    from civictracker.extensions import db as ext_db

    return ext_db.session


@pytest.fixture()
def client(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture()
def backend(app: Flask) -> str:
    return str(app.config["CT_BACKEND"])
