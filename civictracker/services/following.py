"""Who follows a ticket, and in which thread they are answered: find or add a reporter's follower row."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.models import Follower, Reporter, Ticket
from civictracker.models.values import Thread

# Follower rows a unit of work (an intake page) created or read, by (ticket id, reporter id): looked up
# again without a query. The caller owns it and drops it with its transaction.
FollowerCache = dict[tuple[int, int], Follower]


def find_follower(
    session: Session, ticket: Ticket, reporter: Reporter, known: FollowerCache
) -> Follower | None:
    """The reporter's follower row on this ticket: one in `known`, else from the table (then kept there)."""
    follower = known.get((ticket.id, reporter.id))
    if (
        follower is not None
        and follower in session  # not rolled back with its post
        and (follower.ticket_id, follower.reporter_id) == (ticket.id, reporter.id)  # not merged away since
    ):
        return follower
    # Without an autoflush: the followers this unit created are in `known`, and merge_tickets writes the
    # ones it moves at once; the rest of the unit's rows wait for one flush.
    with session.no_autoflush:
        follower = session.scalar(
            select(Follower).where(Follower.ticket_id == ticket.id, Follower.reporter_id == reporter.id)
        )
    if follower is not None:
        known[(ticket.id, reporter.id)] = follower
    return follower


def follow_ticket(
    session: Session,
    ticket: Ticket,
    reporter: Reporter,
    thread: Thread,
    *,
    post_id: int | None,
    known: FollowerCache,
    new_ticket: bool = False,
) -> tuple[Follower, bool]:
    """The reporter's follower row on this ticket, answered in `thread`, created if missing; (row, created).

    `new_ticket`: nobody follows a ticket created a moment ago, so the lookup is skipped."""
    follower = None if new_ticket else find_follower(session, ticket, reporter, known)
    if follower is not None:
        return follower, False
    follower = Follower(
        ticket_id=ticket.id,
        reporter_id=reporter.id,
        post_id=post_id,
        thread=thread,
        lang=reporter.lang,
        active=True,  # read before the flush that would apply the column default
    )
    follower.reporter = reporter
    session.add(follower)  # flushed with its reply (OutboundMessage.follower): no flush of its own
    known[(ticket.id, reporter.id)] = follower
    return follower, True
