"""A public reply the platform will not take (X's reply rules): answer the resident another way, or say so."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from sqlalchemy import select

from civictracker.channels.base import ChannelError
from civictracker.extensions import db
from civictracker.models import InboundPost, MessageState, OutboundMessage
from civictracker.outbox.claims import move
from civictracker.outbox.reach import dm_possible

log = logging.getLogger(__name__)

# The start of last_error on a message whose public reply the platform refused (shown in the console's
# outbound table, and how a second refusal of the same message is recognised).
REPLY_REFUSED_NOTE = "Reply refused"

BY_DM = "by-dm"  # answered by DM instead (the caller sends it now)
IN_THREAD = "their-thread"  # answered in another post of theirs that named the account (due now)
NOWHERE = "nowhere"  # no other way to reach them: dead, with the reason


def answer_refused(settings: Any, members: list[OutboundMessage], exc: ChannelError, now: dt.datetime) -> str:
    """Settle a refused public reply: the lead goes by DM where the platform lets us DM them, else as a
    reply to another of their posts that mentioned the account (once), else dead with the reason. Other
    members of a cluster go back to the queue, their attempt given back (they are answered one by one)."""
    lead = members[0]
    for msg in members[1:]:
        move(msg, MessageState.PENDING)
        msg.batch_key, msg.next_attempt_at = None, now
        msg.attempts = max(0, msg.attempts - 1)
    refused_before = (lead.last_error or "").startswith(REPLY_REFUSED_NOTE)
    why = f"{REPLY_REFUSED_NOTE} by {lead.channel} ({exc})"
    lead.batch_key, lead.next_attempt_at = None, now
    if lead.reporter_id is not None and lead.reporter_id in dm_possible(
        settings, lead.channel, {lead.reporter_id}
    ):
        move(lead, MessageState.FAILED)
        lead.is_dm, lead.in_reply_to_id = True, None
        lead.last_error = f"{why}; answered by DM instead."[:2000]
        outcome = BY_DM
    else:
        other = None if refused_before else _their_mention(lead)
        if other is not None:
            move(lead, MessageState.FAILED)
            lead.in_reply_to_id = other
            lead.last_error = f"{why}; answering their post {other} that names the account instead."[:2000]
            outcome = IN_THREAD
        else:
            move(lead, MessageState.DEAD)
            lead.last_error = f"{why}; no DM or post of theirs to answer in: not sent."[:2000]
            outcome = NOWHERE
    db.session.commit()
    log.warning("outbound message %s: %s -> %s", lead.id, why, outcome)
    return outcome


def _their_mention(lead: OutboundMessage) -> str | None:
    """Another post by the same reporter on this channel that mentioned the account (X lets us reply to
    those), newest first, not redacted and not the refused one."""
    if lead.reporter_id is None:
        return None
    stmt = (
        select(InboundPost.external_id)
        .where(
            InboundPost.channel == lead.channel,
            InboundPost.reporter_id == lead.reporter_id,
            InboundPost.is_dm.is_(False),
            InboundPost.kind == "mention",
            InboundPost.redacted_at.is_(None),
            InboundPost.external_id != (lead.in_reply_to_id or ""),
        )
        .order_by(InboundPost.received_at.desc())
        .limit(1)
    )
    return db.session.scalar(stmt)
