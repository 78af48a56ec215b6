"""Migrations: one head, and `upgrade head` builds the same tables and indexes on SQLite and PostGIS."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from civictracker.paths import MIGRATIONS_DIR
from tests.conftest import drop_app, make_app

SPATIALITE_INTERNAL_PREFIXES = (
    "idx_",
    "geometry_columns",
    "spatial",
    "sql_",
    "views_",
    "virts_",
    "vector_",
    "data_licenses",
    "ElementaryGeometries",
    "SpatialIndex",
    "KNN",
    "alembic",
)


def test_single_head() -> None:
    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"expected one migration head, found {heads}"


def _schema(app) -> dict[str, dict[str, object]]:  # type: ignore[no-untyped-def]
    from civictracker.extensions import db

    with app.app_context():
        insp = inspect(db.engine)
        schema: dict[str, dict[str, object]] = {}
        for table in insp.get_table_names():
            if table.startswith(SPATIALITE_INTERNAL_PREFIXES) or table in {"spatial_ref_sys", "KNN2"}:
                continue
            schema[table] = {
                "columns": sorted(c["name"] for c in insp.get_columns(table)),
                "indexes": sorted(
                    i["name"]
                    for i in insp.get_indexes(table)
                    if not i["name"].startswith("idx_") and not i.get("duplicates_constraint")
                ),
                "unique": sorted(u["name"] for u in insp.get_unique_constraints(table)),
            }
        return schema


def _spatial_indexes(app) -> set[str]:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    from civictracker.extensions import db

    with app.app_context(), db.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            rows = conn.execute(text("SELECT indexname FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'"))
            return {r[0] for r in rows}
        rows = conn.execute(
            text(
                "SELECT f_table_name, f_geometry_column FROM geometry_columns WHERE spatial_index_enabled = 1"
            )
        )
        return {f"idx_{r[0]}_{r[1]}" for r in rows}


def test_upgrade_head_builds_identical_schema_on_both_backends(tmp_path: Path) -> None:
    sqlite_app, _ = make_app("sqlite", tmp_path / "a")
    pg_app, pg_db = make_app("postgis", tmp_path / "b")
    try:
        sqlite_schema, pg_schema = _schema(sqlite_app), _schema(pg_app)
        assert set(sqlite_schema) == set(pg_schema)
        assert "tickets" in sqlite_schema and "inbound_posts" in sqlite_schema
        for table in sqlite_schema:
            assert sqlite_schema[table] == pg_schema[table], table
        expected_spatial = {"idx_tickets_location", "idx_tickets_public_location", "idx_crews_location"}
        assert _spatial_indexes(sqlite_app) == expected_spatial
        assert _spatial_indexes(pg_app) == expected_spatial
    finally:
        drop_app(sqlite_app, None)
        drop_app(pg_app, pg_db)
