"""The public data version: one small read that changes whenever a ticket, an event or a service does."""

from __future__ import annotations

from sqlalchemy.orm import Session


def public_data_version(session: Session) -> int:
    """The sum of the counters the database triggers bump (see models/public_cache.py): O(1), not O(tickets).

    Read it before the data it versions: a write committed in between makes the cached answer newer than
    its version, never older, and the next request sees the next version."""
    # Driver SQL on the session's connection: this runs on every public GET, so it skips the ORM layers.
    return int(session.connection().exec_driver_sql(_SQL).scalar() or 0)


_SQL = "SELECT coalesce(sum(version), 0) FROM public_data_version"  # the table of PublicDataVersion
