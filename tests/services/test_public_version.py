"""The public data version's counters: on PostgreSQL one bump per writing transaction until the version
is read in it, in a slot found by key, so the table stays a few pages however many writes it counts.

The test's own session writes (SQLite has one writer at a time, and the test app's session is it)."""

from __future__ import annotations

import importlib.util

import pytest
from sqlalchemy import text

from civictracker.paths import MIGRATIONS_DIR
from civictracker.services.public_version import public_data_version
from tests import factories

SLOTS_SQL = "SELECT slot, version FROM public_data_version ORDER BY slot"
UPDATE = text("UPDATE tickets SET summary = :s WHERE id = :id")


def _slots(db) -> dict[int, int]:  # type: ignore[no-untyped-def]
    return {int(s): int(v) for s, v in db.execute(text(SLOTS_SQL))}


def test_a_transaction_bumps_once_until_the_version_is_read(db, backend: str) -> None:  # type: ignore[no-untyped-def]
    ticket = factories.ticket(db)
    db.commit()
    before = _slots(db)  # (a plain read of the table: it clears nothing)
    for i in range(5):
        db.execute(UPDATE, {"s": f"s{i}", "id": ticket.id})
    db.commit()
    after = _slots(db)
    db.rollback()
    moved = {slot: after[slot] - before[slot] for slot in after if after[slot] != before[slot]}
    # PostgreSQL: one slot, once for the transaction; SQLite: once per row written, slot 0
    assert list(moved.values()) == ([1] if backend == "postgis" else [5])


def test_a_write_after_a_read_in_the_same_transaction_moves_it_again(db) -> None:  # type: ignore[no-untyped-def]
    ticket = factories.ticket(db)
    db.flush()
    for summary in ("a", "b", "c"):
        before = public_data_version(db)
        db.execute(UPDATE, {"s": summary, "id": ticket.id})
        assert public_data_version(db) > before
    db.rollback()


def test_a_rolled_back_savepoint_takes_its_bump_back(db) -> None:  # type: ignore[no-untyped-def]
    ticket = factories.ticket(db)
    db.commit()
    before = public_data_version(db)
    db.commit()
    _slots(db)  # a transaction that has written nothing yet
    inner = db.begin_nested()
    db.execute(UPDATE, {"s": "a", "id": ticket.id})
    inner.rollback()  # the bump, its row lock and (PostgreSQL) the transaction's mark go with it
    db.execute(UPDATE, {"s": "b", "id": ticket.id})
    db.commit()
    assert public_data_version(db) == before + 1
    db.rollback()


def test_many_writes_make_few_row_versions(db, backend: str) -> None:  # type: ignore[no-untyped-def]
    """1,500 transactions of three writes each. Every bump is a row version, and on a busy server they
    outlive their page's pruning until autovacuum: one per transaction (PostgreSQL), not one per
    statement, keeps the table a few pages (4,500 bumps made 26 pages here; it once grew to 42 MB)."""
    ticket = factories.ticket(db)
    db.commit()
    before = public_data_version(db)
    db.commit()
    for i in range(1500):
        for j in range(3):
            db.execute(UPDATE, {"s": f"{i}-{j}", "id": ticket.id})
        db.commit()
    assert public_data_version(db) == before + (1500 if backend == "postgis" else 4500)
    if backend == "postgis":
        pages = db.scalar(text("SELECT pg_relation_size('public_data_version') / 8192"))
        assert pages <= 12, f"public_data_version grew to {pages} pages"
        # the slot is found by key: with sequential scans off, the lookup still has a plan (the index)
        db.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(
            db.scalars(
                text("EXPLAIN SELECT slot FROM public_data_version WHERE slot = 3 FOR UPDATE SKIP LOCKED")
            )
        )
        assert "pk_public_data_version" in plan, plan
    db.rollback()


def test_the_migration_rewrites_a_bloated_table_and_keeps_the_version(db, backend: str) -> None:  # type: ignore[no-untyped-def]
    """A table the old trigger bloated (row versions no vacuum can hand back) is read page by page on every
    request: the migration's rewrite leaves one page and the same version."""
    if backend != "postgis":
        pytest.skip("SQLite keeps one row per bump on slot 0 and was never bloated so")
    path = next((MIGRATIONS_DIR / "versions").glob("*_d7a3f9c2e4b8_*.py"))
    spec = importlib.util.spec_from_file_location("public_version_by_key", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    for _ in range(3000):  # one transaction: no row version can be pruned before it ends
        db.execute(text("UPDATE public_data_version SET version = version + 0 WHERE slot = 0"))
    pages = text("SELECT pg_relation_size('public_data_version') / 8192")
    assert db.scalar(pages) > 12
    version = public_data_version(db)
    db.execute(text(migration.REWRITE))
    assert db.scalar(pages) <= 1 and public_data_version(db) == version
