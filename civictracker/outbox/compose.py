"""What one platform call says and where: its route (plain, DM, cluster, digest), thread and text."""

from __future__ import annotations

from civictracker.channels.base import ChannelError, ReplyTarget
from civictracker.extensions import db
from civictracker.models import OutboundMessage, Ticket, TicketEvent
from civictracker.services import notify
from civictracker.services.notify import ReplyContext

# How a batch key says which kind of platform call answered its members (see OutboundMessage.batch_key).
# A plain reply uses the message's own idempotency key; the others start with "~", which no key has.
PLAIN_ROUTE = "plain"
DM_ROUTE = "~dm"  # ~dm:<id>: a public message answered by DM (spill, or its thread is gone)
CLUSTER_ROUTE = "~cluster"  # ~cluster:<lead id>:<members>: one public reply naming several reporters
DIGEST_ROUTE = "~digest"  # ~digest:<lead id>:<members>: the generic reply for acks of several tickets


def reply_target(msg: OutboundMessage, *, dm: bool = False, mentions: tuple[str, ...] = ()) -> ReplyTarget:
    """Where the call goes: the message's thread, or a DM to its reporter; mentions only in public."""
    return ReplyTarget(
        channel=msg.channel,
        is_dm=msg.is_dm or dm,
        recipient_id=msg.recipient_id,
        recipient_handle=msg.recipient_handle,
        in_reply_to_id=msg.in_reply_to_id,
        conversation_id=msg.conversation_id,
        visibility=msg.visibility,
        mention_handles=() if (msg.is_dm or dm) else mentions,
    )


def compose_batch(ctx: ReplyContext, route: str, members: list[OutboundMessage]) -> str:
    """The text of the call answering `members` (the lead first) on `route`, in the lead's language."""
    lead = members[0]
    if route == PLAIN_ROUTE:
        return lead.text
    ticket = db.session.get(Ticket, lead.ticket_id) if lead.ticket_id else None
    event = db.session.get(TicketEvent, lead.event_id) if lead.event_id else None
    note = notify.reply_note(ctx, event, lead.lang)
    if route == DM_ROUTE:
        return notify.compose_direct(ctx, lead.channel, lead.kind, lead.lang, ticket, note, lead.text)
    handles = [m.recipient_handle for m in members]
    if route == DIGEST_ROUTE:
        return notify.compose_digest(ctx, lead.channel, lead.lang, handles)
    if ticket is None:
        raise ChannelError("a cluster reply needs its ticket", retryable=False)
    return notify.compose_cluster(ctx, lead.channel, lead.kind, lead.lang, ticket, handles, note)
