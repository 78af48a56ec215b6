"""Index tickets.closed_at: the metrics window reads tickets reported OR closed since a date.

Revision ID: e2b7c4d9a816
Revises: c4a8e2f6b1d9
Create Date: 2026-12-06

With created_at indexed but not closed_at, `created_at >= :since OR closed_at >= :since` reads the whole
tickets table on both databases; with both, SQLite takes a MULTI-INDEX OR and PostgreSQL a BitmapOr.
"""
from alembic import op

revision = "e2b7c4d9a816"
down_revision = "c4a8e2f6b1d9"
branch_labels = None
depends_on = None


def upgrade():
    op.create_index("ix_tickets_closed_at", "tickets", ["closed_at"], unique=False)


def downgrade():
    op.drop_index("ix_tickets_closed_at", table_name="tickets")
