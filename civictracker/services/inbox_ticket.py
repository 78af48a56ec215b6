"""From the inbox to a ticket: turn a post into a new ticket, or attach it to an open one as a report.

Either way the post's author follows the ticket in the post's own thread (a DM by DM) and hears about it
once (the same reply keys intake uses), and the inbox item is closed with who, when and which ticket.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from civictracker.geo.types import GeocodeResult
from civictracker.models import Follower, InboundPost, InboxHow, InboxState, MessageKind, Service, Ticket
from civictracker.models.ticket import ACTIVE_STATUSES, INTAKE_STATUSES
from civictracker.models.values import Location
from civictracker.services import notify
from civictracker.services.errors import ValidationFailed
from civictracker.services.following import follow_ticket
from civictracker.services.inbox import Change, move_post
from civictracker.services.post_facts import is_private_post, thread_of
from civictracker.services.tickets import Actor, EventNote, NewTicket, create_ticket, record_event

Located = tuple[GeocodeResult, bool]  # services.geocoding.locate_text's answer: the place, usable or not


def _reporter_of(post: InboundPost) -> None:
    if post.reporter is None:
        raise ValidationFailed("This post has no known author yet (not processed); try again shortly.")


def ticket_post(
    session: Session,
    post: InboundPost,
    service: Service,
    place: Located,
    *,
    replies: notify.ReplyContext,
    actor: Actor,
) -> Ticket:
    """A new open ticket for the post at the place the dispatcher typed (geocoded by the caller)."""
    _reporter_of(post)
    loc, usable = place
    if not usable or loc.lat is None or loc.lon is None:
        raise ValidationFailed(
            f"Could not place that: {loc.reason or 'not precise enough'}. Type an address or a corner."
        )
    # A DM naming a house number may be the resident's home: the public sees the block (as intake does).
    private = is_private_post(post) and (
        loc.kind == "address" or loc.precision in {"rooftop", "interpolated"}
    )
    place_name = (loc.street or "the area") if private else (loc.matched or loc.street or "the area")
    new = NewTicket(
        summary=f"{service.name} reported near {place_name}.",
        location_text=loc.matched or "",
        location=Location.from_geocode(loc, with_line=not private),
        private_location=private,
        lang=post.lang or "en",
        source_channel=f"{post.channel}_dm" if post.is_dm else post.channel,
        triage={"inbox": {"post_id": post.id, "by": actor.name}},
        follower_count=1,
    )
    ticket = create_ticket(session, service, new, actor=actor)
    follower = _follow(session, post, ticket, new_ticket=True)
    _answer(session, replies, follower, ticket, MessageKind.ACK)
    change = Change(
        "ticketed", how=InboxHow.TICKET, note=f"Ticket {ticket.ref}", data={"ticket_id": ticket.id}
    )
    move_post(session, post, InboxState.HANDLED, change, actor=actor)
    return ticket


def attach_post(
    session: Session, post: InboundPost, ticket: Ticket, *, replies: notify.ReplyContext, actor: Actor
) -> Ticket:
    """The post becomes one more report on an open ticket, its author one more follower."""
    _reporter_of(post)
    if ticket.status not in INTAKE_STATUSES | ACTIVE_STATUSES:
        raise ValidationFailed(f"{ticket.ref} is {ticket.status}; attach the post to an open ticket.")
    follower = _follow(session, post, ticket, new_ticket=False)
    ticket.report_count += 1
    record_event(
        session,
        ticket,
        "report",
        EventNote(internal=f"Report added from the inbox (post {post.id}).", data={"post_id": post.id}),
        actor=actor,
    )
    _answer(session, replies, follower, ticket, MessageKind.MERGED)
    change = Change(
        "attached", how=InboxHow.ATTACHED, note=f"Added to {ticket.ref}", data={"ticket_id": ticket.id}
    )
    move_post(session, post, InboxState.HANDLED, change, actor=actor)
    return ticket


def _follow(session: Session, post: InboundPost, ticket: Ticket, *, new_ticket: bool) -> Follower:
    assert post.reporter is not None
    follower, created = follow_ticket(
        session, ticket, post.reporter, thread_of(post), post_id=post.id, known={}, new_ticket=new_ticket
    )
    if created and not new_ticket:
        ticket.follower_count += 1
    post.ticket_id = ticket.id
    return follower


def _answer(
    session: Session, replies: notify.ReplyContext, follower: Follower, ticket: Ticket, kind: MessageKind
) -> None:
    # The key intake uses for the same reply, so a post never hears "we logged it" twice.
    key = f"{kind.value}:ticket:{ticket.id}:reporter:{follower.reporter_id}"
    session.flush()  # the follower's id for its reply
    reply = notify.Reply(key, kind, ticket, hazards=notify.ticket_hazards(ticket))
    notify.queue_for_follower(session, replies, follower, reply, now=dt.datetime.now(dt.UTC))
