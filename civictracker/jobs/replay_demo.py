"""The demo: the replay feed through the real pipeline, then some dispatcher actions for a living map."""

from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import func, select

from civictracker.extensions import current_session, db
from civictracker.models import Crew, InboundPost, Ticket, TicketStatus

log = logging.getLogger(__name__)
S = TicketStatus


def replay_feed_once(app: Flask) -> dict[str, int]:
    """Store and process every post of the demo feed (idempotent: a second run adds nothing)."""
    from civictracker.jobs import posts as jobs
    from civictracker.outbox import sweep as outbox

    with app.app_context():
        if db.session.scalar(
            select(func.count()).select_from(InboundPost).where(InboundPost.channel == "replay")
        ):
            return {"posts": 0}
        stored = 0
        # The feed's offsets are ignored here: the whole feed is played at once so the map is full at start.
        while True:
            new = jobs.poll_channel("replay")
            stored += new
            if new == 0:
                break
        outbox.sweep_outbox()
        actions = _dispatch_some(app)
        outbox.sweep_outbox()
        log.info("demo feed replayed: %s posts, %s dispatcher actions", stored, actions)
        return {"posts": stored, "actions": actions}


def _dispatch_some(app: Flask) -> int:
    """Move some tickets along as a dispatcher would, so the map and timelines show every state."""
    from civictracker.runtime import runtime_of
    from civictracker.services import dispatch, tickets

    session = current_session()
    replies = runtime_of(app).replies_now(session)
    open_tickets = session.scalars(
        select(Ticket).where(Ticket.status == S.OPEN.value).order_by(Ticket.id)
    ).all()
    crews = session.scalars(select(Crew).where(Crew.active.is_(True))).all()
    done = 0
    for i, ticket in enumerate(open_tickets):
        if i % 3 == 0:
            tickets.change_status(
                session,
                ticket,
                S.ACKNOWLEDGED,
                replies=replies,
                actor=tickets.Actor(label="demo-dispatcher"),
                note=tickets.EventNote(public="Thanks, we have reviewed this report."),
            )
            done += 1
        if i % 4 == 1 and crews:
            suggested = dispatch.suggest_crews(session, ticket, limit=1)
            crew = suggested[0][0] if suggested else crews[0]
            tickets.assign_crew(
                session, ticket, crew, replies=replies, public_note=f"{crew.name} is scheduled."
            )
            done += 1
            if i % 8 == 1:
                tickets.change_status(
                    session,
                    ticket,
                    S.IN_PROGRESS,
                    replies=replies,
                    actor=tickets.Actor(label="demo-crew"),
                    note=tickets.EventNote(public="Crew on site."),
                )
                tickets.change_status(
                    session,
                    ticket,
                    S.RESOLVED,
                    replies=replies,
                    actor=tickets.Actor(label="demo-crew"),
                    note=tickets.EventNote(public="Fixed today."),
                )
                done += 2
    session.commit()
    return done
