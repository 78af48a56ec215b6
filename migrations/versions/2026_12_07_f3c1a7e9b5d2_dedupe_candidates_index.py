"""Dedupe's candidates by service and age in the index itself, on both databases.

Revision ID: f3c1a7e9b5d2
Revises: e2b7c9d4a6f1
Create Date: 2026-12-07

A new report is merged only into an open ticket of the same service made within the window (30 days).
With a history skewed as a city's is (half of a million tickets along one street), the indexes asked
first returned far more than that:
- SQLite: idx_open_tickets (migration 9b2f4d6a8c31) held the open tickets with the service as an
  auxiliary column, which an R*Tree cannot search: ~2,600 open tickets of every service and age inside
  150 m, each read and dropped (p95 10 ms at 1M). It becomes a 4-D R*Tree: place, service (min = max)
  and the Julian day the ticket was made, so the index returns the few of one service made within the
  window.
- PostgreSQL: the GiST index on tickets.location holds every ticket ever made (~26,000 inside 150 m,
  closed ones included; p95 37-61 ms at 1M). A partial GiST index over the open tickets, on service,
  place and creation time (btree_gist gives GiST the B-tree types), answers the same question from the
  candidates alone.
"""

import sqlalchemy as sa
from alembic import op

revision = "f3c1a7e9b5d2"
down_revision = "e2b7c9d4a6f1"
branch_labels = None
depends_on = None

# The statuses a new report may be merged into (services/dedupe.py DEDUPE_STATUSES; a test keeps them equal).
OPEN_STATUSES = ("acknowledged", "assigned", "in_progress", "open", "reopened")
_IN_OPEN = "status IN ({})".format(", ".join(f"'{s}'" for s in OPEN_STATUSES))

_COLUMNS = "id, min_lon, max_lon, min_lat, max_lat, min_service_id, max_service_id, min_day, max_day"
_INSERT_NEW = (
    f"INSERT INTO idx_open_tickets ({_COLUMNS}) "
    "SELECT NEW.id, MbrMinX(NEW.location), MbrMaxX(NEW.location), MbrMinY(NEW.location), "
    "MbrMaxY(NEW.location), NEW.service_id, NEW.service_id, julianday(NEW.created_at), "
    f"julianday(NEW.created_at) WHERE NEW.location IS NOT NULL AND NEW.{_IN_OPEN};"
)
_TRIGGERS = [
    f"CREATE TRIGGER idx_open_tickets_insert AFTER INSERT ON tickets BEGIN {_INSERT_NEW} END",
    "CREATE TRIGGER idx_open_tickets_update AFTER UPDATE OF status, location, service_id, created_at "
    f"ON tickets BEGIN DELETE FROM idx_open_tickets WHERE id = OLD.id; {_INSERT_NEW} END",
    "CREATE TRIGGER idx_open_tickets_delete AFTER DELETE ON tickets "
    "BEGIN DELETE FROM idx_open_tickets WHERE id = OLD.id; END",
]
_DROP = [
    "DROP TRIGGER IF EXISTS idx_open_tickets_insert",
    "DROP TRIGGER IF EXISTS idx_open_tickets_update",
    "DROP TRIGGER IF EXISTS idx_open_tickets_delete",
    "DROP TABLE IF EXISTS idx_open_tickets",
]
SQLITE_UP = [
    *_DROP,
    f"CREATE VIRTUAL TABLE idx_open_tickets USING rtree({_COLUMNS})",
    *_TRIGGERS,
    f"INSERT INTO idx_open_tickets ({_COLUMNS}) "
    "SELECT id, MbrMinX(location), MbrMaxX(location), MbrMinY(location), MbrMaxY(location), "
    "service_id, service_id, julianday(created_at), julianday(created_at) "
    f"FROM tickets WHERE location IS NOT NULL AND {_IN_OPEN}",
]
# Back to migration 9b2f4d6a8c31's table.
_OLD_COLUMNS = "id, min_lon, max_lon, min_lat, max_lat, service_id"
_OLD_INSERT_NEW = (
    f"INSERT INTO idx_open_tickets ({_OLD_COLUMNS}) "
    "SELECT NEW.id, MbrMinX(NEW.location), MbrMaxX(NEW.location), MbrMinY(NEW.location), "
    f"MbrMaxY(NEW.location), NEW.service_id WHERE NEW.location IS NOT NULL AND NEW.{_IN_OPEN};"
)
SQLITE_DOWN = [
    *_DROP,
    "CREATE VIRTUAL TABLE idx_open_tickets USING rtree("
    "id, min_lon, max_lon, min_lat, max_lat, +service_id INTEGER)",
    f"CREATE TRIGGER idx_open_tickets_insert AFTER INSERT ON tickets BEGIN {_OLD_INSERT_NEW} END",
    "CREATE TRIGGER idx_open_tickets_update AFTER UPDATE OF status, location, service_id ON tickets "
    f"BEGIN DELETE FROM idx_open_tickets WHERE id = OLD.id; {_OLD_INSERT_NEW} END",
    "CREATE TRIGGER idx_open_tickets_delete AFTER DELETE ON tickets "
    "BEGIN DELETE FROM idx_open_tickets WHERE id = OLD.id; END",
    f"INSERT INTO idx_open_tickets ({_OLD_COLUMNS}) "
    "SELECT id, MbrMinX(location), MbrMaxX(location), MbrMinY(location), MbrMaxY(location), service_id "
    f"FROM tickets WHERE location IS NOT NULL AND {_IN_OPEN}",
]
PG_INDEX = "ix_tickets_open_near"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(sa.text(statement))
        return
    op.execute(sa.text("CREATE EXTENSION IF NOT EXISTS btree_gist"))
    op.execute(
        sa.text(
            f"CREATE INDEX {PG_INDEX} ON tickets USING gist (service_id, location, created_at) "
            f"WHERE location IS NOT NULL AND {_IN_OPEN}"
        )
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(sa.text(statement))
        return
    op.execute(sa.text(f"DROP INDEX IF EXISTS {PG_INDEX}"))
