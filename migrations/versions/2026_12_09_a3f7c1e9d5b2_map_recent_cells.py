"""The map's window of recently closed tickets summed per cell and service, slid a day at a time.

Revision ID: a3f7c1e9d5b2
Revises: e4c8a1f5b9d3
Create Date: 2026-12-09

The map's "closed" and "all" views summed ~30 day-rows of map_closed_cells per cell and service on every
uncached view: at 1M tickets the city at zoom 15 read 47,000 rows (75 ms on PostgreSQL) and, with the open
cells, went over the 100 ms bar (issue 17). map_recent_cells holds map_closed_cells' rows of the days after
map_grid.recent_after_day, summed per (zoom, cell, service): the window in one row per cell and service.
The app keeps it as it keeps the others: a fold adds the new day-rows of the window's days, and once a day
the window slides (the day it leaves taken away); a view reads it only when it was slid to the view's day,
in the same statement, else the day-rows (services/map_recent_cells.py).

Built here from map_closed_cells for the grid map_grid holds (none yet: the first map request or init-db
builds every table). PostgreSQL's truncate trigger empties it with the others.
"""

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "a3f7c1e9d5b2"
down_revision = "e4c8a1f5b9d3"
branch_labels = None
depends_on = None

RECENT_DAYS = 30  # services/public.CLOSED_RECENT_DAYS: the map's window of recently closed tickets


def _truncated_function(recent: bool) -> None:
    cleared = "DELETE FROM map_recent_cells;" if recent else ""
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION ct_tickets_truncated() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM map_cells;
            DELETE FROM map_cell_deltas;
            DELETE FROM map_closed_cells;
            {cleared}
            RETURN NULL;
        END $$
        """
    )


def _build(postgres: bool) -> None:
    """Sum map_closed_cells' days after the one the window starts in (the app's _window_after), as
    map_recent_cells.build_recent does."""
    bind = op.get_bind()
    grid = bind.execute(sa.text("SELECT cell_lon FROM map_grid WHERE id = 1")).first()
    if grid is None or grid[0] is None:
        return  # no grid yet: the first map request (or init-db) counts every table
    if postgres:
        # no fold of the running app (which knows nothing of the window) may land between the sum and
        # the commit: it would add a day-row the window misses
        op.execute("LOCK TABLE map_closed_cells IN SHARE MODE")
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=RECENT_DAYS)
    after_day = (start.date() - dt.date(1970, 1, 1)).days
    bind.execute(
        sa.text(
            """
            INSERT INTO map_recent_cells (zoom, gx, gy, service_id, n, sum_lat_e7, sum_lon_e7, sum_id)
            SELECT zoom, gx, gy, service_id, sum(n), sum(sum_lat_e7), sum(sum_lon_e7), sum(sum_id)
            FROM map_closed_cells WHERE day > :after_day
            GROUP BY zoom, gx, gy, service_id
            HAVING sum(n) <> 0
            """
        ),
        {"after_day": after_day},
    )
    bind.execute(sa.text("UPDATE map_grid SET recent_after_day = :after_day WHERE id = 1"), {"after_day": after_day})


def upgrade():
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "map_recent_cells",
        sa.Column("zoom", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("gx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("gy", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("service_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sum_lat_e7", sa.BigInteger(), nullable=False),
        sa.Column("sum_lon_e7", sa.BigInteger(), nullable=False),
        sa.Column("sum_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("zoom", "gx", "gy", "service_id", name=op.f("pk_map_recent_cells")),
    )
    op.add_column("map_grid", sa.Column("recent_after_day", sa.Integer(), nullable=True))
    if postgres:
        _truncated_function(recent=True)
    _build(postgres)
    if postgres:
        op.execute("ANALYZE map_recent_cells")  # a new table has no statistics: planned as empty until then


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        _truncated_function(recent=False)
    op.drop_table("map_recent_cells")
    op.execute("ALTER TABLE map_grid DROP COLUMN recent_after_day")
