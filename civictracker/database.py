"""Engine set-up per backend: SpatiaLite via pysqlite3 on SQLite, PostGIS on PostgreSQL, checked at start."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import String, event, inspect, literal, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import scoped_session

from civictracker.config import ConfigError, Settings

log = logging.getLogger(__name__)


def engine_options(settings: Settings) -> dict[str, Any]:
    """Options for create_engine; SQLite goes through pysqlite3, whose SQLite can load extensions."""
    if settings.is_sqlite:
        try:
            import pysqlite3.dbapi2 as sqlite_module  # type: ignore[import-not-found]
        except ImportError:  # pragma: no cover - depends on the platform wheel
            import sqlite3 as sqlite_module
        # check_same_thread off: the web server may hand a pooled connection to another thread.
        return {"module": sqlite_module, "connect_args": {"check_same_thread": False, "timeout": 30}}
    return {"pool_pre_ping": True}


def install_spatialite(engine: Engine, library: str) -> None:
    """Load SpatiaLite on every new SQLite connection and create its metadata tables once."""
    # SQLite loads extensions with RTLD_GLOBAL, so SpatiaLite's system GEOS joins the global symbol scope;
    # a shapely (bundled GEOS) loaded after that binds to the wrong GEOS and fails (GEOSException, or a
    # segfault) while the gazetteer is built. Loading shapely's GEOS first keeps each bound to its own.
    import shapely  # noqa: F401

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        try:
            dbapi_conn.enable_load_extension(True)
            dbapi_conn.load_extension(library)
            dbapi_conn.enable_load_extension(False)
        except AttributeError as exc:
            raise ConfigError(
                "This Python's sqlite3 cannot load extensions; install the pysqlite3-binary wheel "
                "(pip install pysqlite3-binary)."
            ) from exc
        except Exception as exc:
            raise ConfigError(
                f"SpatiaLite could not be loaded ({library!r}: {exc}). Install it with "
                "`sudo apt-get install libsqlite3-mod-spatialite` (or scripts/install-system.sh), or point "
                "CIVICTRACKER_SPATIALITE_LIBRARY at mod_spatialite.so."
            ) from exc
        cur = dbapi_conn.cursor()
        # WAL lets the web app read while a job writes; the busy timeout waits instead of failing.
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        has_meta = cur.execute(
            "SELECT 1 FROM sqlite_master WHERE type='table' AND name='spatial_ref_sys'"
        ).fetchone()
        if not has_meta:
            # WGS84 only: loading every EPSG code takes seconds and we store SRID 4326.
            cur.execute("SELECT InitSpatialMetadata(1, 'WGS84')")
            dbapi_conn.commit()
        cur.close()


def check_database(engine: Engine, settings: Settings) -> None:
    """Connect once at start-up so a wrong URL or a missing spatial extension is one clear message."""
    try:
        with engine.connect() as conn:
            if settings.is_sqlite:
                conn.execute(text("SELECT spatialite_version()")).scalar()
            else:
                available = conn.execute(
                    text("SELECT 1 FROM pg_available_extensions WHERE name = 'postgis'")
                ).scalar()
                if not available:
                    raise ConfigError(
                        "PostGIS is not installed on the PostgreSQL server; install it with "
                        "`sudo apt-get install postgresql-15-postgis-3` (or scripts/install-system.sh test)."
                    )
    except ConfigError:
        raise
    except (OperationalError, DBAPIError) as exc:
        orig = getattr(exc, "orig", exc)
        if isinstance(orig, ConfigError):
            raise orig from None
        raise ConfigError(
            f"Cannot connect to the database {engine.url.render_as_string(hide_password=True)}: "
            f"{str(orig).strip().splitlines()[0] if str(orig).strip() else orig!r}. "
            "Check CIVICTRACKER_DATABASE_URL and that the server is running."
        ) from None


def begin_write(session: Any) -> None:
    """Open the session's transaction for writing now, so that everything up to its commit is one
    transaction on SQLite too.

    The sqlite3 driver begins a transaction only at the first INSERT or UPDATE. A SAVEPOINT issued before
    that opens one itself, and its RELEASE then commits everything so far: a job that gives each post a
    savepoint would commit post by post. BEGIN IMMEDIATE also takes the write lock up front (waiting up
    to the busy timeout), so the job never fails half-way on a lock. PostgreSQL needs nothing.
    """
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        # this transaction holds the write lock from its start: its flushes may number rows themselves
        real = session() if isinstance(session, scoped_session) else session
        real.info[_WRITE_TRANSACTION] = real.get_transaction()


# SQLite: tables whose new rows a write transaction numbers itself before its flush (see number_new_rows).
NUMBERED_TABLES = frozenset({"inbound_posts", "reporters", "ticket_events", "followers", "outbound_messages"})
_WRITE_TRANSACTION = "civictracker.write_transaction"


def install_row_numbering() -> None:
    """SQLite: number the new rows of NUMBERED_TABLES in each flush of a `begin_write` transaction.

    SQLAlchemy cannot match the ids an SQLite multi-row INSERT ... RETURNING gives back to their rows, so
    it writes each new row of these tables in a statement of its own to learn its id (a page: ~160). Given
    the ids, it writes them in one executemany per table. They are the ids SQLite would have given (one
    past the largest, in the order the rows were added), taken under the write lock the transaction holds
    from its start, so no other writer can take them. Once per process (a listener on every Session).
    """
    if not event.contains(OrmSession, "before_flush", _number_new_rows):
        event.listen(OrmSession, "before_flush", _number_new_rows)


def _number_new_rows(session: OrmSession, _context: Any, _instances: Any) -> None:
    marked = session.info.get(_WRITE_TRANSACTION)
    if marked is None or marked is not session.get_transaction():
        return  # not a transaction that held the write lock from its start
    by_table: dict[str, list[Any]] = {}
    for obj in session.new:
        state = inspect(obj)
        table = state.mapper.local_table.name
        if table in NUMBERED_TABLES and getattr(obj, "id", None) is None:
            by_table.setdefault(table, []).append(state)
    connection = session.connection()
    for table, states in by_table.items():
        # (table names from the models, never from input)
        top = connection.exec_driver_sql(f"SELECT max(id) FROM {table}").scalar()  # noqa: S608
        for offset, state in enumerate(sorted(states, key=lambda st: st.insert_order)):
            state.obj().id = int(top or 0) + 1 + offset


def hold_lock(session: Any, name: str) -> None:
    """Wait for, then hold until the transaction ends, the lock called `name`: one holder at a time.

    PostgreSQL: a transaction-level advisory lock. SQLite needs none: `begin_write` already holds the
    database's one write lock, which serializes every writer.
    """
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


def hold_locks(session: Any, names: Iterable[str] | Mapping[str, bool]) -> None:
    """Hold, until the transaction ends, every lock called by one of `names` (see hold_lock); a mapping
    says for each name whether it is taken exclusive (True) or shared with other shared holders (False).

    Taken in one statement in the order of their keys: every holder takes them in that same order, so two
    transactions never wait for each other in a cycle. Keys are 64-bit hashes of the names (a collision
    only makes two pages wait for each other).
    """
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    keys, shared, _ = _lock_keys(names)
    if keys:
        # unnest yields the arrays in order, and the aggregate takes each lock as the row comes
        connection.execute(
            text(
                "SELECT count(CASE WHEN s THEN pg_advisory_xact_lock_shared(k) ELSE pg_advisory_xact_lock(k)"
                " END) FROM unnest(CAST(:keys AS bigint[]), CAST(:shared AS boolean[])) AS t(k, s)"
            ),
            {"keys": keys, "shared": shared},
        )


def try_locks(session: Any, names: Iterable[str] | Mapping[str, bool]) -> set[str]:
    """Take, without waiting, every lock called by one of `names` that no other transaction holds (in a
    mode that excludes the one asked for: see hold_locks), held until the transaction ends (or a savepoint
    taken before is rolled back); returns the names held elsewhere. Never waits, so it cannot join a
    deadlock. SQLite: none is ever busy (see hold_lock)."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return set()
    keys, shared, named = _lock_keys(names)
    if not keys:
        return set()
    busy = connection.execute(
        text(
            "SELECT k FROM unnest(CAST(:keys AS bigint[]), CAST(:shared AS boolean[])) AS t(k, s) WHERE NOT"
            " CASE WHEN s THEN pg_try_advisory_xact_lock_shared(k) ELSE pg_try_advisory_xact_lock(k) END"
        ),
        {"keys": keys, "shared": shared},
    ).scalars()
    return {name for key in busy for name in named[key]}


def _lock_keys(
    names: Iterable[str] | Mapping[str, bool],
) -> tuple[list[int], list[bool], dict[int, list[str]]]:
    """The keys of `names` in ascending order, for each whether it is taken shared (see hold_locks), and
    the names of each key: a key that two names share is exclusive if either asks for it so; plain names
    are exclusive. Each name is hashed once."""
    modes = names if isinstance(names, Mapping) else dict.fromkeys(names, True)
    exclusive: dict[int, bool] = {}
    named: dict[int, list[str]] = {}
    for name, excl in modes.items():
        key = lock_key(name)
        exclusive[key] = exclusive.get(key, False) or excl
        named.setdefault(key, []).append(name)
    keys = sorted(exclusive)
    return keys, [not exclusive[key] for key in keys], named


def lock_key(name: str) -> int:
    """The advisory-lock key of a name: a signed 64-bit hash."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


class IdAllocator:
    """Primary keys of one table handed out before the rows are written.

    A new ticket needs its id at once (its reply is keyed and worded with it). Handed out here, the
    ticket waits to be written with everything else of its page in one flush, instead of one flush each.
    PostgreSQL: the id column's own sequence, as the INSERT would have used it. SQLite: one past the
    largest id, which is what SQLite itself gives an INTEGER PRIMARY KEY; only valid inside a transaction
    that holds the write lock from its start (`begin_write`), where no other writer can take that id.
    """

    def __init__(self, session: Any, table: str, column: str = "id") -> None:
        self._session, self._table, self._column = session, table, column
        self._next: int | None = None

    def take(self) -> int:
        connection = self._session.connection()
        if connection.dialect.name == "postgresql":
            sequence = f"pg_get_serial_sequence('{self._table}', '{self._column}')"
            return int(connection.exec_driver_sql(f"SELECT nextval({sequence})").scalar_one())
        if self._next is None:
            # (table and column are model names, never user input)
            top = connection.exec_driver_sql(f"SELECT max({self._column}) FROM {self._table}").scalar()  # noqa: S608
            self._next = int(top or 0) + 1
        taken, self._next = self._next, self._next + 1
        return taken


def written(values: Iterable[str]) -> list[Any]:
    """String values written into a statement, not bound (for `column.in_(written(...))`): PostgreSQL's
    partial indexes apply only where its planner sees the values their predicate names."""
    return [literal(v, String, literal_execute=True) for v in sorted(values)]
