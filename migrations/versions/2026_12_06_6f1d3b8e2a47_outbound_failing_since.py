"""Outbound messages record when their platform calls started failing: the retry budget is time, not tries.

Revision ID: 6f1d3b8e2a47
Revises: 9b2f4d6a8c31
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "6f1d3b8e2a47"
down_revision = "9b2f4d6a8c31"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_column("failing_since")
