"""The public data version: one small read that changes whenever a ticket, an event or a service does."""

from __future__ import annotations

from sqlalchemy.orm import Session


def public_data_version(session: Session) -> int:
    """The sum of the counters the database triggers bump (see models/public_cache.py): O(1), not O(tickets).

    Read it before the data it versions: a write committed in between makes the cached answer newer than
    its version, never older, and the next request sees the next version."""
    # Driver SQL on the session's connection: this runs on every public GET, so it skips the ORM layers.
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        # PostgreSQL's trigger bumps once per transaction until the version is read in it (migration
        # d7a3f9c2e4b8): this read clears that mark, so a later write of this transaction moves it again.
        return int(connection.exec_driver_sql(_PG_SQL).scalar() or 0)
    return int(connection.exec_driver_sql(_SQL).scalar() or 0)


_SQL = "SELECT coalesce(sum(version), 0) FROM public_data_version"  # the table of PublicDataVersion
_PG_SQL = (
    "SELECT coalesce(sum(version), 0)"
    " FROM public_data_version, set_config('civictracker.public_version_bumped', '', true)"
)
