"""The city's inbox: inbox state, priority and decision on inbound posts, and their history.

Revision ID: 4e8a2c6b9d13
Revises: 4e8b1c7a9d25
Create Date: 2026-12-05

Columns on inbound_posts rather than a table of their own: every post has at most one inbox state, and the
inbox page is then one indexed query on one table (state, priority, received_at). inbox_events keeps who
did what (assigned, answered, hidden ...) and why; nothing is deleted.
"""
import sqlalchemy as sa
from alembic import op

revision = "4e8a2c6b9d13"
down_revision = "4e8b1c7a9d25"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inbound_posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("inbox_state", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("inbox_priority", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("inbox_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("inbox_assigned_to_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("inbox_handled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("inbox_handled_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("inbox_handled_how", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("inbox_note", sa.Text(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_inbound_posts_inbox_assigned_to_id_users"), "users", ["inbox_assigned_to_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_inbound_posts_inbox_handled_by_id_users"), "users", ["inbox_handled_by_id"], ["id"]
        )
        batch_op.create_index(
            "ix_inbound_posts_inbox", ["inbox_state", "inbox_priority", "received_at"], unique=False
        )
        batch_op.create_index(
            "ix_inbound_posts_inbox_assignee", ["inbox_assigned_to_id", "inbox_state"], unique=False
        )
    op.create_table(
        "inbox_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=16), nullable=True),
        sa.Column("to_state", sa.String(length=16), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_label", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_inbox_events_actor_id_users")),
        sa.ForeignKeyConstraint(
            ["post_id"], ["inbound_posts.id"], name=op.f("fk_inbox_events_post_id_inbound_posts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox_events")),
    )
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_inbox_events_post_id"), ["post_id"], unique=False)


def downgrade():
    with op.batch_alter_table("inbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inbox_events_post_id"))
    op.drop_table("inbox_events")
    with op.batch_alter_table("inbound_posts", schema=None) as batch_op:
        batch_op.drop_index("ix_inbound_posts_inbox_assignee")
        batch_op.drop_index("ix_inbound_posts_inbox")
        batch_op.drop_constraint(batch_op.f("fk_inbound_posts_inbox_handled_by_id_users"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_inbound_posts_inbox_assigned_to_id_users"), type_="foreignkey")
        for column in (
            "inbox_note",
            "inbox_handled_how",
            "inbox_handled_by_id",
            "inbox_handled_at",
            "inbox_assigned_to_id",
            "inbox_reason",
            "inbox_priority",
            "inbox_state",
        ):
            batch_op.drop_column(column)
