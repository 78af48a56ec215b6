"""The replies of an intake page sent by one job: one claim commit, one settle commit, each exactly once."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from civictracker.channels.base import ChannelError
from civictracker.channels.log import LogChannel
from civictracker.extensions import db as ext_db
from civictracker.models import OutboundMessage, Reporter
from civictracker.models.types import utcnow
from civictracker.outbox import sweep as outbox
from civictracker.runtime import register_channel


class _Channel(LogChannel):
    """The uncapped log channel, with a failure (or a killed worker) on chosen replies."""

    def __init__(self, name: str) -> None:
        super().__init__(name=name, max_length=280)
        self.fail: dict[str, BaseException] = {}  # by idempotency key
        self.crash_after_post: set[str] = set()

    def send(self, target, text, *, idempotency_key):  # type: ignore[no-untyped-def]
        if idempotency_key in self.fail:
            raise self.fail[idempotency_key]
        sent = super().send(target, text, idempotency_key=idempotency_key)
        if idempotency_key in self.crash_after_post:
            raise KeyboardInterrupt("worker killed after the platform accepted the post")
        return sent


def _channel(app, name: str = "replay") -> _Channel:  # type: ignore[no-untyped-def]
    channel = _Channel(name)
    register_channel(app, name, channel)
    return channel


def _queue(n: int, *, channel: str = "replay", opted_out: bool = False) -> list[int]:
    reporter = Reporter(channel=channel, external_id=f"r-{channel}", handle="res", opted_out=opted_out)
    ext_db.session.add(reporter)
    ext_db.session.flush()
    rows = [
        OutboundMessage(
            idempotency_key=f"{channel}-k{i}",
            channel=channel,
            kind="ack",
            reporter_id=reporter.id,
            recipient_id=reporter.external_id,
            recipient_handle="res",
            in_reply_to_id=f"{channel}-p{i}",
            text=f"reply {i}",
            next_attempt_at=utcnow(),
        )
        for i in range(n)
    ]
    ext_db.session.add_all(rows)
    ext_db.session.commit()
    return [row.id for row in rows]


def _states(ids: list[int]) -> list[str]:
    ext_db.session.expire_all()
    return [ext_db.session.get(OutboundMessage, i).state for i in ids]


def test_a_page_of_replies_is_sent_once_each(app) -> None:  # type: ignore[no-untyped-def]
    channel = _channel(app)
    ids = _queue(4)
    assert outbox.send_outbound_page(ids) == "sent=4"
    assert _states(ids) == ["sent"] * 4
    assert [r["text"] for r in channel.records] == [f"reply {i}" for i in range(4)]
    rows = [ext_db.session.get(OutboundMessage, i) for i in ids]
    assert [row.sent_external_id for row in rows] == [r["id"] for r in channel.records]
    assert all(row.attempts == 1 and row.sent_at is not None for row in rows)
    # the same page again posts nothing
    assert outbox.send_outbound_page(ids) == "sent=0"
    assert len(channel.records) == 4


def test_a_failing_reply_is_retried_alone_and_the_others_land(app) -> None:  # type: ignore[no-untyped-def]
    channel = _channel(app)
    ids = _queue(4)
    channel.fail["replay-k1"] = ChannelError("503 Service Unavailable", retryable=True)
    channel.fail["replay-k2"] = RuntimeError("a bug in the adapter")
    assert outbox.send_outbound_page(ids) == "sent=2"
    assert _states(ids) == ["sent", "failed", "failed", "sent"]
    failed = ext_db.session.get(OutboundMessage, ids[1])
    assert "503" in failed.last_error and failed.next_attempt_at > utcnow()
    assert "a bug in the adapter" in ext_db.session.get(OutboundMessage, ids[2]).last_error
    # the platform comes back: each is sent once, on its own (a retryable failure asks the platform first)
    channel.fail.clear()
    for i in ids[1:3]:
        ext_db.session.get(OutboundMessage, i).next_attempt_at = utcnow() - dt.timedelta(seconds=1)
    ext_db.session.commit()
    assert outbox.sweep_outbox() == 2
    assert _states(ids) == ["sent"] * 4
    assert sorted(r["text"] for r in channel.records) == [f"reply {i}" for i in range(4)]


def test_a_worker_killed_mid_page_posts_nothing_twice(app) -> None:  # type: ignore[no-untyped-def]
    channel = _channel(app)
    ids = _queue(3)
    channel.crash_after_post.add("replay-k1")
    with pytest.raises(KeyboardInterrupt):
        outbox.send_outbound_page(ids)
    ext_db.session.rollback()
    # every reply was claimed before the first call: the two posted and the one never tried all wait
    assert _states(ids) == ["sending"] * 3
    channel.crash_after_post.clear()
    for i in ids:  # the worker's claim goes stale
        ext_db.session.get(OutboundMessage, i).next_attempt_at = utcnow() - dt.timedelta(minutes=10)
    ext_db.session.commit()
    outbox.sweep_outbox()  # settles the two posted with the platform, sends the third
    assert _states(ids) == ["sent"] * 3
    assert [r["text"] for r in channel.records] == ["reply 0", "reply 1", "reply 2"]


def test_capped_opted_out_and_settled_replies_take_the_single_path(app) -> None:  # type: ignore[no-untyped-def]
    replay = _channel(app)
    x = _channel(app, "x")  # capped: X allows so many posts per 15 minutes and 3 hours
    fast = _queue(2)
    capped = _queue(1, channel="x")
    opted = _queue(1, channel="mastodon", opted_out=True)
    ext_db.session.get(OutboundMessage, fast[1]).state = "sent"  # sent already: left alone
    ext_db.session.commit()
    assert outbox.send_outbound_page(fast + capped + opted) == "sent=2"
    assert _states(fast + capped + opted) == ["sent", "sent", "sent", "cancelled"]
    assert len(replay.records) == 1 and len(x.records) == 1  # the X lane had room: admitted, sent
    row = ext_db.session.scalar(select(OutboundMessage).where(OutboundMessage.id == opted[0]))
    assert row.last_error == "The resident opted out."


def test_a_deadlock_while_settling_is_tried_again(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL may pick the settle as a deadlock's victim (an intake page updating the same tickets):
    the settle runs again, and the replies are recorded sent at once, posted once."""
    from sqlalchemy.exc import OperationalError

    from civictracker.outbox import calls as outbox_calls

    class Deadlock(Exception):
        sqlstate = "40P01"

    real = outbox_calls._settle_sent
    calls: list[int] = []

    def first_one_deadlocks(done, now):  # type: ignore[no-untyped-def]
        calls.append(len(done))
        if len(calls) == 1:
            raise OperationalError("UPDATE tickets ...", {}, Deadlock("deadlock detected"))
        return real(done, now)

    monkeypatch.setattr(outbox_calls, "_settle_sent", first_one_deadlocks)
    channel = _channel(app)
    ids = _queue(3)
    assert outbox.send_outbound_page(ids) == "sent=3"
    assert calls == [3, 3] and _states(ids) == ["sent"] * 3 and len(channel.records) == 3


def test_a_deadlock_while_settling_one_call_is_tried_again(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The single-message and sweep path (send_batch) settles through the same retry."""
    from sqlalchemy.exc import OperationalError

    from civictracker.outbox import calls as outbox_calls

    class Deadlock(Exception):
        sqlstate = "40P01"

    real = outbox_calls._mark_sent
    calls: list[int] = []

    def first_one_deadlocks(rows, external_id, now):  # type: ignore[no-untyped-def]
        calls.append(len(rows))
        if len(calls) == 1:
            raise OperationalError("UPDATE tickets ...", {}, Deadlock("deadlock detected"))
        return real(rows, external_id, now)

    monkeypatch.setattr(outbox_calls, "_mark_sent", first_one_deadlocks)
    channel = _channel(app)
    (message_id,) = _queue(1)
    assert outbox.send_outbound(message_id) == "sent"
    assert calls == [1, 1] and _states([message_id]) == ["sent"] and len(channel.records) == 1


def test_compare_and_set_each_writes_only_the_rows_still_as_read(app) -> None:  # type: ignore[no-untyped-def]
    """One statement for a page's rows (PostgreSQL), the same test per row as one compare-and-set each: a
    row another sender changed since it was read (state, attempts or key) is left as that sender made it."""
    from sqlalchemy import text

    from civictracker.models import MessageState
    from civictracker.outbox.claims import claim_each, compare_and_set_each

    ids = _queue(4)
    rows = [ext_db.session.get(OutboundMessage, i) for i in ids]
    # another sender claims the second row meanwhile (raw SQL: the rows read above keep what they read)
    ext_db.session.execute(
        text("UPDATE outbound_messages SET state = 'sending', attempts = 1 WHERE id = :i"), {"i": ids[1]}
    )
    assert rows[1].state == MessageState.PENDING
    now = utcnow()
    claimed = claim_each(rows, now)
    assert [m.id for m in claimed] == [ids[0], ids[2], ids[3]]
    assert all(m.state == MessageState.SENDING and m.batch_key == m.idempotency_key for m in claimed)
    # settling under the wrong key writes nothing; under the right one, each row claimed
    wrong = compare_and_set_each([(m, {"state": MessageState.SENT}, "another-key") for m in claimed])
    assert wrong == []
    settled = compare_and_set_each(
        [
            (
                m,
                {"state": MessageState.SENT, "sent_external_id": f"x{m.id}", "sent_at": now},
                m.idempotency_key,
            )
            for m in claimed
        ]
    )
    assert [m.id for m in settled] == [ids[0], ids[2], ids[3]]
    ext_db.session.commit()
    assert _states(ids) == ["sent", "sending", "sent", "sent"]
    rows = [ext_db.session.get(OutboundMessage, i) for i in ids]
    assert [r.attempts for r in rows] == [1, 1, 1, 1] and rows[1].batch_key is None
    assert [r.sent_external_id for r in rows] == [f"x{ids[0]}", None, f"x{ids[2]}", f"x{ids[3]}"]
