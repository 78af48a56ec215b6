"""Photos: media attached to inbound posts (URL, type, alt text) and the public-view review history.

Revision ID: 9c5d1e7f3a20
Revises: 9a7c3e5b1d20
Create Date: 2026-12-06

Only URLs are stored, never the files: the platforms host them, and intake makes no network call for them.
A photo is shown publicly only once a dispatcher approves it (faces, number plates); post_media_events
keeps every approval and rejection with who and why. No ticket column: the post's ticket_id is the one
source of which ticket a photo belongs to.
"""
import sqlalchemy as sa
from alembic import op

revision = "9c5d1e7f3a20"
down_revision = "9a7c3e5b1d20"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "post_media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("media_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("platform_type", sa.String(length=32), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("preview_url", sa.String(length=2048), nullable=True),
        sa.Column("alt_text", sa.Text(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("private", sa.Boolean(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("review", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["post_id"], ["inbound_posts.id"], name=op.f("fk_post_media_post_id_inbound_posts")
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_by_id"], ["users.id"], name=op.f("fk_post_media_reviewed_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_media")),
        sa.UniqueConstraint("post_id", "media_key", name=op.f("uq_post_media_post_id_media_key")),
    )
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_media_post_id"), ["post_id"], unique=False)
    op.create_table(
        "post_media_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=False),
        sa.Column("from_review", sa.String(length=16), nullable=False),
        sa.Column("to_review", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=100), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_post_media_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["media_id"], ["post_media.id"], name=op.f("fk_post_media_events_media_id_post_media")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_post_media_events")),
    )
    with op.batch_alter_table("post_media_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_post_media_events_media_id"), ["media_id"], unique=False)


def downgrade():
    with op.batch_alter_table("post_media_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_media_events_media_id"))
    op.drop_table("post_media_events")
    with op.batch_alter_table("post_media", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_post_media_post_id"))
    op.drop_table("post_media")
