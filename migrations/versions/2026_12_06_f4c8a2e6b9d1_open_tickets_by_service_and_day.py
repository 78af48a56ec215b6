"""SQLite's R*Tree of open tickets indexes their service and creation day too: dedupe asks for both.

Revision ID: f4c8a2e6b9d1
Revises: e2b7c9d4a6f1
Create Date: 2026-12-06

idx_open_tickets (migration 9b2f4d6a8c31) held the service as an auxiliary column: its box returned the
open tickets of every service and every age around a point (about 130 in 150 m at 1M tickets, 2,700 on
the busiest street), each fetched from tickets and measured before the service and the dedupe window were
read (3.9 ms a query at 1M, 0.46 ms empty). Two more dimensions, the service id (min = max) and the
creation day (days since 1970, min = max), let the R*Tree answer the service and the window itself. The
days are a prefilter only (float32, rounded outwards; the query keeps its exact created_at test).
PostgreSQL has no such table: PostGIS combines its GiST and B-tree indexes already.
"""

import sqlalchemy as sa
from alembic import op

revision = "f4c8a2e6b9d1"
down_revision = "e2b7c9d4a6f1"
branch_labels = None
depends_on = None

# The statuses a new report may be merged into (services/dedupe.py DEDUPE_STATUSES; a test keeps them equal).
OPEN_STATUSES = ("acknowledged", "assigned", "in_progress", "open", "reopened")
_STATUSES = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
# Days since 1970 of a stored created_at; one a date function cannot read is kept as "always recent", so
# the prefilter never drops a ticket the exact test would keep.
_DAY = "coalesce(julianday({r}.created_at) - 2440587.5, 1e7)"


def _insert(r: str, where: str) -> str:
    return (
        "INSERT INTO idx_open_tickets (id, min_lon, max_lon, min_lat, max_lat, min_service_id, "
        "max_service_id, min_created_day, max_created_day) "
        f"SELECT {r}.id, MbrMinX({r}.location), MbrMaxX({r}.location), MbrMinY({r}.location), "
        f"MbrMaxY({r}.location), {r}.service_id, {r}.service_id, {_DAY.format(r=r)}, {_DAY.format(r=r)}"
        f"{where}"
    )


_NEW_IS_CANDIDATE = f" WHERE NEW.location IS NOT NULL AND NEW.status IN ({_STATUSES});"
_TRIGGERS_DOWN = [
    "DROP TRIGGER IF EXISTS idx_open_tickets_insert",
    "DROP TRIGGER IF EXISTS idx_open_tickets_update",
    "DROP TRIGGER IF EXISTS idx_open_tickets_delete",
    "DROP TABLE IF EXISTS idx_open_tickets",
]
SQLITE_UP = [
    *_TRIGGERS_DOWN,
    "CREATE VIRTUAL TABLE idx_open_tickets USING rtree(id, min_lon, max_lon, min_lat, max_lat, "
    "min_service_id, max_service_id, min_created_day, max_created_day)",
    f"CREATE TRIGGER idx_open_tickets_insert AFTER INSERT ON tickets BEGIN {_insert('NEW', _NEW_IS_CANDIDATE)} END",
    "CREATE TRIGGER idx_open_tickets_update AFTER UPDATE OF status, location, service_id, created_at "
    "ON tickets BEGIN DELETE FROM idx_open_tickets WHERE id = OLD.id; "
    f"{_insert('NEW', _NEW_IS_CANDIDATE)} END",
    "CREATE TRIGGER idx_open_tickets_delete AFTER DELETE ON tickets "
    "BEGIN DELETE FROM idx_open_tickets WHERE id = OLD.id; END",
    _insert("t", f" FROM tickets AS t WHERE t.location IS NOT NULL AND t.status IN ({_STATUSES})"),
]
# Back to migration 9b2f4d6a8c31's table: the service as an auxiliary column.
_OLD_NEW = (
    "INSERT INTO idx_open_tickets (id, min_lon, max_lon, min_lat, max_lat, service_id) "
    "SELECT NEW.id, MbrMinX(NEW.location), MbrMaxX(NEW.location), MbrMinY(NEW.location), "
    f"MbrMaxY(NEW.location), NEW.service_id{_NEW_IS_CANDIDATE}"
)
SQLITE_DOWN = [
    *_TRIGGERS_DOWN,
    "CREATE VIRTUAL TABLE idx_open_tickets USING rtree("
    "id, min_lon, max_lon, min_lat, max_lat, +service_id INTEGER)",
    f"CREATE TRIGGER idx_open_tickets_insert AFTER INSERT ON tickets BEGIN {_OLD_NEW} END",
    "CREATE TRIGGER idx_open_tickets_update AFTER UPDATE OF status, location, service_id ON tickets "
    f"BEGIN DELETE FROM idx_open_tickets WHERE id = OLD.id; {_OLD_NEW} END",
    "CREATE TRIGGER idx_open_tickets_delete AFTER DELETE ON tickets "
    "BEGIN DELETE FROM idx_open_tickets WHERE id = OLD.id; END",
    "INSERT INTO idx_open_tickets (id, min_lon, max_lon, min_lat, max_lat, service_id) "
    "SELECT id, MbrMinX(location), MbrMaxX(location), MbrMinY(location), MbrMaxY(location), service_id "
    f"FROM tickets WHERE location IS NOT NULL AND status IN ({_STATUSES})",
]


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_UP:
            op.execute(sa.text(statement))


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        for statement in SQLITE_DOWN:
            op.execute(sa.text(statement))
