"""Answering the post's author about a ticket: one reply per kind, ticket and reporter, queued once."""

from __future__ import annotations

from civictracker.intake.context import PostContext
from civictracker.models import MessageKind, Ticket
from civictracker.services import notify
from civictracker.services.following import find_follower


def reply(
    ctx: PostContext,
    ticket: Ticket,
    kind: MessageKind,
    *,
    key_prefix: str | None = None,
    safety: bool = False,
) -> None:
    """Queue one reply of `kind` to this reporter about this ticket; the key makes it happen once.

    `safety`: the first reply to a report; an emergency ticket's safety line goes first (notify.safety_line).
    """
    reporter, run = ctx.reporter, ctx.run
    key = f"{key_prefix or kind}:ticket:{ticket.id}:reporter:{reporter.id}"
    follower = find_follower(ctx.session, ticket, reporter, ctx.page.followers)
    if follower is None:
        return
    follower.reporter = reporter
    fresh = ticket.id in run.tickets  # the key names a ticket this transaction created: nothing holds it
    # No savepoint of its own: a key another worker queued first fails the page's write, then (in the
    # page's second run, a savepoint per post) this post alone; retried later, it finds that row.
    hazards = notify.ticket_hazards(ticket) if safety else []
    message = notify.queue_for_follower(
        ctx.session,
        ctx.env.replies,
        follower,
        notify.Reply(key, kind, ticket, hazards=hazards),
        now=ctx.now,
        fresh=fresh,
        savepoint=False,
    )
    if message is not None:
        run.messages.append(message)
