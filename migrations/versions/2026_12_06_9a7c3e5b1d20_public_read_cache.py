"""Public read cache: an O(1) data version and the map's open-ticket cells, both kept by triggers.

Revision ID: 9a7c3e5b1d20
Revises: 6f1d3b8e2a47
Create Date: 2026-12-06

Every map viewport request used to count the whole tickets table to build its cache key, and every
low-zoom cache miss grouped every open ticket. Now:
- public_data_version: 32 counters bumped by any write to tickets, ticket_events or services (a row
  trigger on SQLite; a statement trigger on PostgreSQL that takes a slot no other transaction holds, so
  concurrent writers do not wait on one row). The version is their sum: one tiny read.
- map_cell_deltas: a row trigger on tickets appends +1/-1 when a ticket enters or leaves the open map
  (status in the map's open set, public point known). Appends never contend; the app folds them into
  map_cells (counts per grid cell and service) and builds the cells for its city's grid (map_grid) on the
  first map request.
The triggers are defined here, not in Python, so every writer (ORM, Core, raw SQL, bulk loads) is counted.
The open set is the map's (services/public.py MAP_OPEN); tests/services/test_map_cells.py checks each status.
"""

import sqlalchemy as sa
from alembic import op

revision = "9a7c3e5b1d20"
down_revision = "6f1d3b8e2a47"
branch_labels = None
depends_on = None

SLOTS = 32
MAP_OPEN_SQL = "('open', 'acknowledged', 'assigned', 'in_progress', 'reopened')"
VERSIONED = ("tickets", "ticket_events", "services")


def _old_on_map(prefix: str) -> str:
    return (
        f"{prefix}.status IN {MAP_OPEN_SQL} AND {prefix}.public_lat IS NOT NULL "
        f"AND {prefix}.public_lon IS NOT NULL"
    )


def _sqlite_upgrade() -> None:
    moved = (
        "(OLD.status IS NOT NEW.status OR OLD.service_id IS NOT NEW.service_id "
        "OR OLD.public_lat IS NOT NEW.public_lat OR OLD.public_lon IS NOT NEW.public_lon)"
    )
    delta = (
        "INSERT INTO map_cell_deltas (service_id, dn, lat, lon, ticket_id) SELECT {r}.service_id, {dn}, "
        "{r}.public_lat, {r}.public_lon, {r}.id WHERE {cond};"
    )
    bump = "UPDATE public_data_version SET version = version + 1 WHERE slot = 0;"
    for table in VERSIONED:
        for event in ("INSERT", "UPDATE", "DELETE"):
            body = bump
            if table == "tickets" and event == "INSERT":
                body += delta.format(r="NEW", dn=1, cond=_old_on_map("NEW"))
            elif table == "tickets" and event == "UPDATE":
                body += delta.format(r="OLD", dn=-1, cond=f"{_old_on_map('OLD')} AND {moved}")
                body += delta.format(r="NEW", dn=1, cond=f"{_old_on_map('NEW')} AND {moved}")
            elif table == "tickets":
                body += delta.format(r="OLD", dn=-1, cond=_old_on_map("OLD"))
            op.execute(
                f"CREATE TRIGGER {table}_public_{event.lower()} AFTER {event} ON {table} "
                f"FOR EACH ROW BEGIN {body} END"
            )


def _pg_upgrade() -> None:
    op.execute(
        f"""
        CREATE FUNCTION ct_bump_public_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            -- Any slot no other transaction holds (this one's own count as free): a writer never waits
            -- on the version while fewer than {SLOTS} write at once, so it cannot join a deadlock here.
            UPDATE public_data_version SET version = version + 1 WHERE slot = (
                SELECT slot FROM public_data_version
                ORDER BY (slot - pg_backend_pid() % {SLOTS} + {SLOTS}) % {SLOTS}
                LIMIT 1 FOR UPDATE SKIP LOCKED
            );
            IF NOT FOUND THEN  -- every slot taken: wait for this connection's own
                UPDATE public_data_version SET version = version + 1 WHERE slot = pg_backend_pid() % {SLOTS};
            END IF;
            RETURN NULL;
        END $$
        """
    )
    moved = (
        "(OLD.status, OLD.service_id, OLD.public_lat, OLD.public_lon) IS DISTINCT FROM "
        "(NEW.status, NEW.service_id, NEW.public_lat, NEW.public_lon)"
    )
    op.execute(
        f"""
        CREATE FUNCTION ct_ticket_map_delta() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND {moved}) THEN
                IF {_old_on_map("OLD")} THEN
                    INSERT INTO map_cell_deltas (service_id, dn, lat, lon, ticket_id)
                    VALUES (OLD.service_id, -1, OLD.public_lat, OLD.public_lon, OLD.id);
                END IF;
            END IF;
            IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND {moved}) THEN
                IF {_old_on_map("NEW")} THEN
                    INSERT INTO map_cell_deltas (service_id, dn, lat, lon, ticket_id)
                    VALUES (NEW.service_id, 1, NEW.public_lat, NEW.public_lon, NEW.id);
                END IF;
            END IF;
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION ct_tickets_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM map_cells;
            DELETE FROM map_cell_deltas;
            RETURN NULL;
        END $$
        """
    )
    for table in VERSIONED:
        op.execute(
            f"CREATE TRIGGER {table}_public_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION ct_bump_public_version()"
        )
    op.execute(
        "CREATE TRIGGER tickets_map_delta AFTER INSERT OR UPDATE OF status, service_id, public_lat, public_lon "
        "OR DELETE ON tickets FOR EACH ROW EXECUTE FUNCTION ct_ticket_map_delta()"
    )
    op.execute(
        "CREATE TRIGGER tickets_map_truncate AFTER TRUNCATE ON tickets "
        "FOR EACH STATEMENT EXECUTE FUNCTION ct_tickets_truncated()"
    )


def upgrade():
    op.create_table(
        "public_data_version",
        sa.Column("slot", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_public_data_version")),
    )
    op.create_table(
        "map_grid",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cell_lon", sa.Float(), nullable=True),
        sa.Column("cell_lat", sa.Float(), nullable=True),
        sa.Column("min_lon", sa.Float(), nullable=True),
        sa.Column("min_lat", sa.Float(), nullable=True),
        sa.Column("max_lon", sa.Float(), nullable=True),
        sa.Column("max_lat", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_map_grid")),
    )
    op.create_table(
        "map_cells",
        sa.Column("gx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("gy", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("service_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sum_lat_e7", sa.BigInteger(), nullable=False),
        sa.Column("sum_lon_e7", sa.BigInteger(), nullable=False),
        sa.Column("sum_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("gx", "gy", "service_id", name=op.f("pk_map_cells")),
    )
    op.create_table(
        "map_cell_deltas",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("service_id", sa.Integer(), nullable=False),
        sa.Column("dn", sa.Integer(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_map_cell_deltas")),
    )
    version = sa.table(
        "public_data_version", sa.column("slot", sa.Integer), sa.column("version", sa.BigInteger)
    )
    op.bulk_insert(version, [{"slot": i, "version": 0} for i in range(SLOTS)])
    op.bulk_insert(sa.table("map_grid", sa.column("id", sa.Integer)), [{"id": 1}])
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in VERSIONED:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_public_version ON {table}")
        op.execute("DROP TRIGGER IF EXISTS tickets_map_delta ON tickets")
        op.execute("DROP TRIGGER IF EXISTS tickets_map_truncate ON tickets")
        for fn in ("ct_bump_public_version", "ct_ticket_map_delta", "ct_tickets_truncated"):
            op.execute(f"DROP FUNCTION IF EXISTS {fn}()")
    else:
        for table in VERSIONED:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_public_{event}")
    op.drop_table("map_cell_deltas")
    op.drop_table("map_cells")
    op.drop_table("map_grid")
    op.drop_table("public_data_version")
