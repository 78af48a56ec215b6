"""The map's recently closed tickets per cell and closing day, kept by the same triggers as the open ones.

Revision ID: e4c8a1f5b9d3
Revises: d7a3f9c2e4b8
Create Date: 2026-12-08

The map's "closed" and "all" views show the tickets closed in the last 30 days. They were counted from
an index of the closed tickets on every cache miss: at 1M tickets (half on one street) ~74,000 index
rows, 227 ms p95 on SQLite at zoom 13. Now the ticket triggers also append a delta (+1/-1, with the UTC
day the ticket was closed, as days since 1970-01-01) when a ticket enters or leaves the closed map
(status resolved, closed or referred, public point and closing time known), and the app folds them into
map_closed_cells (count and integer sums per zoom, cell, service and closing day), as it folds the open
ones into map_cells. A "closed in the last 30 days" view sums 30 day-rows per cell, and counts the window's
first, partial day from the tickets (services/map_closed_cells.py): the same answer as counting them.

Both tables are also kept at a coarse zoom (13, services/map_grid.COARSE_ZOOM) that every view up to
zoom 13 merges: a twelfth of the city grid's rows.

The new table is built here from the tickets already stored, for the grid map_grid holds (none yet: the
first map request or init-db builds both tables), and the open cells' coarse zoom from the city grid's.
Only the days a window can reach are kept.
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "e4c8a1f5b9d3"
down_revision = "d7a3f9c2e4b8"
branch_labels = None
depends_on = None

MAP_OPEN_SQL = "('open', 'acknowledged', 'assigned', 'in_progress', 'reopened')"
MAP_CLOSED_SQL = "('closed', 'referred', 'resolved')"
KEEP_DAYS = 32  # services/map_closed_cells.KEEP_DAYS: the 30-day window, its first day, a margin
COVER = ("status", "closed_at", "public_lon", "public_lat", "service_id")  # ix_tickets_map_closed_cover
FINE_SCALE = 4  # the street-level grid (zoom 17) is the city grid (zoom 15) with cells 4x smaller
COARSE_ZOOM = 13  # services/map_grid.COARSE_ZOOM: merged for every zoom up to 13
SQLITE_DAY = "CAST(julianday(substr({r}.closed_at, 1, 10)) - 2440587.5 AS INTEGER)"
PG_DAY = "(date(timezone('UTC', {r}.closed_at)) - DATE '1970-01-01')"


def _on_map(r: str) -> str:
    return f"{r}.status IN {MAP_OPEN_SQL} AND {r}.public_lat IS NOT NULL AND {r}.public_lon IS NOT NULL"


def _on_closed_map(r: str) -> str:
    return (
        f"{r}.status IN {MAP_CLOSED_SQL} AND {r}.public_lat IS NOT NULL AND {r}.public_lon IS NOT NULL "
        f"AND {r}.closed_at IS NOT NULL"
    )


# --- SQLite: the three row triggers on tickets, with and without the closing deltas ---------------------

SQLITE_MOVED = (
    "(OLD.status IS NOT NEW.status OR OLD.service_id IS NOT NEW.service_id "
    "OR OLD.public_lat IS NOT NEW.public_lat OR OLD.public_lon IS NOT NEW.public_lon)"
)
SQLITE_MOVED_CLOSED = SQLITE_MOVED[:-1] + " OR OLD.closed_at IS NOT NEW.closed_at)"
SQLITE_BUMP = "UPDATE public_data_version SET version = version + 1 WHERE slot = 0;"


def _sqlite_delta(r: str, dn: int, cond: str) -> str:
    return (
        "INSERT INTO map_cell_deltas (service_id, dn, lat, lon, ticket_id) SELECT "
        f"{r}.service_id, {dn}, {r}.public_lat, {r}.public_lon, {r}.id WHERE {cond};"
    )


def _sqlite_closed_delta(r: str, dn: int, cond: str) -> str:
    return (
        "INSERT INTO map_cell_deltas (service_id, dn, lat, lon, ticket_id, day) SELECT "
        f"{r}.service_id, {dn}, {r}.public_lat, {r}.public_lon, {r}.id, {SQLITE_DAY.format(r=r)} "
        f"WHERE {cond};"
    )


def _sqlite_triggers(closed: bool) -> None:
    bodies = {
        "insert": _sqlite_delta("NEW", 1, _on_map("NEW")),
        "update": _sqlite_delta("OLD", -1, f"{_on_map('OLD')} AND {SQLITE_MOVED}")
        + _sqlite_delta("NEW", 1, f"{_on_map('NEW')} AND {SQLITE_MOVED}"),
        "delete": _sqlite_delta("OLD", -1, _on_map("OLD")),
    }
    if closed:
        bodies["insert"] += _sqlite_closed_delta("NEW", 1, _on_closed_map("NEW"))
        bodies["update"] += _sqlite_closed_delta(
            "OLD", -1, f"{_on_closed_map('OLD')} AND {SQLITE_MOVED_CLOSED}"
        ) + _sqlite_closed_delta("NEW", 1, f"{_on_closed_map('NEW')} AND {SQLITE_MOVED_CLOSED}")
        bodies["delete"] += _sqlite_closed_delta("OLD", -1, _on_closed_map("OLD"))
    for event, body in bodies.items():
        op.execute(f"DROP TRIGGER IF EXISTS tickets_public_{event}")
        op.execute(
            f"CREATE TRIGGER tickets_public_{event} AFTER {event.upper()} ON tickets "
            f"FOR EACH ROW BEGIN {SQLITE_BUMP}{body} END"
        )


# --- PostgreSQL: the row function behind tickets_map_delta, and the truncate one --------------------------

PG_MOVED = (
    "(OLD.status, OLD.service_id, OLD.public_lat, OLD.public_lon) IS DISTINCT FROM "
    "(NEW.status, NEW.service_id, NEW.public_lat, NEW.public_lon)"
)
PG_MOVED_CLOSED = (
    "(OLD.status, OLD.service_id, OLD.public_lat, OLD.public_lon, OLD.closed_at) IS DISTINCT FROM "
    "(NEW.status, NEW.service_id, NEW.public_lat, NEW.public_lon, NEW.closed_at)"
)


def _pg_open_part() -> str:
    return f"""
            IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND {PG_MOVED}) THEN
                IF {_on_map("OLD")} THEN
                    INSERT INTO map_cell_deltas (service_id, dn, lat, lon, ticket_id)
                    VALUES (OLD.service_id, -1, OLD.public_lat, OLD.public_lon, OLD.id);
                END IF;
            END IF;
            IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND {PG_MOVED}) THEN
                IF {_on_map("NEW")} THEN
                    INSERT INTO map_cell_deltas (service_id, dn, lat, lon, ticket_id)
                    VALUES (NEW.service_id, 1, NEW.public_lat, NEW.public_lon, NEW.id);
                END IF;
            END IF;"""


def _pg_closed_part() -> str:
    return f"""
            IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND {PG_MOVED_CLOSED}) THEN
                IF {_on_closed_map("OLD")} THEN
                    INSERT INTO map_cell_deltas (service_id, dn, lat, lon, ticket_id, day)
                    VALUES (OLD.service_id, -1, OLD.public_lat, OLD.public_lon, OLD.id, {PG_DAY.format(r="OLD")});
                END IF;
            END IF;
            IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND {PG_MOVED_CLOSED}) THEN
                IF {_on_closed_map("NEW")} THEN
                    INSERT INTO map_cell_deltas (service_id, dn, lat, lon, ticket_id, day)
                    VALUES (NEW.service_id, 1, NEW.public_lat, NEW.public_lon, NEW.id, {PG_DAY.format(r="NEW")});
                END IF;
            END IF;"""


def _pg_functions(closed: bool) -> None:
    body = _pg_open_part() + (_pg_closed_part() if closed else "")
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION ct_ticket_map_delta() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN{body}
            RETURN NULL;
        END $$
        """
    )
    cleared = "DELETE FROM map_closed_cells;" if closed else ""
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION ct_tickets_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM map_cells;
            DELETE FROM map_cell_deltas;
            {cleared}
            RETURN NULL;
        END $$
        """
    )
    columns = "status, service_id, public_lat, public_lon" + (", closed_at" if closed else "")
    op.execute("DROP TRIGGER IF EXISTS tickets_map_delta ON tickets")
    op.execute(
        f"CREATE TRIGGER tickets_map_delta AFTER INSERT OR UPDATE OF {columns} OR DELETE ON tickets "
        "FOR EACH ROW EXECUTE FUNCTION ct_ticket_map_delta()"
    )


def _build(postgres: bool) -> None:
    """Count the closed tickets of the kept days into map_closed_cells for the grid map_grid holds, at
    the kept zooms, with the expressions the app's rebuild uses (services/map_open_cells.py); and the open
    cells at the new coarse zoom."""
    bind = op.get_bind()
    grid = bind.execute(
        sa.text("SELECT cell_lon, cell_lat, min_lon, min_lat, max_lon, max_lat FROM map_grid WHERE id = 1")
    ).first()
    if grid is None or grid[0] is None:
        return  # no grid yet: the first map request (or init-db) counts both tables
    since_day = (dt.datetime.now(dt.UTC).date() - dt.date(1970, 1, 1)).days - KEEP_DAYS
    since = dt.datetime.combine(dt.date(1970, 1, 1) + dt.timedelta(days=since_day), dt.time())
    cell_lon, cell_lat, min_lon, min_lat, max_lon, max_lat = grid
    day = PG_DAY.format(r="tickets") if postgres else SQLITE_DAY.format(r="tickets")
    for zoom, scale in ((15, 1), (17, FINE_SCALE)):
        # bound, not written in: the very floats the app divides by (a decimal literal may parse 1 ulp off)
        x, y = "(tickets.public_lon + 180.0) / :cell_lon", "(tickets.public_lat + 90.0) / :cell_lat"
        if postgres:  # PostgreSQL's CAST rounds; SQLite's truncates, floor for these non-negative values
            x, y = f"floor({x})", f"floor({y})"
        gx, gy = f"CAST({x} AS INTEGER)", f"CAST({y} AS INTEGER)"
        bind.execute(
            sa.text(
                f"""
                INSERT INTO map_closed_cells (zoom, gx, gy, service_id, day, n, sum_lat_e7, sum_lon_e7, sum_id)
                SELECT {zoom}, {gx}, {gy}, tickets.service_id, {day}, count(*),
                    sum(CAST(round(tickets.public_lat * 10000000.0) AS BIGINT)),
                    sum(CAST(round(tickets.public_lon * 10000000.0) AS BIGINT)),
                    sum(tickets.id)
                FROM tickets
                WHERE tickets.status IN {MAP_CLOSED_SQL} AND tickets.closed_at >= :since
                    AND tickets.public_lat IS NOT NULL AND tickets.public_lon IS NOT NULL
                    AND tickets.public_lon >= :min_lon AND tickets.public_lon <= :max_lon
                    AND tickets.public_lat >= :min_lat AND tickets.public_lat <= :max_lat
                GROUP BY 2, 3, 4, 5
                """
            ),
            {
                "since": since.replace(tzinfo=dt.UTC) if postgres else since.strftime("%Y-%m-%d %H:%M:%S.%f"),
                "cell_lon": cell_lon / scale,
                "cell_lat": cell_lat / scale,
                "min_lon": min_lon,
                "min_lat": min_lat,
                "max_lon": max_lon,
                "max_lat": max_lat,
            },
        )
    # The coarse grid (zoom 13, cells 4x the city grid's each way), open and closed: the city grid's
    # cells merged, exactly the keys the app computes (the cell sizes are powers of two). The open ones
    # from map_cells, not from the tickets: the deltas still pending are folded into every kept grid.
    op.execute(
        f"""
        INSERT INTO map_cells (zoom, gx, gy, service_id, n, sum_lat_e7, sum_lon_e7, sum_id)
        SELECT {COARSE_ZOOM}, gx >> 2, gy >> 2, service_id, sum(n), sum(sum_lat_e7), sum(sum_lon_e7), sum(sum_id)
        FROM map_cells WHERE zoom = 15 GROUP BY 2, 3, 4
        """
    )
    op.execute(
        f"""
        INSERT INTO map_closed_cells (zoom, gx, gy, service_id, day, n, sum_lat_e7, sum_lon_e7, sum_id)
        SELECT {COARSE_ZOOM}, gx >> 2, gy >> 2, service_id, day, sum(n), sum(sum_lat_e7), sum(sum_lon_e7),
            sum(sum_id)
        FROM map_closed_cells WHERE zoom = 15 GROUP BY 2, 3, 4, 5
        """
    )


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.add_column("map_cell_deltas", sa.Column("day", sa.Integer(), nullable=True))
    op.create_table(
        "map_closed_cells",
        sa.Column("zoom", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("gx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("gy", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("service_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sum_lat_e7", sa.BigInteger(), nullable=False),
        sa.Column("sum_lon_e7", sa.BigInteger(), nullable=False),
        sa.Column("sum_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("zoom", "gx", "gy", "service_id", "day", name=op.f("pk_map_closed_cells")),
    )
    op.create_index("ix_map_closed_cells_day", "map_closed_cells", ["day"])
    if postgres:
        # No ticket write may land between the count and the new trigger: writers wait for the upgrade.
        op.execute("LOCK TABLE tickets IN SHARE ROW EXCLUSIVE MODE")
        _pg_functions(closed=True)
        # The window's first day is counted from this index: with the id in it, from the index alone
        # (16-26 ms of heap reads for ~1,200 tickets at 1M, scattered over the table, without).
        op.drop_index("ix_tickets_map_closed_cover", table_name="tickets")
        op.create_index("ix_tickets_map_closed_cover", "tickets", list(COVER), postgresql_include=["id"])
    else:
        _sqlite_triggers(closed=True)
    _build(postgres)
    if postgres:
        op.execute("ANALYZE map_closed_cells")  # a new table has no statistics: planned as empty until then


def downgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        _pg_functions(closed=False)
        op.drop_index("ix_tickets_map_closed_cover", table_name="tickets")
        op.create_index("ix_tickets_map_closed_cover", "tickets", list(COVER))
    else:
        _sqlite_triggers(closed=False)
    op.execute("DELETE FROM map_cell_deltas WHERE day IS NOT NULL")
    op.execute(f"DELETE FROM map_cells WHERE zoom = {COARSE_ZOOM}")  # the older code keeps zooms 15 and 17
    op.drop_index("ix_map_closed_cells_day", table_name="map_closed_cells")
    op.drop_table("map_closed_cells")
    # not a batch copy on SQLite: renaming a copy into place fails on the triggers that name the table
    op.execute("ALTER TABLE map_cell_deltas DROP COLUMN day")
