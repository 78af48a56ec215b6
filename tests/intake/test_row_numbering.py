"""SQLite: a write transaction numbers its new rows itself, so each table's are written in one statement."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, select

from civictracker.database import NUMBERED_TABLES, begin_write
from civictracker.extensions import db
from civictracker.jobs import posts as jobs
from civictracker.models import Follower, InboundPost, OutboundMessage, Reporter, TicketEvent
from tests.intake.helpers import incoming


@contextmanager
def inserts() -> Iterator[Counter[str]]:
    """INSERT statements run meanwhile, by table (an executemany counts once)."""
    seen: Counter[str] = Counter()

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        words = statement.split()
        if words[:2] == ["INSERT", "INTO"]:
            seen[words[2]] += 1

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def _receive(*posts) -> list[int]:  # type: ignore[no-untyped-def]
    from civictracker.intake.receive import receive_posts

    begin_write(db.session)
    received = receive_posts(db.session, list(posts))
    db.session.commit()
    return [post.id for post, _ in received]


def test_a_page_writes_each_table_in_a_few_statements(app, backend) -> None:  # type: ignore[no-untyped-def]
    if backend != "sqlite":
        pytest.skip("PostgreSQL returns the ids of a multi-row INSERT in order already")
    texts = [f"huge pothole outside {n} Hampshire St, nearly lost a tire" for n in (10, 150, 300, 420, 600)]
    with inserts() as by_table:
        ids = _receive(*(incoming(t, author=f"n{i}") for i, t in enumerate(texts)))
    assert by_table["inbound_posts"] == 1  # five posts, one statement (was one each)
    with inserts() as by_table:
        jobs.process_posts(ids)
    for table in ("reporters", "followers", "ticket_events", "outbound_messages"):
        assert 1 <= by_table[table] <= 2, (table, by_table)  # (was five each, or more)
    # the ids SQLite itself gives: one past the largest, in the order the rows were added
    for model in (InboundPost, Reporter, Follower, TicketEvent, OutboundMessage):
        found = list(db.session.scalars(select(model.id).order_by(model.id)))
        assert found == list(range(1, len(found) + 1)) and len(found) >= len(texts), (model, found)
    posts = db.session.scalars(select(InboundPost).order_by(InboundPost.id)).all()
    assert [p.text for p in posts] == texts and [p.reporter_id for p in posts] == [1, 2, 3, 4, 5]


def test_a_transaction_without_the_write_lock_from_its_start_lets_sqlite_number(app, backend) -> None:  # type: ignore[no-untyped-def]
    """Only a transaction that held the write lock from its start may number: another writer could take
    the next id between its read of the largest and its INSERT."""
    if backend != "sqlite":
        pytest.skip("SQLite only")
    from civictracker.intake.receive import receive_posts

    assert "inbound_posts" in NUMBERED_TABLES
    with inserts() as by_table:
        receive_posts(db.session, [incoming("pothole at 10 Hampshire St", author=f"m{i}") for i in range(3)])
        db.session.commit()
    assert by_table["inbound_posts"] == 3  # one each, numbered by SQLite
