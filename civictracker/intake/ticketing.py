"""The ticket side of a post: its service, a new ticket in our words, another report on an open one."""

from __future__ import annotations

from sqlalchemy import inspect, select
from sqlalchemy.orm import InstanceState

from civictracker.geo.types import GeocodeResult
from civictracker.intake.analysis import Analysis, location_summary, triage_summary
from civictracker.intake.context import PostContext
from civictracker.models import Follower, GeocodeStatus, Service, Ticket, TicketStatus
from civictracker.models.values import Location
from civictracker.services import dedupe, notify
from civictracker.services import tickets as ticket_service
from civictracker.services.following import follow_ticket
from civictracker.services.post_facts import is_private_post, thread_of
from civictracker.triage.classify import TriageResult
from civictracker.triage.rules import HAZARD_KINDS

INTAKE = ticket_service.Actor(label="intake")  # who the pipeline's events name

CHANNEL_LABEL = {
    ("x", False): "x_mention",
    ("x", True): "x_dm",
    ("mastodon", False): "mastodon",
    ("mastodon", True): "mastodon_dm",
    ("replay", False): "replay",
    ("replay", True): "replay_dm",
}


def service_for(ctx: PostContext, code: str | None) -> Service | None:
    """The active service triage chose, from the catalog read once per page."""
    if not code:
        return None
    page = ctx.page
    services = page.services
    if services is None:
        services = page.services = {
            service.code: service
            for service in ctx.session.scalars(select(Service).where(Service.active.is_(True)))
        }
    return services.get(code)


def is_house_location(loc: GeocodeResult) -> bool:
    """A house number was given (whatever precision it was placed at) or a point found at a door: in a DM
    that may be the resident's home, so the public sees the block and staff the door."""
    return loc.kind == "address" or loc.precision in {"rooftop", "interpolated"}


def public_summary(service: Service, loc: GeocodeResult | None, *, private: bool) -> str:
    """The public description of a social report, in our words: never the post's text."""
    if loc is None or not loc.found:
        return f"{service.name}; location requested from the resident."
    place = (loc.street or "the area") if private else (loc.matched or loc.street or "the area")
    precise = loc.precision in dedupe.PRECISE
    prep = "on" if loc.precision in {"street", "segment"} else "at" if precise else "near"
    return f"{service.name} reported {prep} {place}."


def find_duplicate(ctx: PostContext, service: Service, loc: GeocodeResult) -> Ticket | None:
    """The open ticket this report duplicates, the page's unwritten new tickets included (locked)."""
    found = dedupe.find_duplicate(
        ctx.session,
        service,
        loc,
        rules=ctx.env.dedupe,
        now=ctx.now,
        unwritten=ctx.page.new_tickets,
        load=lambda ticket_id: locked_ticket(ctx, ticket_id),
    )
    return lock_ticket(ctx, found)


def lock_ticket(ctx: PostContext, ticket: Ticket | None) -> Ticket | None:
    """PostgreSQL: an existing ticket the post is about to change, its row locked until the page commits
    and its values read afresh. Another worker's page may have changed it (one report more) since this
    session read it: counting from the old value would lose that change. SQLite has one writer at a time.
    """
    if ticket is None or ticket.id in ctx.page.locked_tickets:
        return ticket
    state: InstanceState[Ticket] = inspect(ticket)
    if state.pending or ctx.session.get_bind().dialect.name != "postgresql":
        return ticket
    return locked_ticket(ctx, ticket.id)


def locked_ticket(ctx: PostContext, ticket_id: int) -> Ticket | None:
    """An existing ticket by id; PostgreSQL: locked until the page commits and read afresh, in one
    statement (a SELECT ... FOR UPDATE that refreshes the loaded copy; see lock_ticket)."""
    session, locked = ctx.session, ctx.page.locked_tickets
    if ticket_id in locked or session.get_bind().dialect.name != "postgresql":
        return session.get(Ticket, ticket_id)
    locked.add(ticket_id)
    loaded = session.identity_map.get(session.identity_key(Ticket, ticket_id))
    with session.no_autoflush:
        if loaded is not None and inspect(loaded).modified:
            # (changed by this page already: its own changes are kept, the row is only locked)
            session.execute(select(Ticket.id).where(Ticket.id == ticket_id).with_for_update())
            return loaded  # type: ignore[no-any-return]
        return session.scalars(
            select(Ticket)
            .where(Ticket.id == ticket_id)
            .with_for_update(of=Ticket)
            .execution_options(populate_existing=True)
        ).one_or_none()


def open_ticket(ctx: PostContext, service: Service, analysis: Analysis, status: TicketStatus) -> Ticket:
    """A new ticket for the post, followed by its author (who is answered in the post's thread)."""
    post, page = ctx.post, ctx.page
    loc = analysis.location if analysis.usable_location else None
    # A DM naming a house number may be the resident's home: the public sees the block, staff the door.
    private = is_private_post(post) and loc is not None and is_house_location(loc)
    new = ticket_service.NewTicket(
        follower_count=1,  # the reporter, followed below
        status=status,
        summary=public_summary(service, loc, private=private),
        location_text=(loc.matched or "") if loc else "",
        # a private place keeps no line: the public sees the block, and staff the door, not a street span
        location=Location.from_geocode(loc, with_line=not private) if loc else None,
        private_location=private,  # create_ticket then sets the public point at block level
        urgent=analysis.triage.urgent,
        lang=analysis.triage.lang,
        source_channel=CHANNEL_LABEL.get((post.channel, post.is_dm), post.channel),
        triage={**triage_summary(analysis.triage), "location": location_summary(analysis)},
    )
    ticket_id = page.ticket_ids.take() if page.ticket_ids is not None else None
    ticket = ticket_service.create_ticket(
        ctx.session, service, new, ticket_id=ticket_id, actor=INTAKE, now=ctx.now
    )
    if loc is None:
        ticket.geocode_status = (
            GeocodeStatus.FAILED if analysis.location and analysis.location.reason else GeocodeStatus.PENDING
        )
        ticket.geocode_reason = analysis.location.reason if analysis.location else "no text"
    ctx.run.tickets.add(ticket.id)
    page.new_tickets.append(ticket)
    follow(ctx, ticket, new_ticket=True)
    return ticket


def follow(ctx: PostContext, ticket: Ticket, *, new_ticket: bool = False) -> tuple[Follower, bool]:
    """The post's author follows the ticket, answered in the post's thread; (follower, created)."""
    return follow_ticket(
        ctx.session,
        ticket,
        ctx.reporter,
        thread_of(ctx.post),
        post_id=ctx.post.id,
        known=ctx.page.followers,
        new_ticket=new_ticket,
    )


def add_report(ctx: PostContext, ticket: Ticket, triage: TriageResult) -> None:
    """The post is one more report of an open ticket: its author follows it, its hazards count."""
    post = ctx.post
    _, is_new = follow(ctx, ticket)
    ticket.report_count += 1
    if is_new:
        ticket.follower_count += 1
    if triage.urgent and ticket.priority == 0:
        ticket.priority = 1
    known = notify.ticket_hazards(ticket)
    if any(h not in known for h in triage.hazards):
        # The ticket's first replies give the most serious hazard any of its reports names. A new JSON value,
        # not an in-place change: the column must see it to write it.
        hazards = [k for k in HAZARD_KINDS if k in known or k in triage.hazards]
        ticket.triage = {**(ticket.triage or {}), "hazards": hazards}
    ticket_service.record_event(
        ctx.session,
        ticket,
        "report",
        ticket_service.EventNote(
            internal=f"Another report ({post.channel}, post {post.id}).",
            data={"post_id": post.id, "new_follower": is_new},
        ),
        actor=INTAKE,
        now=ctx.now,
        flush=False,  # no reply is keyed on this event
    )
