"""Index outbound_messages.post_id: the inbox's item page lists the replies sent to one post.

Revision ID: 6d2f9a1c3b57
Revises: 9c5d1e7f3a20
Create Date: 2026-12-06

Without it the item page (and the storm-day and first-response reads by post) walk every outbound
message; a busy city keeps millions.
"""
from alembic import op

revision = "6d2f9a1c3b57"
down_revision = "9c5d1e7f3a20"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbound_messages_post_id"), ["post_id"], unique=False)


def downgrade():
    with op.batch_alter_table("outbound_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbound_messages_post_id"))
