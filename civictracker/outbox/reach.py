"""Who may be sent a DM on an account: the platform's rules, and the refusals it gave in the last day."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from civictracker.extensions import db
from civictracker.models import InboundPost, OutboundMessage
from civictracker.models.types import utcnow

# The start of last_error on a public message whose DM spill the platform refused (X 403 "You cannot send
# messages to this user"). dm_possible leaves out reporters with such a row tried in the last day, so they
# are answered in public rather than refused again; calls._error_note keeps it through later errors.
DM_REFUSED = "DM refused"
DM_REFUSED_FOR = dt.timedelta(hours=24)


def dm_possible(settings: Any, channel: str, reporter_ids: set[int]) -> set[int]:
    """Reporters the account may DM. Mastodon: anyone (a "direct" status naming them). X: only those who
    have DMed the account before (an open conversation), unless the operator says DMs are open
    (CIVICTRACKER_X_DM_OPEN); X refuses DMs to people who never wrote and do not allow them.
    Either way, not a reporter whose DM the platform refused in the last day (see DM_REFUSED)."""
    if not reporter_ids:
        return set()
    if channel == "mastodon" or (channel == "x" and settings.x_dm_open):
        possible = set(reporter_ids)
    elif channel != "x":
        return set()
    else:
        possible = set(
            db.session.scalars(
                select(InboundPost.reporter_id)
                .where(
                    InboundPost.channel == "x",
                    InboundPost.is_dm.is_(True),
                    InboundPost.reporter_id.in_(reporter_ids),
                )
                .distinct()
            )
        )
    if not possible:
        return possible
    refused = db.session.scalars(
        select(OutboundMessage.reporter_id)
        .where(
            OutboundMessage.channel == channel,
            OutboundMessage.reporter_id.in_(possible),
            OutboundMessage.last_error.startswith(DM_REFUSED, autoescape=True),
            # next_attempt_at is when the row was last tried (or is due): the refusal is that recent
            OutboundMessage.next_attempt_at >= utcnow() - DM_REFUSED_FOR,
        )
        .distinct()
    )
    return possible - set(refused)
