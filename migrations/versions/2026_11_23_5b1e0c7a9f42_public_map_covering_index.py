"""Covering index for the public map's viewport and grid-cluster queries.

Revision ID: 5b1e0c7a9f42
Revises: d083fcb2d1a1
Create Date: 2026-11-23

The viewport endpoint filters open tickets by status and a lon/lat box, then groups by grid cell; with
status, public_lon, public_lat, service_id in one index both SQLite and PostgreSQL answer from the index.
"""
from alembic import op

revision = "5b1e0c7a9f42"
down_revision = "d083fcb2d1a1"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index(
            "ix_tickets_public_map", ["status", "public_lon", "public_lat", "service_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_public_map")
