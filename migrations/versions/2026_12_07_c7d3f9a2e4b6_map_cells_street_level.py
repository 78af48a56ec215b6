"""The open map's cells are kept at a street-level zoom too, so a view of a busy street counts no tickets.

Revision ID: c7d3f9a2e4b6
Revises: b5e2d8f1c3a7
Create Date: 2026-12-07

map_cells held the open tickets per (cell, service) of the city grid (zoom 15) only, so a view at zoom 16
or 17 counted its tickets: with half of 1M tickets on one street, a view of that street grouped ~50,000
open tickets per request (250-500 ms uncached). map_cells now has a `zoom` column in its key and keeps the
city grid's cells and those of a grid four times finer (zoom 17, services/map_open_cells.FINE_ZOOM); the
deltas the triggers append are the same (a place, not a cell), folded into both.

map_cells is a cache the app rebuilds when map_grid does not match its city grid: the table is made anew
and map_grid emptied, so the first map request (or init-db) counts the open tickets again.
"""

import sqlalchemy as sa
from alembic import op

revision = "c7d3f9a2e4b6"
down_revision = "b5e2d8f1c3a7"
branch_labels = None
depends_on = None


def _map_cells(with_zoom: bool) -> None:
    key = ["zoom", "gx", "gy", "service_id"] if with_zoom else ["gx", "gy", "service_id"]
    columns = [sa.Column("zoom", sa.Integer(), autoincrement=False, nullable=False)] if with_zoom else []
    op.create_table(
        "map_cells",
        *columns,
        sa.Column("gx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("gy", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("service_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("sum_lat_e7", sa.BigInteger(), nullable=False),
        sa.Column("sum_lon_e7", sa.BigInteger(), nullable=False),
        sa.Column("sum_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*key, name=op.f("pk_map_cells")),
    )


def upgrade() -> None:
    op.drop_table("map_cells")
    _map_cells(with_zoom=True)
    op.execute("DELETE FROM map_grid")  # the cells are counted again on first use


def downgrade() -> None:
    op.drop_table("map_cells")
    _map_cells(with_zoom=False)
    op.execute("DELETE FROM map_grid")
