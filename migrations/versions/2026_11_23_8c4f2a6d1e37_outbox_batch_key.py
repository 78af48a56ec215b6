"""Outbound messages record the key of the platform call that answered them (clusters, DM spill).

Revision ID: 8c4f2a6d1e37
Revises: 5b1e0c7a9f42
Create Date: 2026-11-23

One cluster reply answers several outbox rows; each row keeps the batch key so that a crash between the
platform accepting the reply and the database recording it is recovered for all members at once.
"""

import sqlalchemy as sa
from alembic import op

revision = "8c4f2a6d1e37"
down_revision = "5b1e0c7a9f42"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("batch_key", sa.String(length=200), nullable=True))
        batch_op.create_index("ix_outbound_messages_batch_key", ["batch_key"], unique=False)


def downgrade():
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_index("ix_outbound_messages_batch_key")
        batch_op.drop_column("batch_key")
