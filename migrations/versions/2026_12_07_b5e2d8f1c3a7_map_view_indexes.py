"""The public map's views read the tickets the map can show, not every ticket ever made there.

Revision ID: b5e2d8f1c3a7
Revises: f3c1a7e9b5d2
Create Date: 2026-12-07

At 1M tickets with half of them along one street, a street-level view of that street held ~170,000
tickets, of which a tenth are open: the spatial indexes (SpatiaLite's, PostGIS's GiST) hold every ticket,
so each view fetched them all before the status test (590 ms at zoom 16 on SQLite, 110 ms at zoom 17 on
PostGIS). A view of open tickets now reads the covering B-tree ix_tickets_public_map alone (no migration
needed: services/public_map.py); a view of recently closed tickets, or of both, reads an index of those:
- SQLite: idx_map_tickets, an R*Tree of the tickets the map may show (an open or a closed status, and a
  public point), by public point and `until`: the Julian day a closed ticket was closed, 9,000,000 for an
  open one (spatial.MAP_OPEN_UNTIL). "Open" asks until >= 9,000,000; "closed" asks the days since the
  map's window. Kept by triggers on tickets.
- PostgreSQL: a partial GiST index on (closed_at, public point) of the closed tickets (btree_gist, made
  by migration f3c1a7e9b5d2).
- Both: ix_tickets_map_closed_cover (status, closed_at, public point, service), so the recently closed
  tickets of the whole city are counted into the map's grid from the index alone ("closed" and "all" at
  a low zoom: 257 ms for "all" at 1M on SQLite before, 83 ms with it).
"""

import sqlalchemy as sa
from alembic import op

revision = "b5e2d8f1c3a7"
down_revision = "f3c1a7e9b5d2"
branch_labels = None
depends_on = None

# services/public.py MAP_OPEN and MAP_CLOSED (a test keeps them equal); spatial.MAP_OPEN_UNTIL.
MAP_OPEN = ("acknowledged", "assigned", "in_progress", "open", "reopened")
MAP_CLOSED = ("closed", "referred", "resolved")
OPEN_UNTIL = 9_000_000


def _in(statuses: tuple[str, ...], column: str = "status") -> str:
    return "{} IN ({})".format(column, ", ".join(f"'{s}'" for s in statuses))


_COLUMNS = "id, min_lon, max_lon, min_lat, max_lat, min_until, max_until"


def _select(prefix: str) -> str:
    """The R*Tree row of a ticket (columns prefixed NEW. in a trigger), if the map may show it."""
    p = prefix
    until = (
        f"CASE WHEN {_in(MAP_OPEN, p + 'status')} THEN {OPEN_UNTIL} ELSE julianday({p}closed_at) END"
    )
    return (
        f"SELECT {p}id, MbrMinX({p}public_location), MbrMaxX({p}public_location), "
        f"MbrMinY({p}public_location), MbrMaxY({p}public_location), {until}, {until} "
        f"WHERE {p}public_location IS NOT NULL AND ({_in(MAP_OPEN, p + 'status')} "
        f"OR ({_in(MAP_CLOSED, p + 'status')} AND {p}closed_at IS NOT NULL))"
    )


_INSERT_NEW = f"INSERT INTO idx_map_tickets ({_COLUMNS}) {_select('NEW.')};"
SQLITE_UP = [
    f"CREATE VIRTUAL TABLE idx_map_tickets USING rtree({_COLUMNS})",
    f"CREATE TRIGGER idx_map_tickets_insert AFTER INSERT ON tickets BEGIN {_INSERT_NEW} END",
    "CREATE TRIGGER idx_map_tickets_update AFTER UPDATE OF status, public_location, closed_at ON tickets "
    f"BEGIN DELETE FROM idx_map_tickets WHERE id = OLD.id; {_INSERT_NEW} END",
    "CREATE TRIGGER idx_map_tickets_delete AFTER DELETE ON tickets "
    "BEGIN DELETE FROM idx_map_tickets WHERE id = OLD.id; END",
    f"INSERT INTO idx_map_tickets ({_COLUMNS}) "
    + _select("").replace(" WHERE ", " FROM tickets WHERE ", 1),
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS idx_map_tickets_insert",
    "DROP TRIGGER IF EXISTS idx_map_tickets_update",
    "DROP TRIGGER IF EXISTS idx_map_tickets_delete",
    "DROP TABLE IF EXISTS idx_map_tickets",
]
PG_UP = [
    "CREATE INDEX ix_tickets_map_closed ON tickets USING gist (closed_at, public_location) "
    f"WHERE public_location IS NOT NULL AND {_in(MAP_CLOSED)}",
]
PG_DOWN = ["DROP INDEX IF EXISTS ix_tickets_map_closed"]


COVER = ("status", "closed_at", "public_lon", "public_lat", "service_id")


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_UP if sqlite else PG_UP:
        op.execute(sa.text(statement))
    op.create_index("ix_tickets_map_closed_cover", "tickets", list(COVER))


def downgrade():
    op.drop_index("ix_tickets_map_closed_cover", table_name="tickets")
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in SQLITE_DOWN if sqlite else PG_DOWN:
        op.execute(sa.text(statement))
