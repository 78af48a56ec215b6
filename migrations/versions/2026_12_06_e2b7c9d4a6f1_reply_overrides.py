"""Admins' wording of reply templates and canned replies, per language; a crew's home base address.

Revision ID: e2b7c9d4a6f1
Revises: e2b7c4d9a816
Create Date: 2026-12-06

One row per (scope, language, key) an admin changed in the console; the reply path reads the pack's
text with these on top, and "reset to the pack's text" deletes the row. crews.base_address keeps the
address or intersection an admin typed for a crew's home base (geocoded to its point).
"""
import sqlalchemy as sa
from alembic import op

revision = "e2b7c9d4a6f1"
down_revision = "e2b7c4d9a816"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "reply_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_reply_overrides_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_overrides")),
        sa.UniqueConstraint("scope", "lang", "key", name="uq_reply_overrides_scope_lang_key"),
    )
    with op.batch_alter_table("crews", schema=None) as batch_op:
        batch_op.add_column(sa.Column("base_address", sa.String(length=300), server_default="", nullable=False))


def downgrade():
    with op.batch_alter_table("crews", schema=None) as batch_op:
        batch_op.drop_column("base_address")
    op.drop_table("reply_overrides")
