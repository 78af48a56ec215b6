"""The outbox: caps per account, urgent first, exactly once through a crash, dead after the last try."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from civictracker.channels.base import ChannelError
from civictracker.channels.log import LogChannel
from civictracker.extensions import db
from civictracker.models import OutboundMessage, Reporter
from civictracker.models.types import utcnow
from civictracker.outbox import calls as outbox_calls
from civictracker.outbox import sweep as outbox
from civictracker.runtime import register_channel
from tests.conftest import drop_app, make_app


@pytest.fixture()
def capped_app(tmp_path: Path):  # type: ignore[no-untyped-def]
    # a budget already over: these tests are about the attempts (tests/faults cover the time budget)
    app, pg_db = make_app(
        "sqlite", tmp_path, x_posts_per_15min=2, outbox_max_attempts=2, outbox_retry_budget_s=0.001
    )
    with app.app_context():
        yield app
    drop_app(app, pg_db)


def _messages(n: int, *, urgent_index: int | None = None) -> list[OutboundMessage]:
    reporter = Reporter(channel="x", external_id="r1", handle="res")
    db.session.add(reporter)
    db.session.flush()
    base = utcnow() - dt.timedelta(minutes=5)
    rows = []
    for i in range(n):
        rows.append(
            OutboundMessage(
                idempotency_key=f"k{i}",
                channel="x",
                kind="ack",
                reporter_id=reporter.id,
                recipient_id="r1",
                recipient_handle="res",
                in_reply_to_id=f"p{i}",
                text=f"reply {i}",
                urgent=(i == urgent_index),
                created_at=base + dt.timedelta(seconds=i),
                next_attempt_at=base,
            )
        )
    db.session.add_all(rows)
    db.session.commit()
    return rows


def test_caps_hold_and_urgent_goes_first(capped_app) -> None:  # type: ignore[no-untyped-def]
    channel = LogChannel(name="x", max_length=280)
    register_channel(capped_app, "x", channel)
    rows = _messages(5, urgent_index=4)
    # 2 posts per 15 min, paced to at most 1 per 3.75 min: one goes now, the urgent one.
    assert outbox.sweep_outbox() == 1
    assert [r["text"] for r in channel.records] == ["reply 4"]  # the text as queued, no tag
    states = {m.idempotency_key: m.state for m in db.session.scalars(select(OutboundMessage))}
    assert states == {"k0": "pending", "k1": "pending", "k2": "pending", "k3": "pending", "k4": "sent"}
    assert outbox.sweep_outbox() == 0  # the cap holds; nothing is dropped either
    assert len(rows) == 5


class _Flaky(LogChannel):
    def __init__(self) -> None:
        super().__init__(name="x", max_length=280)
        self.fail_with: ChannelError | None = None
        self.crash_after_post = False

    def send(self, target, text, *, idempotency_key):  # type: ignore[no-untyped-def]
        if self.fail_with is not None:
            raise self.fail_with
        sent = super().send(target, text, idempotency_key=idempotency_key)
        if self.crash_after_post:
            raise KeyboardInterrupt("worker killed after the platform accepted the post")
        return sent


def test_exactly_once_when_the_worker_dies_between_posting_and_recording(capped_app) -> None:  # type: ignore[no-untyped-def]
    channel = _Flaky()
    register_channel(capped_app, "x", channel)
    (message,) = _messages(1)
    channel.crash_after_post = True
    with pytest.raises(KeyboardInterrupt):
        outbox.send_outbound(message.id)
    db.session.rollback()
    assert db.session.get(OutboundMessage, message.id).state == "sending"
    channel.crash_after_post = False
    # A restarted worker picks the stale row up; it finds the post already made and records it.
    row = db.session.get(OutboundMessage, message.id)
    row.next_attempt_at = utcnow() - dt.timedelta(minutes=10)
    db.session.commit()
    assert outbox.sweep_outbox() == 1
    assert len(channel.records) == 1  # posted exactly once
    assert db.session.get(OutboundMessage, message.id).sent_external_id == channel.records[0]["id"]


def test_api_down_then_dead_then_admin_retry(capped_app) -> None:  # type: ignore[no-untyped-def]
    channel = _Flaky()
    register_channel(capped_app, "x", channel)
    (message,) = _messages(1)
    channel.fail_with = ChannelError("503 Service Unavailable", retryable=True)
    assert outbox.send_outbound(message.id) == "retry"
    row = db.session.get(OutboundMessage, message.id)
    assert row.state == "failed" and row.next_attempt_at > utcnow() and "503" in row.last_error
    row.next_attempt_at = utcnow()
    db.session.commit()
    assert outbox.send_outbound(message.id) == "dead"  # max attempts is 2 here
    channel.fail_with = None
    from civictracker.cli.commands import civictracker_cli

    result = capped_app.test_cli_runner().invoke(civictracker_cli, ["outbox", "--retry-dead"])
    assert '"sent": 1' in result.output, result.output
    assert len(channel.records) == 1


def test_two_senders_reading_the_same_pending_message_post_it_once(capped_app) -> None:  # type: ignore[no-untyped-def]
    """SQLite locks nothing we read: the web process and the poll loop may both pick one pending message.
    The claim is a compare-and-set on (state, attempts), so the one that loses the race posts nothing."""
    from sqlalchemy import create_engine, text

    channel = LogChannel(name="x", max_length=280)
    register_channel(capped_app, "x", channel)
    (message,) = _messages(1)
    seen = outbox_calls.lock_messages([message.id])  # this sender has read the row: still pending, 0 attempts
    assert [m.state for m, _ in seen] == ["pending"]
    # Meanwhile another process claims and sends it (its own connection, committed).
    other = create_engine(str(db.engine.url))
    with other.begin() as conn:
        conn.execute(
            text("UPDATE outbound_messages SET state='sending', attempts=1, batch_key='k0' WHERE id=:i"),
            {"i": message.id},
        )
    other.dispose()
    assert outbox_calls.send_batch(capped_app, [message.id], locked=seen) == ("in_flight", 0)
    assert channel.records == []  # nothing posted by the loser
    db.session.expire_all()
    row = db.session.get(OutboundMessage, message.id)
    assert (row.state, row.attempts) == ("sending", 1)


def test_a_call_in_flight_takes_its_slot_from_a_second_sender(capped_app) -> None:  # type: ignore[no-untyped-def]
    """One sender has claimed a reply and is posting it (not settled yet); a second sender reading the
    lane now must count that call, or the account goes over its cap by one."""
    channel = LogChannel(name="x", max_length=280)
    register_channel(capped_app, "x", channel)
    first, second = _messages(2)
    # the first is in flight: claimed a moment ago by another worker, its platform call not answered yet
    first.state, first.attempts, first.batch_key, first.next_attempt_at = "sending", 1, "k0", utcnow()
    db.session.commit()
    # 2 posts per 15 min, paced to 1 per 3.75 min: the in-flight call holds the one slot there is
    assert outbox.send_outbound(second.id) == "deferred"
    assert outbox.sweep_outbox() == 0 and channel.records == []
    # the call fails (nothing was posted): its slot is free again
    db.session.expire_all()
    row = db.session.get(OutboundMessage, first.id)
    row.state, row.batch_key, row.next_attempt_at = "failed", None, utcnow() + dt.timedelta(hours=1)
    db.session.commit()
    assert outbox.send_outbound(second.id) == "sent"
    assert [r["text"] for r in channel.records] == ["reply 1"]


def test_the_retry_job_is_named_by_the_path_of_send_outbound() -> None:
    """calls.py names the retry job by its import path (sweep.py imports calls.py, not the other way)."""
    import importlib

    from civictracker.outbox import calls, sweep

    module, _, name = calls.SEND_OUTBOUND_JOB.rpartition(".")
    assert getattr(importlib.import_module(module), name) is sweep.send_outbound
