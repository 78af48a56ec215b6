"""Helpers for intake tests: build posts and run them through the real jobs."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from civictracker.channels.base import IncomingPost
from civictracker.extensions import db
from civictracker.intake.receive import receive_post
from civictracker.jobs import posts as jobs
from civictracker.jobs.worker import Worker
from civictracker.models import InboundPost
from civictracker.queue import get_queue
from tests.conftest import REDIS_URL, drop_app, make_app

_ids = itertools.count(1)


def incoming(
    text: str,
    *,
    author: str = "u1",
    handle: str | None = None,
    kind: str = "mention",
    reply_to: str | None = None,
    ext: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    channel: str = "replay",
) -> IncomingPost:
    return IncomingPost(
        channel=channel,
        external_id=ext or f"t-{next(_ids)}",
        kind=kind,
        author_id=author,
        author_handle=handle or f"h_{author}",
        text=text,
        created_at=dt.datetime.now(dt.UTC),
        in_reply_to_id=reply_to,
        conversation_id=reply_to,
        lat=lat,
        lon=lon,
    )


def deliver(text: str, **kwargs: object) -> InboundPost:
    """Store a post, commit, process it with the real job; returns the reloaded post."""
    post, _ = receive_post(db.session, incoming(text, **kwargs))  # type: ignore[arg-type]
    db.session.commit()
    jobs.process_post(post.id)
    db.session.expire_all()
    stored = db.session.get(InboundPost, post.id)
    assert stored is not None
    return stored


@contextmanager
def rq_app_on(backend: str, tmp_path: Path, *, prefix: str = "ct-test", **overrides: Any) -> Iterator[Flask]:
    """A migrated app whose jobs go to a fresh rq queue on the test Redis (db 15); queue and database are
    removed afterwards."""
    app, pg_db = make_app(
        backend, tmp_path, redis_url=REDIS_URL, queue_name=f"{prefix}-{uuid.uuid4().hex[:8]}", **overrides
    )
    queue = get_queue(app)
    with app.app_context():
        yield app
    queue.rq_queue().empty()
    queue.rq_queue().delete(delete_jobs=True)
    drop_app(app, pg_db)


def work_burst(app: Flask) -> None:
    """Run every queued job (and the jobs they enqueue) in the product's worker, then return."""
    queue = get_queue(app)
    Worker([queue.rq_queue()], connection=queue.connection()).work(burst=True)


def count_rows(model: Any, *where: Any) -> int:
    """How many rows of `model` match `where`."""
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)
