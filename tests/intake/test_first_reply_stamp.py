"""A ticket's first public reply is stamped once, at the earliest send, and never waits for an intake page."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from sqlalchemy import select, text

from civictracker.extensions import db as ext_db
from civictracker.models import Ticket
from civictracker.models.types import utcnow
from civictracker.outbox import claims
from civictracker.outbox.sweep import stamp_first_replies_job
from tests import factories


def _stamps(ids: list[int]) -> dict[int, dt.datetime | None]:
    ext_db.session.rollback()
    rows = ext_db.session.execute(select(Ticket.id, Ticket.first_public_reply_at).where(Ticket.id.in_(ids)))
    return {row[0]: row[1] for row in rows}


def test_a_held_ticket_is_stamped_by_a_job_with_the_send_time(app, backend, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """PostgreSQL: a ticket another transaction holds (an intake page merging a report into it) is left to
    a job, with the send's time; the free ones are stamped at once, and the sender never waits."""
    if backend != "postgis":
        pytest.skip("row locks: SQLite has one writer at a time")
    held, free = (factories.ticket(ext_db.session).id for _ in range(2))
    ext_db.session.commit()
    queued: list[tuple[object, ...]] = []
    fake = SimpleNamespace(is_inline=False, enqueue=lambda *args, **_: queued.append(args))
    monkeypatch.setattr("civictracker.queue.get_queue", lambda app=None: fake)
    now = utcnow()
    with ext_db.engine.connect() as other:
        other.execute(text("SELECT id FROM tickets WHERE id = :i FOR UPDATE"), {"i": held})
        ext_db.session.execute(text("SET LOCAL lock_timeout = '2s'"))  # a wait fails the test, not hangs it
        claims.first_public_reply([SimpleNamespace(ticket_id=held), SimpleNamespace(ticket_id=free)], now)  # type: ignore[list-item]
        ext_db.session.commit()
        assert _stamps([held, free]) == {held: None, free: now}
        assert queued == [("civictracker.outbox.sweep.stamp_first_replies_job", [held], now.isoformat())]
        other.rollback()
    stamp_first_replies_job(*queued[0][1:])  # type: ignore[arg-type]
    assert _stamps([held]) == {held: now}


def test_the_earliest_send_stays_the_first_reply(app) -> None:  # type: ignore[no-untyped-def]
    """A late job never moves a stamp forward, and moves back one a later send made meanwhile."""
    ticket_id = factories.ticket(ext_db.session).id
    ext_db.session.commit()
    now = utcnow()
    claims.stamp_first_replies([ticket_id], now)
    ext_db.session.commit()
    claims.stamp_first_replies([ticket_id], now + dt.timedelta(hours=1))
    ext_db.session.commit()
    assert _stamps([ticket_id]) == {ticket_id: now}
    claims.stamp_first_replies([ticket_id], now - dt.timedelta(minutes=5))
    ext_db.session.commit()
    assert _stamps([ticket_id]) == {ticket_id: now - dt.timedelta(minutes=5)}
