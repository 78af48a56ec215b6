"""Record when a post's source was last checked on its platform (deleted-source redaction).

Revision ID: 7c3d9e1f2a6b
Revises: 8c4f2a6d1e37
Create Date: 2026-11-23

check_sources asks the platform about a bounded number of posts per run; without a last-checked time it
would ask about the same first posts every run and never reach the rest.
"""
import sqlalchemy as sa
from alembic import op

revision = "7c3d9e1f2a6b"
down_revision = "8c4f2a6d1e37"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inbound_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_checked_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("inbound_posts", schema=None) as batch_op:
        batch_op.drop_column("source_checked_at")
