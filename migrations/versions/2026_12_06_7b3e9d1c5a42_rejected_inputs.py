"""Rejected inputs: what a channel could not read (a malformed feed line), kept with its reason.

Revision ID: 7b3e9d1c5a42
Revises: 6d2f9a1c3b57
Create Date: 2026-12-06

A table of its own rather than rows in inbound_posts: a bad line has no trustworthy id, author or kind,
and must never reach the pipeline, the inbox or the public pages; it is kept for a person to read.
"""

import sqlalchemy as sa
from alembic import op

revision = "7b3e9d1c5a42"
down_revision = "6d2f9a1c3b57"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "rejected_inputs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rejected_inputs")),
    )
    with op.batch_alter_table("rejected_inputs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rejected_inputs_received_at"), ["received_at"], unique=False)


def downgrade():
    with op.batch_alter_table("rejected_inputs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rejected_inputs_received_at"))
    op.drop_table("rejected_inputs")
