"""A post that starts no thread of ours: not a request, a question back, a merge, or a new ticket."""

from __future__ import annotations

from civictracker.intake.analysis import Analysis
from civictracker.intake.answer import reply
from civictracker.intake.context import PostContext
from civictracker.intake.ticketing import add_report, find_duplicate, open_ticket, service_for
from civictracker.models import InboundPost, MessageKind, PostOutcome, PostState, TicketStatus

S = TicketStatus


def handle_new_report(ctx: PostContext, analysis: Analysis) -> InboundPost:
    """Act on a new report: a request with a usable place is merged or ticketed, one without is asked
    where, unless it reads as a question, complaint or praise (then a person answers it)."""
    triage = analysis.triage
    if not triage.is_request:
        return ctx.finish(
            PostState.PROCESSED,
            PostOutcome.NOT_REQUEST.with_detail(triage.kind),
            f"Not a service request ({triage.kind}): {'; '.join(triage.reasons[:3])}",
        )
    with ctx.session.no_autoflush:
        service = service_for(ctx, triage.service_code)
    if service is None:
        return ctx.finish(
            PostState.FAILED,
            PostOutcome.NO_SERVICE,
            f"Triage chose an unknown service {triage.service_code!r}.",
        )

    if not analysis.usable_location and triage.reads_as:
        # "how long until side streets get plowed?", "useless, calling the mayor": a request to the model
        # with no place, but a resident asked "where is the problem?" back would feel unheard. A person
        # answers from the inbox (and can still ask where, or make the ticket).
        return ctx.finish(
            PostState.PROCESSED,
            PostOutcome.FOR_PERSON.with_detail(triage.reads_as),
            f"Reads as a {triage.reads_as} with no place ({service.code} to triage): left to a person, "
            "not asked where.",
        )
    if not analysis.usable_location:
        ticket = open_ticket(ctx, service, analysis, S.NEEDS_LOCATION)
        reply(ctx, ticket, MessageKind.ASK_LOCATION, key_prefix="ask", safety=True)
        reason = (
            analysis.location.reason
            if analysis.location and analysis.location.reason
            else "no location in the post"
        )
        return ctx.finish(
            PostState.PROCESSED,
            PostOutcome.ASK_BACK,
            f"Location missing or unsure ({reason}); asked in thread.",
            ticket,
        )

    loc = analysis.location
    assert loc is not None and loc.lat is not None and loc.lon is not None
    with ctx.session.no_autoflush:
        duplicate = find_duplicate(ctx, service, loc)
    if duplicate is not None:
        add_report(ctx, duplicate, triage)
        reply(ctx, duplicate, MessageKind.MERGED, safety=True)
        return ctx.finish(
            PostState.PROCESSED,
            PostOutcome.MERGED,
            f"Same {service.code} as {duplicate.ref} ({loc.matched}).",
            duplicate,
        )
    ticket = open_ticket(ctx, service, analysis, S.OPEN)
    reply(ctx, ticket, MessageKind.ACK, safety=True)
    return ctx.finish(
        PostState.PROCESSED, PostOutcome.CREATED, f"New {service.code} ticket at {loc.matched}.", ticket
    )
