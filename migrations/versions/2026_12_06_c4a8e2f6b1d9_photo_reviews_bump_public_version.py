"""A photo's review changes what the public sees: post_media writes bump the public data version too.

Revision ID: c4a8e2f6b1d9
Revises: 7b3e9d1c5a42
Create Date: 2026-12-06

The public pages and Open311 are cached by an ETag made of the data version (9a7c3e5b1d20), which the
ticket, event and service triggers bump. Approving or rejecting a photo touches none of those tables, so
a cached ticket page kept showing a photo after it was rejected. The same triggers now watch post_media.
"""
from alembic import op

revision = "c4a8e2f6b1d9"
down_revision = "7b3e9d1c5a42"
branch_labels = None
depends_on = None

BUMP = "UPDATE public_data_version SET version = version + 1 WHERE slot = 0;"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE TRIGGER post_media_public_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON post_media "
            "FOR EACH STATEMENT EXECUTE FUNCTION ct_bump_public_version()"
        )
        return
    for event in ("INSERT", "UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER post_media_public_{event.lower()} AFTER {event} ON post_media "
            f"FOR EACH ROW BEGIN {BUMP} END"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS post_media_public_version ON post_media")
        return
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS post_media_public_{event}")
