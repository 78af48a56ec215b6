"""Intake jobs: process a stored post, poll a channel, retry failed posts (ids in, one commit each).

The outbox jobs live in `outbox.py`; they are re-exported here, where earlier releases defined them, so
jobs already queued under these names still run.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import select

from civictracker.extensions import db
from civictracker.intake.context import job_context
from civictracker.intake.outbox import (  # noqa: F401  (sweep_outbox re-exported: queued jobs name it here)
    send_outbound,
    sweep_outbox,
)
from civictracker.models import ChannelCursor, InboundPost, OutboundMessage
from civictracker.models.types import utcnow

log = logging.getLogger(__name__)


def _env(app: Flask) -> Any:
    from civictracker.app import city_of, settings_of
    from civictracker.intake.pipeline import PipelineEnv
    from civictracker.services.geocoding import city_gazetteer
    from civictracker.services.notify import reply_context

    cached = app.extensions.get("civictracker.pipeline_env")
    if cached is not None:
        return cached
    settings, city = settings_of(app), city_of(app)
    env = PipelineEnv(
        gazetteer=city_gazetteer(city.path, settings, city.name),
        replies=reply_context(),
        services=city.services,
        dedupe_radius_m=settings.dedupe_radius_m,
        dedupe_window_days=settings.dedupe_window_days,
        blocked=frozenset(b.strip().lower() for b in settings.blocked_accounts.split(",") if b.strip()),
        reply_to_non_requests=settings.reply_to_non_requests,
    )
    app.extensions["civictracker.pipeline_env"] = env
    return env


def process_post(post_id: int) -> str:
    """Run the intake pipeline on one stored post; a crash is recorded on the post and retried."""
    from civictracker.intake.pipeline import process_post as run_pipeline

    with job_context() as app:
        env = _env(app)
        try:
            post = run_pipeline(db.session, post_id, env)
            outcome = post.outcome or post.state
            message_ids = _pending_message_ids_for_post(post)
            db.session.commit()
        except Exception as exc:
            db.session.rollback()
            post = db.session.get(InboundPost, post_id)
            if post is not None:
                post.state = "failed"
                post.error = f"{type(exc).__name__}: {exc}"[:2000]
                post.attempts += 1
                db.session.commit()
            raise
        from civictracker.intake.queue import get_queue

        queue = get_queue(app)
        for message_id in message_ids:
            queue.enqueue(send_outbound, message_id, job_id=f"send-{message_id}", at_front=True)
        return outcome


def _pending_message_ids_for_post(post: InboundPost) -> list[int]:
    """The replies to send now: those this post queued, and any other pending on a ticket it joined."""
    from civictracker.intake.pipeline import post_run

    db.session.flush()  # the queued rows get their ids
    run = post_run(db.session)  # type: ignore[arg-type]  # scoped proxy
    ids = {m.id for m in run.messages if m.state == "pending"}
    if post.ticket_id and post.ticket_id not in run.tickets:
        # An existing ticket may have replies still waiting: they go out with this one, as they always did.
        # A ticket this post created has none but the ones it queued (nothing else queues by post id).
        ids.update(
            db.session.scalars(
                select(OutboundMessage.id).where(
                    OutboundMessage.ticket_id == post.ticket_id, OutboundMessage.state == "pending"
                )
            )
        )
    return sorted(ids)


def enqueue_processing(app: Flask, post_ids: list[int]) -> None:
    """One process_post job per stored post, under the post's job id (a repeat is one job, not two)."""
    from civictracker.intake.queue import get_queue

    queue = get_queue(app)
    for post_id in post_ids:
        queue.enqueue(process_post, post_id, job_id=f"post-{post_id}")


def poll_channel(name: str) -> int:
    """Fetch new posts from one channel since its stored cursor; store each, then enqueue its processing."""
    from civictracker.app import city_of, settings_of
    from civictracker.intake.pipeline import receive_posts
    from civictracker.intake.registry import get_channel

    with job_context() as app:
        channel = get_channel(settings_of(app), name, pack_dir=city_of(app).path)
        row = db.session.get(ChannelCursor, name)
        result = channel.fetch_since(row.cursor if row else None)
        received = receive_posts(db.session, list(result.posts))  # type: ignore[arg-type]  # scoped proxy
        new_ids = [post.id for post, created in received if created]
        if row is None:
            row = ChannelCursor(channel=name)
            db.session.add(row)
        row.cursor = result.cursor
        row.updated_at = utcnow()
        db.session.commit()  # posts and cursor together: a crash re-fetches, the unique key drops repeats
        enqueue_processing(app, new_ids)
        return len(new_ids)


def retry_failed_posts(max_attempts: int = 5) -> int:
    """Re-run posts whose processing crashed (a bug fixed, a database back): nothing is lost."""
    with job_context() as app:
        ids = list(
            db.session.scalars(
                select(InboundPost.id).where(
                    InboundPost.state.in_(["failed", "received"]), InboundPost.attempts < max_attempts
                )
            )
        )
        db.session.rollback()
        enqueue_processing(app, ids)
        return len(ids)
