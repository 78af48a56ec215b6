"""Jobs on the real Redis with an rq SimpleWorker in burst mode, on both database backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from civictracker.extensions import db
from civictracker.intake.receive import receive_post
from civictracker.jobs import posts as jobs
from civictracker.models import InboundPost, OutboundMessage
from civictracker.queue import get_queue
from tests.conftest import BACKENDS
from tests.intake.helpers import incoming, rq_app_on, work_burst


@pytest.fixture(params=BACKENDS)
def rq_app(request, tmp_path: Path):  # type: ignore[no-untyped-def]
    with rq_app_on(request.param, tmp_path) as app:
        yield app


def test_post_processed_by_worker_then_reply_sent(rq_app) -> None:  # type: ignore[no-untyped-def]
    post, _ = receive_post(db.session, incoming("pothole at 150 Hampshire St", author="w1"))
    db.session.commit()
    queue = get_queue(rq_app)
    assert not queue.is_inline
    queue.enqueue(jobs.process_post, post.id, job_id=f"post-{post.id}")
    assert db.session.get(InboundPost, post.id).state == "received"  # nothing ran yet: it is queued
    work_burst(rq_app)  # runs process_post, which enqueues send_outbound; burst drains both
    db.session.expire_all()
    stored = db.session.get(InboundPost, post.id)
    assert stored.outcome == "created"
    message = db.session.scalars(select(OutboundMessage)).one()
    assert message.state == "sent" and message.sent_external_id


def test_crashed_job_is_recorded_on_the_post(rq_app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import civictracker.services.dedupe as dedupe

    def boom(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("worker crashed mid-way")

    monkeypatch.setattr(dedupe, "find_duplicate", boom)
    post, _ = receive_post(db.session, incoming("pothole at 150 Hampshire St", author="w2"))
    db.session.commit()
    get_queue(rq_app).enqueue(jobs.process_post, post.id, job_id=f"post-{post.id}")
    work_burst(rq_app)
    db.session.expire_all()
    stored = db.session.get(InboundPost, post.id)
    assert stored.state == "failed" and "worker crashed" in stored.error
    assert get_queue(rq_app).rq_queue().failed_job_registry.count == 1
