"""Indexes for every hot-path lookup, and (SQLite) an R*Tree of the open tickets for dedupe.

Revision ID: 9b2f4d6a8c31
Revises: b7d3e5a1c9f2
Create Date: 2026-12-06

- outbound_messages (channel, sent_external_id): a reply finds its thread by the id our reply got on the
  platform (a full scan of every reply ever sent, 114 ms at 1M, before).
- outbound_messages (state, sent_at): the outbox's send history of the last day (lanes) and the
  first-response metrics read only recent sent rows.
- inbound_posts (received_at, channel): first-response metrics read one window of posts.
- tickets (street, service_id, created_at): street-wide dedupe ("one ticket per street") and its OR with
  segment_id, each branch on an index.
- SQLite only: idx_open_tickets (named as SpatiaLite names its indexes), an R*Tree (with the service as an auxiliary column) of the tickets
  dedupe may merge into (an open status and a place), kept by triggers on tickets. SpatiaLite's own index
  holds every ticket ever made (2,830 inside 150 m at 1M, closed ones included, each fetched before its
  status was read); this one holds the candidates only. PostGIS combines its GiST and B-tree indexes
  already, so PostgreSQL gets no such table.
"""

import sqlalchemy as sa
from alembic import op

revision = "9b2f4d6a8c31"
down_revision = "b7d3e5a1c9f2"
branch_labels = None
depends_on = None

# The statuses a new report may be merged into (services/dedupe.py DEDUPE_STATUSES; a test keeps them equal).
OPEN_STATUSES = ("acknowledged", "assigned", "in_progress", "open", "reopened")
_IS_CANDIDATE = "NEW.location IS NOT NULL AND NEW.status IN ({})".format(
    ", ".join(f"'{s}'" for s in OPEN_STATUSES)
)
_INSERT_NEW = (
    "INSERT INTO idx_open_tickets (id, min_lon, max_lon, min_lat, max_lat, service_id) "
    "SELECT NEW.id, MbrMinX(NEW.location), MbrMaxX(NEW.location), MbrMinY(NEW.location), "
    f"MbrMaxY(NEW.location), NEW.service_id WHERE {_IS_CANDIDATE};"
)
SQLITE_UP = [
    "CREATE VIRTUAL TABLE idx_open_tickets USING rtree("
    "id, min_lon, max_lon, min_lat, max_lat, +service_id INTEGER)",
    f"CREATE TRIGGER idx_open_tickets_insert AFTER INSERT ON tickets BEGIN {_INSERT_NEW} END",
    "CREATE TRIGGER idx_open_tickets_update AFTER UPDATE OF status, location, service_id ON tickets "
    f"BEGIN DELETE FROM idx_open_tickets WHERE id = OLD.id; {_INSERT_NEW} END",
    "CREATE TRIGGER idx_open_tickets_delete AFTER DELETE ON tickets "
    "BEGIN DELETE FROM idx_open_tickets WHERE id = OLD.id; END",
    "INSERT INTO idx_open_tickets (id, min_lon, max_lon, min_lat, max_lat, service_id) "
    "SELECT id, MbrMinX(location), MbrMaxX(location), MbrMinY(location), MbrMaxY(location), service_id "
    "FROM tickets WHERE location IS NOT NULL AND status IN ({})".format(
        ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    ),
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS idx_open_tickets_insert",
    "DROP TRIGGER IF EXISTS idx_open_tickets_update",
    "DROP TRIGGER IF EXISTS idx_open_tickets_delete",
    "DROP TABLE IF EXISTS idx_open_tickets",
]


def upgrade():
    op.create_index(
        "ix_outbound_messages_sent_external_id", "outbound_messages", ["channel", "sent_external_id"]
    )
    op.create_index("ix_outbound_messages_state_sent", "outbound_messages", ["state", "sent_at"])
    op.create_index("ix_inbound_posts_received_at", "inbound_posts", ["received_at", "channel"])
    op.create_index("ix_tickets_street", "tickets", ["street", "service_id", "created_at"])
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(sa.text(statement))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(sa.text(statement))
    op.drop_index("ix_tickets_street", table_name="tickets")
    op.drop_index("ix_inbound_posts_received_at", table_name="inbound_posts")
    op.drop_index("ix_outbound_messages_state_sent", table_name="outbound_messages")
    op.drop_index("ix_outbound_messages_sent_external_id", table_name="outbound_messages")
