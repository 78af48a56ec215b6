"""Background jobs: they take ids, reload rows, run in an app context, and commit once each."""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import func, or_, select

from civictracker.extensions import db
from civictracker.intake.channels.base import ChannelError, ReplyTarget
from civictracker.models import ChannelCursor, InboundPost, OutboundMessage, Reporter, Ticket
from civictracker.models.types import utcnow

log = logging.getLogger(__name__)

SENDING_STALE_AFTER = dt.timedelta(minutes=2)  # a "sending" row older than this lost its worker


@contextmanager
def job_context() -> Iterator[Flask]:
    """Reuse the worker's app context when there is one (no per-job app), else build one."""
    if has_app_context():
        yield current_app._get_current_object()  # type: ignore[attr-defined]
        return
    from civictracker.app import create_app

    app = create_app()
    with app.app_context():
        yield app


def _env(app: Flask) -> Any:
    from civictracker.app import city_of, settings_of
    from civictracker.intake.pipeline import PipelineEnv
    from civictracker.services.geocoding import get_gazetteer
    from civictracker.services.notify import reply_context

    cached = app.extensions.get("civictracker.pipeline_env")
    if cached is not None:
        return cached
    settings, city = settings_of(app), city_of(app)
    env = PipelineEnv(
        gazetteer=get_gazetteer(city.path, settings.resolved_instance_path / "cache"),
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
    db.session.flush()
    conds = [OutboundMessage.post_id == post.id]
    if post.ticket_id:
        conds.append(OutboundMessage.ticket_id == post.ticket_id)
    return list(
        db.session.scalars(
            select(OutboundMessage.id)
            .where(or_(*conds), OutboundMessage.state == "pending")
            .order_by(OutboundMessage.id)
        )
    )


def backoff(attempts: int, retry_after: float | None = None) -> dt.timedelta:
    """Exponential backoff with jitter, at least what the platform asked for."""
    base = min(3600.0, 5.0 * (2 ** max(0, attempts - 1)))
    wait = base * (0.8 + 0.4 * random.random())
    return dt.timedelta(seconds=max(wait, retry_after or 0.0))


def send_outbound(message_id: int) -> str:
    """Post one outbound message in its thread (DM by DM), exactly once, with retries and a dead end."""
    from civictracker.app import city_of, settings_of
    from civictracker.intake.registry import get_channel

    with job_context() as app:
        settings = settings_of(app)
        stmt = select(OutboundMessage).where(OutboundMessage.id == message_id)
        if db.session.get_bind().dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)  # another worker has it: leave it
        msg = db.session.scalar(stmt)
        now = utcnow()
        if msg is None or msg.state in {"sent", "dead", "cancelled"}:
            db.session.rollback()
            return "skipped"
        if msg.state == "sending" and now - msg.next_attempt_at < SENDING_STALE_AFTER:
            db.session.rollback()
            return "in_flight"
        reporter = db.session.get(Reporter, msg.reporter_id) if msg.reporter_id else None
        if reporter is not None and reporter.opted_out and msg.kind != "opt_out":
            msg.state = "cancelled"
            msg.last_error = "The resident opted out."
            db.session.commit()
            return "cancelled"
        channel = get_channel(settings, msg.channel, pack_dir=city_of(app).path)
        target = ReplyTarget(
            channel=msg.channel,
            is_dm=msg.is_dm,
            recipient_id=msg.recipient_id,
            recipient_handle=msg.recipient_handle,
            in_reply_to_id=msg.in_reply_to_id,
            conversation_id=msg.conversation_id,
            visibility=msg.visibility,
        )
        was_in_flight = msg.state == "sending"
        # Record the attempt before posting: if this process dies after the platform accepted the post,
        # the next attempt sees "sending" and asks the platform (find_sent) instead of posting again.
        msg.state = "sending"
        msg.attempts += 1
        msg.next_attempt_at = now
        db.session.commit()
        try:
            sent = (
                channel.find_sent(target, msg.idempotency_key)
                if (was_in_flight or msg.attempts > 1)
                else None
            )
            if sent is None:
                sent = channel.send(target, msg.text, idempotency_key=msg.idempotency_key)
        except ChannelError as exc:
            msg.last_error = str(exc)[:2000]
            if exc.retryable and msg.attempts < settings.outbox_max_attempts:
                msg.state = "failed"
                msg.next_attempt_at = now + backoff(msg.attempts, exc.retry_after)
                db.session.commit()
                from civictracker.intake.queue import get_queue

                get_queue(app).enqueue(send_outbound, msg.id, delay=msg.next_attempt_at - now)
                return "retry"
            msg.state = "dead"
            db.session.commit()
            log.warning("outbound message %s is dead after %s attempts: %s", msg.id, msg.attempts, exc)
            return "dead"
        msg.state = "sent"
        msg.sent_external_id = sent.external_id
        msg.sent_at = utcnow()
        if msg.ticket_id:
            ticket = db.session.get(Ticket, msg.ticket_id)
            if ticket is not None and ticket.first_public_reply_at is None:
                ticket.first_public_reply_at = msg.sent_at
        db.session.commit()
        return "sent"


def outbox_policy(settings: Any) -> Any:
    """Per-account posting caps from the settings; the replay/log demo channel is uncapped."""
    from civictracker.intake.outbox_schedule import DM, POST, Cap, Policy

    x_post = (Cap(settings.x_posts_per_3h, 3 * 3600), Cap(settings.x_posts_per_15min, 15 * 60))
    x_dm = (Cap(settings.x_dms_per_24h, 24 * 3600),)
    masto = (Cap(settings.mastodon_posts_per_hour, 3600),)
    return Policy(
        caps={},
        account_caps={
            ("x", POST): x_post,
            ("x", DM): x_dm,
            ("mastodon", POST): masto,
            ("mastodon", DM): masto,
        },
        # One reply per reporter, in the reporter's own thread: cluster and digest replies need their own
        # templates and are not composed yet (see the channels issue note).
        cluster=False,
        spill_to_dm=False,
        digest_after_s=None,
    )


def sweep_outbox(limit: int = 2000) -> int:
    """Send what is due within each account's caps: urgent first, then oldest; nothing is dropped."""
    from civictracker.app import settings_of
    from civictracker.intake.outbox_schedule import DM, POST, Pending, plan

    with job_context() as app:
        now = utcnow()
        rows = db.session.execute(
            select(
                OutboundMessage.id,
                OutboundMessage.channel,
                OutboundMessage.is_dm,
                OutboundMessage.urgent,
                OutboundMessage.created_at,
            )
            .where(
                or_(
                    OutboundMessage.state.in_(["pending", "failed"])
                    & (OutboundMessage.next_attempt_at <= now),
                    (OutboundMessage.state == "sending")
                    & (OutboundMessage.next_attempt_at <= now - SENDING_STALE_AFTER),
                )
            )
            .order_by(OutboundMessage.urgent.desc(), OutboundMessage.created_at)
            .limit(limit)
        ).all()
        if not rows:
            db.session.rollback()
            return 0
        recent = db.session.execute(
            select(OutboundMessage.channel, OutboundMessage.is_dm, OutboundMessage.sent_at).where(
                OutboundMessage.state == "sent", OutboundMessage.sent_at >= now - dt.timedelta(hours=24)
            )
        ).all()
        db.session.rollback()
        history: dict[tuple[str, str], list[float]] = {}
        for channel, is_dm, sent_at in recent:
            history.setdefault((channel, DM if is_dm else POST), []).append(sent_at.timestamp())
        pending = [
            Pending(
                id=r.id,
                account=r.channel,
                kind=DM if r.is_dm else POST,
                created_at=r.created_at.timestamp(),
                urgent=r.urgent,
            )
            for r in rows
        ]
        decided = plan(pending, history, now.timestamp(), outbox_policy(settings_of(app)))
    sent = 0
    for batch in decided.batches:
        for message in batch.messages:
            if send_outbound(int(message.id)) == "sent":
                sent += 1
    return sent


def poll_channel(name: str) -> int:
    """Fetch new posts from one channel since its stored cursor; store each, then enqueue its processing."""
    from civictracker.app import city_of, settings_of
    from civictracker.intake.pipeline import receive_post
    from civictracker.intake.queue import get_queue
    from civictracker.intake.registry import get_channel

    with job_context() as app:
        channel = get_channel(settings_of(app), name, pack_dir=city_of(app).path)
        row = db.session.get(ChannelCursor, name)
        result = channel.fetch_since(row.cursor if row else None)
        new_ids = []
        for incoming in result.posts:
            post, created = receive_post(db.session, incoming)
            if created:
                new_ids.append(post.id)
        if row is None:
            row = ChannelCursor(channel=name)
            db.session.add(row)
        row.cursor = result.cursor
        row.updated_at = utcnow()
        db.session.commit()  # posts and cursor together: a crash re-fetches, the unique key drops repeats
        queue = get_queue(app)
        for post_id in new_ids:
            queue.enqueue(process_post, post_id, job_id=f"post-{post_id}")
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
        from civictracker.intake.queue import get_queue

        queue = get_queue(app)
        for post_id in ids:
            queue.enqueue(process_post, post_id, job_id=f"post-{post_id}")
        return len(ids)


def outbox_counts() -> dict[str, int]:
    with job_context():
        rows = db.session.execute(
            select(OutboundMessage.state, func.count()).group_by(OutboundMessage.state)
        ).all()
        return {state: int(count) for state, count in rows}
