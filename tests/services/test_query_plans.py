"""Every lookup of intake, dedupe, the outbox, the inbox and following can use an index: no full scan of
tickets, inbound_posts, outbound_messages or followers, which grow without bound.

The statements are the real ones: recorded while the real jobs run (new reports, a merge, a street-wide
report, replies in a thread and to a message never sent, a DM asked back and answered, the outbox sweep,
the inbox pages), then each is explained with its own parameters. SQLite: EXPLAIN QUERY PLAN has no
"SCAN <table>". PostgreSQL: EXPLAIN with sequential scans disabled has no "Seq Scan on <table>" and no
index read end to end (with so few rows the planner would rightly choose a full scan; disabled, it falls
back on one only where no index fits).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from civictracker.extensions import db
from civictracker.jobs import posts as jobs
from civictracker.services.inbox import list_inbox
from tests.conftest import BACKENDS, drop_app, make_app
from tests.intake.helpers import deliver

GROWING = ("tickets", "inbound_posts", "outbound_messages", "followers")
SQLITE_SCAN = re.compile(rf"^SCAN ({'|'.join(GROWING)})\b")


def pg_full_scans(node: dict[str, Any]) -> list[str]:
    """The plan nodes (PostgreSQL's JSON plan) that read a growing table whole: a sequential scan, or an
    index read from end to end (no condition, or only "IS NOT NULL", on the index)."""
    found: list[str] = []
    kind, cond = node["Node Type"], node.get("Index Cond", "")
    table = node.get("Relation Name") or next(
        (t for t in GROWING if node.get("Index Name", "").startswith(f"ix_{t}_")), None
    )
    if table in GROWING:
        whole_index = kind in {"Index Scan", "Index Only Scan", "Bitmap Index Scan"} and (
            not cond or re.fullmatch(r"\(*[\w.]+ IS NOT NULL\)*", cond)
        )
        if kind == "Seq Scan" or whole_index:
            found.append(f"{kind} on {table} {node.get('Index Name', '')} {cond}".strip())
    for child in node.get("Plans", []):
        found += pg_full_scans(child)
    return found


@contextmanager
def recorded() -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) run meanwhile that read one of the growing tables."""
    seen: list[tuple[str, Any]] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        head = statement.lstrip().split(None, 1)[0].upper()
        reads = not executemany and head in {"SELECT", "UPDATE", "DELETE", "WITH"}
        if reads and any(re.search(rf"\b{table}\b", statement) for table in GROWING):
            seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def full_scans(statements: list[tuple[str, Any]]) -> list[str]:
    """Each statement whose plan reads a growing table whole, with that plan."""
    found: list[str] = []
    done: set[str] = set()
    with db.engine.connect() as conn:
        postgres = conn.dialect.name == "postgresql"
        if postgres:
            conn.exec_driver_sql("SET enable_seqscan = off")
        for statement, parameters in statements:
            if statement in done:
                continue
            done.add(statement)
            if postgres:
                plan = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters).scalar_one()
                bad = pg_full_scans(plan[0]["Plan"])
            else:
                plan = [r[3] for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
                bad = [line for line in plan if SQLITE_SCAN.search(line)]
            if bad:
                found.append(f"{' '.join(statement.split())[:400]}\n    -> {bad}")
        conn.rollback()
    return found


def test_intake_outbox_and_inbox_lookups_use_indexes(app) -> None:  # type: ignore[no-untyped-def]
    with recorded() as statements:
        first = deliver("huge pothole outside 20 Prospect St, nearly lost a tire", author="a1", ext="p-1")
        deliver("the pothole outside 20 Prospect St is huge", author="a2", ext="p-2")  # merged
        deliver("sidewalk at Norfolk St still not shoveled, solid ice", author="a3", ext="p-3")
        deliver("sidewalk on Norfolk St is solid ice", author="a4", ext="p-4")  # street-wide dedupe
        deliver("still not fixed", author="a1", ext="p-5", kind="reply", reply_to=first.external_id)
        deliver("thanks!", author="a5", ext="p-6", kind="reply", reply_to="never-sent-by-us")
        deliver("the streetlight on my block has been out for two weeks", author="a6", kind="dm", ext="d-1")
        deliver("it's at 20 Prospect St", author="a6", kind="dm", ext="d-2")  # answers the ask-back
        deliver("great job on the fireworks last night!", author="a7", ext="p-7")
        jobs.sweep_outbox()
        for view in ("person", "mine", "hidden"):
            list_inbox(db.session, view, user_id=1)
        db.session.rollback()
    assert len(statements) > 20  # the paths ran
    scans = full_scans(statements)
    assert not scans, "full scans of growing tables:\n" + "\n".join(scans)


def test_metrics_windows_use_indexes(app) -> None:  # type: ignore[no-untyped-def]
    """The console's trends read the tickets reported OR closed in their window: both sides indexed."""
    from civictracker.services import metrics

    deliver("huge pothole outside 20 Prospect St, nearly lost a tire", author="a1", ext="m-1")
    with recorded() as statements:
        metrics.weekly_trend(db.session, weeks=12)
        metrics.trend_by(db.session, "service")
        metrics.time_to_first_reply(db.session)
        metrics.time_to_resolve(db.session)
        db.session.rollback()
    assert len(statements) >= 4
    scans = full_scans(statements)
    assert not scans, "full scans of growing tables:\n" + "\n".join(scans)


def test_the_check_finds_a_full_scan(app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from civictracker.models import InboundPost

    with recorded() as statements:
        db.session.execute(select(InboundPost.id).where(InboundPost.text == "x"))  # no index on text
        db.session.rollback()
    assert full_scans(statements)


def _migration(revision: str) -> Any:
    import importlib.util

    from civictracker.paths import MIGRATIONS_DIR

    path = next((MIGRATIONS_DIR / "versions").glob(f"*_{revision}_*.py"))
    spec = importlib.util.spec_from_file_location(f"migration_{revision}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_open_ticket_index_holds_the_statuses_dedupe_merges_into() -> None:
    from civictracker.services.dedupe import DEDUPE_STATUSES

    for revision in ("9b2f4d6a8c31", "f3c1a7e9b5d2"):  # the R*Tree's first form, and its 4-D one
        assert set(_migration(revision).OPEN_STATUSES) == set(DEDUPE_STATUSES)


def test_the_open_ticket_index_follows_each_ticket(app, backend) -> None:  # type: ignore[no-untyped-def]
    """SQLite: a ticket is in idx_open_tickets (place, service, day made) while it is open and placed, out
    once closed or deleted. PostgreSQL has a partial GiST index instead (ix_tickets_open_near)."""
    from sqlalchemy import text

    from civictracker.models import Ticket, TicketStatus

    post = deliver("huge pothole outside 20 Prospect St, nearly lost a tire", author="a1")
    ticket = db.session.get(Ticket, post.ticket_id)
    assert ticket is not None and ticket.lat is not None
    if backend == "postgis":
        assert db.session.scalar(text("SELECT to_regclass('idx_open_tickets')")) is None
        assert db.session.scalar(text("SELECT to_regclass('ix_tickets_open_near')")) is not None
        return
    rows = (
        "SELECT id, min_service_id, max_service_id, min_lat, max_lon, min_day, max_day, "
        "julianday(?) FROM idx_open_tickets"
    )
    made = ticket.created_at.strftime("%Y-%m-%d %H:%M:%S")
    [(tid, low, high, lat, lon, day_low, day_high, day)] = db.session.execute(
        text(rows.replace("?", ":made")), {"made": made}
    ).all()
    assert (tid, low, high) == (ticket.id, ticket.service_id, ticket.service_id)
    assert abs(lat - ticket.lat) < 1e-4 and abs(lon - ticket.lon) < 1e-4
    assert day_low <= day <= day_high and day_high - day_low <= 0.5  # float32, rounded outwards
    ticket.status = TicketStatus.CLOSED.value
    db.session.commit()
    assert db.session.execute(text(rows.replace("?", ":made")), {"made": made}).all() == []
    ticket.status = TicketStatus.REOPENED.value
    db.session.commit()
    assert [r[0] for r in db.session.execute(text(rows.replace("?", ":made")), {"made": made})] == [ticket.id]


def test_the_open_ticket_index_answers_the_service_and_the_window(app, backend) -> None:  # type: ignore[no-untyped-def]
    """SQLite: the R*Tree itself keeps out the open tickets of other services and those made before the
    dedupe window (at 1M tickets it returned every open one around the point, of every service and age)."""
    import datetime as dt

    from sqlalchemy import text

    from civictracker.models import Ticket

    if backend == "postgis":
        pytest.skip("PostgreSQL has no such table (PostGIS combines its own indexes)")
    post = deliver("huge pothole outside 20 Prospect St, nearly lost a tire", author="a1")
    ticket = db.session.get(Ticket, post.ticket_id)
    assert ticket is not None
    ask = (
        "SELECT id FROM idx_open_tickets WHERE min_service_id <= :service_id AND max_service_id >= "
        ":service_id AND max_day >= :created_day"
    )
    made = ticket.created_at.strftime("%Y-%m-%d %H:%M:%S")
    day = float(db.session.scalar(text("SELECT julianday(:made)"), {"made": made}))

    def found(service_id: int, created_day: float) -> list[int]:
        params = {"service_id": service_id, "created_day": created_day}
        return [r[0] for r in db.session.execute(text(ask), params)]

    assert found(ticket.service_id, day - 1) == [ticket.id]
    assert found(ticket.service_id + 1, day - 1) == []  # another service
    assert found(ticket.service_id, day + 1) == []  # a window that starts after it was made
    # a ticket made long ago leaves the window as its day moves back
    ticket.created_at = ticket.created_at - dt.timedelta(days=400)
    db.session.commit()
    assert found(ticket.service_id, day - 30) == []


@pytest.fixture(params=BACKENDS)
def own_app(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Flask]:
    """A database of this test's own. KNOWN ISSUE (session 8): after this test's 20,000 bulk rows, the
    shared SQLite test database was reported "malformed" at the next cleanup's DELETE, under xdist only;
    the cause is not found. Its own file keeps that from spreading to every later test on the worker."""
    app, pg_db = make_app(request.param, tmp_path)
    try:
        with app.app_context():
            yield app
    finally:
        drop_app(app, pg_db)


def test_a_thread_of_ten_thousand_replies_answers_as_a_short_one(own_app) -> None:  # type: ignore[no-untyped-def]
    """A reply in a thread that already holds 10,000 replies (and 10,000 of ours) finds its ticket with
    the same few statements, each on an index, and gets the same answer."""
    from sqlalchemy import insert

    from civictracker.models import InboundPost, OutboundMessage, PostOutcome, PostState
    from civictracker.models.outbox import MessageState
    from civictracker.models.types import utcnow

    first = deliver("huge pothole outside 20 Prospect St, nearly lost a tire", author="a1", ext="root-1")
    now = utcnow()
    base = {"channel": "replay", "kind": "reply", "author_id": "a2", "author_handle": "h", "is_dm": False}
    db.session.execute(
        insert(InboundPost),
        [
            base
            | {"external_id": f"r-{i}", "in_reply_to_id": "root-1", "conversation_id": "root-1", "text": "+1"}
            | {"received_at": now, "raw": {}, "state": PostState.PROCESSED.value, "stages": {}, "attempts": 1}
            | {"ticket_id": first.ticket_id}
            for i in range(10_000)
        ],
    )
    msg = {"channel": "replay", "kind": "ack", "is_dm": False, "recipient_id": "a2", "lang": "en"}
    db.session.execute(
        insert(OutboundMessage),
        [
            msg
            | {"idempotency_key": f"k-{i}", "text": "ok", "state": MessageState.SENT.value, "attempts": 1}
            | {"next_attempt_at": now, "created_at": now, "sent_at": now, "sent_external_id": f"o-{i}"}
            | {"ticket_id": first.ticket_id, "in_reply_to_id": f"r-{i}", "conversation_id": "root-1"}
            for i in range(10_000)
        ],
    )
    db.session.commit()
    with recorded() as statements:
        reply = deliver("still not fixed", author="a3", kind="reply", reply_to="o-9999")
        unsent = deliver("still not fixed", author="a4", kind="reply", reply_to="never-sent-by-us")
    assert reply.ticket_id == first.ticket_id and reply.outcome == PostOutcome.STILL_OPEN
    assert unsent.ticket_id != first.ticket_id  # a reply to nothing of ours is a post of its own
    assert len(statements) < 80
    assert not full_scans(statements)


def _plan(statement: str, parameters: Any) -> str:
    """The plan of one statement, as text (PostgreSQL with sequential scans disabled)."""
    with db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET enable_seqscan = off")
            plan = conn.exec_driver_sql("EXPLAIN " + statement, parameters).all()
        else:
            plan = [(r[3],) for r in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)]
        conn.rollback()
    return "\n".join(r[0] for r in plan)


def test_dedupe_asks_the_index_for_one_service_made_within_the_window(app, backend) -> None:  # type: ignore[no-untyped-def]
    """The index dedupe reads first returns only open tickets of the report's service made within the
    window: on SQLite all seven R*Tree constraints (box, service, day) are in the index lookup; on
    PostgreSQL the partial index of open tickets is used. With half of a million tickets on one street, an
    index of place alone returned thousands per query (p95 10 ms SQLite, 37-61 ms PostGIS, bench_dedupe)."""
    import datetime as dt

    from sqlalchemy import select

    from civictracker.geo.types import GeocodeResult
    from civictracker.models import Service
    from civictracker.services.dedupe import DedupeRules, find_duplicate

    deliver("huge pothole outside 20 Prospect St, nearly lost a tire", author="a1", ext="d-1")
    service = db.session.scalars(select(Service).where(Service.code == "pothole")).one()
    loc = GeocodeResult(lat=42.3716, lon=-71.1002, precision="street", matched="x")
    with recorded() as statements:
        find_duplicate(db.session, service, loc, rules=DedupeRules(), now=dt.datetime.now(dt.UTC))
        db.session.rollback()
    [(statement, parameters)] = [(s, p) for s, p in statements if "distance" in s.lower()]
    plan = _plan(statement, parameters)
    if backend == "postgis":
        assert "ix_tickets_open_near" in plan, plan
        return
    lookup = re.search(r"VIRTUAL TABLE INDEX \d+:(\S+)", plan)
    assert lookup is not None, plan
    assert len(lookup.group(1)) == 2 * 7, plan  # each constraint is two characters: operator, column
