"""A big stored history for the benches: N tickets, N sent replies and N inbound posts by bulk SQL inserts.

The rows are made by the database itself (a recursive CTE on SQLite, generate_series on PostgreSQL), so a
million of each takes seconds to a minute, not the pipeline's hours. Places are skewed as a real city's:
half of the tickets lie along one street (Massachusetts Ave), the rest spread over the city; one in ten is
open, the others closed; ages spread over a year (so about 8% fall inside the dedupe window). Every
ticket has one processed post (`hist-in-<i>`) and one sent reply (`hist-out-<i>`) in its thread.

Usage from a bench: `fill_history(session, n)` inside an app context, on a migrated database with the
city's services loaded; commits. Ids of the history never clash with the bench's own (`hist-` prefix).
"""

from __future__ import annotations

import time

from sqlalchemy import select, text
from sqlalchemy.orm import Session

CHUNK = 100_000  # rows per statement: bounded memory on both databases

# Massachusetts Ave from MIT to the Arlington line: the street half of the history is on.
MAIN_STREET = "Massachusetts Ave"
MAIN_FROM = (42.3595, -71.0935)
MAIN_TO = (42.3967, -71.1343)
CITY_BOX = (42.355, -71.155, 42.400, -71.070)  # min_lat, min_lon, max_lat, max_lon


def _uniform(i: str, a: int, b: int, m: int) -> str:
    """A deterministic pseudo-random number in [0, 1) from the row number (the same on both databases)."""
    return f"((({i}) * {a} + {b}) % {m}) * 1.0 / {m}"


def _ticket_select(dialect: str, i: str) -> str:
    """Column expressions of ticket number `i` (an SQL integer expression)."""
    u1, u2, u3 = _uniform(i, 7919, 13, 10007), _uniform(i, 104729, 7, 100003), _uniform(i, 1299709, 3, 65537)
    on_main = f"(({i}) % 2 = 0)"
    lat = (
        f"CAST(CASE WHEN {on_main} THEN {MAIN_FROM[0]} + ({MAIN_TO[0]} - {MAIN_FROM[0]}) * {u1} + ({u2} - 0.5) * 0.0003"
        f" ELSE {CITY_BOX[0]} + ({CITY_BOX[2]} - {CITY_BOX[0]}) * {u1} END AS DOUBLE PRECISION)"
    )
    lon = (
        f"CAST(CASE WHEN {on_main} THEN {MAIN_FROM[1]} + ({MAIN_TO[1]} - {MAIN_FROM[1]}) * {u1} + ({u3} - 0.5) * 0.0003"
        f" ELSE {CITY_BOX[1]} + ({CITY_BOX[3]} - {CITY_BOX[1]}) * {u2} END AS DOUBLE PRECISION)"
    )
    minutes = f"((({i}) * 523) % 525600)"  # within the past year
    if dialect == "postgresql":
        created = f"(now() - ({minutes}) * interval '1 minute')"
    else:
        created = f"(strftime('%Y-%m-%d %H:%M:%S', 'now', '-' || {minutes} || ' minutes') || '.000000')"
    return lat, lon, created


def fill_history(session: Session, n: int, *, quiet: bool = False) -> float:
    """Insert n tickets, n sent replies and n processed inbound posts; returns the seconds it took."""
    from civictracker.models import Service

    if n <= 0:
        return 0.0
    started = time.perf_counter()
    dialect = session.get_bind().dialect.name
    service_ids = sorted(session.scalars(select(Service.id)))
    if not service_ids:
        raise RuntimeError("load the city's services before filling a history")
    first = int(session.scalar(text("SELECT coalesce(max(id), 0) FROM tickets")) or 0) + 1
    for start in range(0, n, CHUNK):
        count = min(CHUNK, n - start)
        _insert_chunk(session, dialect, first + start, count, service_ids)
        session.commit()
        if not quiet:
            print(f"  history: {start + count:,}/{n:,} ({time.perf_counter() - started:.0f} s)", flush=True)
    if dialect == "postgresql":
        for table in ("tickets", "outbound_messages", "inbound_posts"):
            session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
        session.commit()
        session.connection().exec_driver_sql("ANALYZE")
    else:
        session.connection().exec_driver_sql("ANALYZE")
    session.commit()
    return time.perf_counter() - started


def _rows(dialect: str, first: int, count: int) -> str:
    if dialect == "postgresql":
        return f"SELECT g AS i FROM generate_series(CAST({first} AS bigint), {first + count - 1}) AS g"
    return (
        f"WITH RECURSIVE s(i) AS (SELECT {first} UNION ALL SELECT i + 1 FROM s WHERE i < {first + count - 1})"
        " SELECT i FROM s"
    )


def _insert_chunk(session: Session, dialect: str, first: int, count: int, service_ids: list[int]) -> None:
    lat, lon, created = _ticket_select(dialect, "i")
    services = "CASE (i % {n}) {whens} END".format(
        n=len(service_ids), whens=" ".join(f"WHEN {k} THEN {sid}" for k, sid in enumerate(service_ids))
    )
    point = (
        "ST_SetSRID(ST_MakePoint(lon, lat), 4326)" if dialect == "postgresql" else "MakePoint(lon, lat, 4326)"
    )
    false = "false" if dialect == "postgresql" else "0"
    street = f"CASE WHEN i % 2 = 0 THEN '{MAIN_STREET}' ELSE 'Hist St ' || (i % 500) END"
    rows = _rows(dialect, first, count)
    # (dialect SQL of our own making: no user input anywhere in these statements)
    session.execute(
        text(
            "INSERT INTO tickets (id, service_id, status, priority, location, public_location, lat, lon,"
            " public_lat, public_lon, location_text, address, street, precision, geocode_status, summary,"
            " description, lang, source_channel, private_location, triage, attributes, report_count,"
            " follower_count, created_at, updated_at, closed_at)"
            f" SELECT i, {services}, CASE WHEN i % 10 = 0 THEN 'open' ELSE 'closed' END, 0, {point}, {point},"
            " lat, lon, lat, lon, 'history', 'hist ' || i, street, 'street', 'ok', 'History ticket', '', 'en',"
            f" 'replay', {false}, '{{}}', '{{}}', 1, 1, created, created,"
            " CASE WHEN i % 10 = 0 THEN NULL ELSE created END"
            f" FROM (SELECT i, {lat} AS lat, {lon} AS lon, {created} AS created, {street} AS street"
            f" FROM ({rows}) AS r) AS t"
        )
    )
    session.execute(
        text(
            "INSERT INTO inbound_posts (id, channel, external_id, kind, author_id, author_handle, is_dm, text,"
            " received_at, processed_at, raw, state, outcome, stages, attempts, ticket_id, inbox_priority)"
            " SELECT i, 'replay', 'hist-in-' || i, 'mention', 'hu' || (i % 50000), 'hh' || (i % 50000),"
            f" {false}, 'history post', created, created, '{{}}', 'processed', 'ticket', '{{}}', 1, i, 0"
            f" FROM (SELECT i, {created} AS created FROM ({rows}) AS r) AS t"
        )
    )
    session.execute(
        text(
            "INSERT INTO outbound_messages (id, idempotency_key, channel, kind, ticket_id, post_id, is_dm,"
            " recipient_id, recipient_handle, in_reply_to_id, lang, text, urgent, state, attempts,"
            " next_attempt_at, sent_external_id, sent_at, created_at)"
            f" SELECT i, 'hist-' || i, 'replay', 'ack', i, i, {false}, 'hu' || (i % 50000), 'hh' || (i % 50000),"
            f" 'hist-in-' || i, 'en', 'history reply', {false}, 'sent', 1, created, 'hist-out-' || i, created,"
            " created"
            f" FROM (SELECT i, {created} AS created FROM ({rows}) AS r) AS t"
        )
    )
