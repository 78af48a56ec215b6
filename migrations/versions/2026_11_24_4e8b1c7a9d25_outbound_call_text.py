"""Record the text of a grouped or DM platform call before it is made (crash recovery without a marker).

Revision ID: 4e8b1c7a9d25
Revises: a4e8c2d6f1b3
Create Date: 2026-11-24

Replies no longer carry a visible idempotency tag: a call whose outcome was lost is found on the platform
by its thread and exact text. A plain reply's text is its row's; a cluster, digest or DM call's text is
composed at send time, so it is kept here for the resolver to look for.
"""
import sqlalchemy as sa
from alembic import op

revision = "4e8b1c7a9d25"
down_revision = "a4e8c2d6f1b3"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("call_text", sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_column("call_text")
