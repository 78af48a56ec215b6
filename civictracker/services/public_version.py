"""The public data version: one small read that changes whenever a ticket, an event or a service does."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civictracker.models import PublicDataVersion


def public_data_version(session: Session) -> int:
    """The sum of the counters the database triggers bump (see models/public_cache.py): O(1), not O(tickets).

    Read it before the data it versions: a write committed in between makes the cached answer newer than
    its version, never older, and the next request sees the next version."""
    return int(session.scalar(select(func.coalesce(func.sum(PublicDataVersion.version), 0))) or 0)
