"""A post in one of our threads: which ticket it continues, and what the resident's answer does to it."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.intake.analysis import Analysis, location_summary
from civictracker.intake.answer import reply
from civictracker.intake.context import PageCache, PostContext
from civictracker.intake.ticketing import (
    INTAKE,
    add_report,
    find_duplicate,
    follow,
    is_house_location,
    public_summary,
)
from civictracker.models import (
    Follower,
    InboundPost,
    MessageKind,
    OutboundMessage,
    PostOutcome,
    PostState,
    Reporter,
    Ticket,
    TicketStatus,
)
from civictracker.models.ticket import RESOLVED_STATUSES
from civictracker.models.values import Location
from civictracker.services import tickets as ticket_service
from civictracker.services.post_facts import is_private_post, thread_ids
from civictracker.triage.reply import classify_reply

S = TicketStatus
RESIDENT = ticket_service.Actor(label="resident")  # a resident's own post moves or notes the ticket


def thread_ticket(session: Session, post: InboundPost, page: PageCache | None = None) -> Ticket | None:
    """The ticket whose thread this post continues: a reply to our message or to a post we ticketed.

    Without an autoflush (it would write the page's rows once per reply instead of once per page): what
    this page did and has not written yet is read from `page` (its posts, new tickets and followers), the
    rest from the tables, which hold it as it was before the page."""
    page = page if page is not None else PageCache()
    ids = thread_ids(post)
    with session.no_autoflush:
        if ids:
            ticket_id = (
                session.scalar(
                    select(OutboundMessage.ticket_id)
                    .where(
                        # our replies get their platform ids when sent, after their page's commit: the
                        # table has every one of them
                        OutboundMessage.channel == post.channel,
                        OutboundMessage.sent_external_id.in_(ids),
                        OutboundMessage.ticket_id.is_not(None),
                    )
                    .limit(1)
                )
                or _ticketed_in_page(page, post, ids)
                or session.scalar(
                    select(InboundPost.ticket_id)
                    .where(
                        InboundPost.channel == post.channel,
                        InboundPost.external_id.in_(ids),
                        InboundPost.ticket_id.is_not(None),
                        InboundPost.id != post.id,
                    )
                    .limit(1)
                )
            )
            if ticket_id:
                return _resolve_duplicate(session, page, _ticket(session, page, ticket_id))
        if post.is_dm:
            return _asked_by_dm(session, post, page)
    return None


def _ticketed_in_page(page: PageCache, post: InboundPost, ids: list[str]) -> int | None:
    """The ticket a post of this page that this one answers ended on (not written yet, maybe)."""
    for external_id in ids:
        earlier = page.posts.get((post.channel, external_id))
        if earlier is not None and earlier is not post and earlier.ticket_id:
            return earlier.ticket_id
    return None


def _ticket(session: Session, page: PageCache, ticket_id: int | None) -> Ticket | None:
    """A ticket by id, one the page created and has not written yet included."""
    if ticket_id is None:
        return None
    for ticket in page.new_tickets:
        if ticket.id == ticket_id:
            return ticket
    return session.get(Ticket, ticket_id)


def _asked_by_dm(session: Session, post: InboundPost, page: PageCache) -> Ticket | None:
    """A DM conversation has no reply ids: the resident's next DM answers our latest question to them."""
    # ranked by (written later than every row of the table, then id or order of creation)
    newest: tuple[tuple[int, int], Ticket] | None = None
    # Followers this page created or read (the newest: written after every row in the table) ...
    for order, follower in enumerate(page.followers.values()):
        if follower.channel != post.channel or not follower.is_dm or follower not in session:
            continue
        if follower.reporter is None or follower.reporter.external_id != post.author_id:
            continue
        ticket = _ticket(session, page, follower.ticket_id)
        if ticket is not None and ticket.status == S.NEEDS_LOCATION:
            rank = (0, follower.id) if follower.id is not None else (1, order)
            if newest is None or rank >= newest[0]:
                newest = (rank, ticket)
    # ... and the table's, whose ticket may have changed in this page (its status read from memory).
    rows = session.execute(
        select(Follower.id, Follower.ticket_id)
        .join(Ticket, Ticket.id == Follower.ticket_id)
        .join(Reporter, Reporter.id == Follower.reporter_id)
        .where(
            Follower.channel == post.channel,
            Follower.is_dm.is_(True),
            Reporter.channel == post.channel,
            Reporter.external_id == post.author_id,
            Ticket.status == S.NEEDS_LOCATION.value,
        )
        .order_by(Follower.id.desc())
        .limit(5)
    )
    for follower_id, ticket_id in rows:
        if newest is not None and newest[0] >= (0, follower_id):
            break
        ticket = _ticket(session, page, ticket_id)
        if ticket is not None and ticket.status == S.NEEDS_LOCATION:
            return ticket
    return newest[1] if newest is not None else None


def _resolve_duplicate(session: Session, page: PageCache, ticket: Ticket | None) -> Ticket | None:
    seen = 0
    while ticket is not None and ticket.duplicate_of_id and seen < 10:
        ticket = _ticket(session, page, ticket.duplicate_of_id)
        seen += 1
    return ticket


def handle_thread_reply(ctx: PostContext, ticket: Ticket, analysis: Analysis) -> InboundPost:
    """The resident answers in the ticket's thread: a location, "still broken", "fixed", or a remark."""
    post = ctx.post
    intent, reasons = analysis.reply_intent, analysis.reply_reasons
    if intent is None:
        intent, reasons = classify_reply(post.text)
    ctx.stages["thread"] = {"ticket": ticket.id, "intent": intent, "reasons": reasons[:5]}
    if ticket.status == S.NEEDS_LOCATION and (intent == "location_clarification" or analysis.usable_location):
        return _clarify_location(ctx, ticket, analysis)
    if intent == "still_broken" and ticket.status in RESOLVED_STATUSES:
        return _reopen(ctx, ticket)
    if intent == "still_broken":
        add_report(ctx, ticket, analysis.triage)
        return ctx.finish(
            PostState.PROCESSED, PostOutcome.STILL_OPEN, f"Resident follow-up on open {ticket.ref}.", ticket
        )
    if intent == "fixed_confirmed":
        ticket_service.record_event(
            ctx.session,
            ticket,
            "confirmation",
            ticket_service.EventNote(
                internal=f"Resident confirms the fix (post {post.id}).", data={"post_id": post.id}
            ),
            actor=RESIDENT,
            now=ctx.now,
        )
        return ctx.finish(
            PostState.PROCESSED,
            PostOutcome.FIXED_CONFIRMED,
            f"Resident confirms {ticket.ref} is fixed.",
            ticket,
        )
    ticket_service.record_event(
        ctx.session,
        ticket,
        "reply",
        ticket_service.EventNote(
            internal=f"Resident reply ({intent}), post {post.id}.",
            data={"post_id": post.id, "intent": intent},
        ),
        actor=RESIDENT,
        now=ctx.now,
    )
    return ctx.finish(
        PostState.PROCESSED,
        PostOutcome.REPLY.with_detail(intent),
        f"Reply in the thread of {ticket.ref} ({intent}).",
        ticket,
    )


def _reopen(ctx: PostContext, ticket: Ticket) -> InboundPost:
    """A resolved or closed ticket the resident says is still broken: reopened, the resident following."""
    post = ctx.post
    follow(ctx, ticket)
    ticket_service.change_status(
        ctx.session,
        ticket,
        S.REOPENED,
        replies=ctx.env.replies,
        actor=RESIDENT,
        note=ticket_service.EventNote(
            public="A resident reports the problem is still there.",
            internal=f"Reopened from post {post.id}.",
            data={"post_id": post.id},
        ),
        now=ctx.now,
    )
    return ctx.finish(
        PostState.PROCESSED,
        PostOutcome.REOPENED,
        f"Resident says {ticket.ref} is not fixed; reopened.",
        ticket,
    )


def _clarify_location(ctx: PostContext, ticket: Ticket, analysis: Analysis) -> InboundPost:
    """The answer to our question about the place: the ticket is located (and maybe merged), or asked once
    more."""
    loc = analysis.location
    if loc is None or not analysis.usable_location:
        # Ask once more, then leave it to a dispatcher: never a reply storm.
        reply(ctx, ticket, MessageKind.ASK_LOCATION, key_prefix="ask2")
        reason = loc.reason if loc and loc.reason else "no location found"
        return ctx.finish(
            PostState.PROCESSED, PostOutcome.LOCATION_UNCLEAR, f"Still no usable location ({reason}).", ticket
        )
    private = is_private_post(ctx.post) and is_house_location(loc)
    assert loc.lat is not None and loc.lon is not None
    ticket_service.set_ticket_location(ticket, Location.from_geocode(loc), private=private)
    ticket.location_text = loc.matched or ""
    ticket.summary = public_summary(ticket.service, loc, private=private)
    ticket.triage = {**ticket.triage, "location": location_summary(analysis)}
    replies = ctx.env.replies
    ticket_service.change_status(
        ctx.session,
        ticket,
        S.OPEN,
        replies=replies,
        actor=RESIDENT,
        note=ticket_service.EventNote(public="Location received from the resident."),
        now=ctx.now,
    )
    duplicate = find_duplicate(ctx, ticket.service, loc)
    if duplicate is not None and duplicate.id != ticket.id:
        ticket_service.merge_tickets(
            ctx.session, ticket, duplicate, replies=replies, actor=INTAKE, now=ctx.now
        )
        reply(ctx, duplicate, MessageKind.MERGED)
        reason = f"Located and merged into {duplicate.ref}."
        return ctx.finish(PostState.PROCESSED, PostOutcome.LOCATED_MERGED, reason, duplicate)
    reply(ctx, ticket, MessageKind.ACK)
    return ctx.finish(PostState.PROCESSED, PostOutcome.LOCATED, f"Location received: {loc.matched}.", ticket)
