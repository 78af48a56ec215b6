"""The crew view: a crew's tickets in working order; mark in progress or resolved with a note."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from civictracker.extensions import current_session, db
from civictracker.models import Crew, Role, Ticket
from civictracker.models.ticket import TicketStatus
from civictracker.services.dispatch import QUEUE_STATUSES
from civictracker.services.tickets import Actor, EventNote, change_status
from civictracker.web.auth.roles import role_required
from civictracker.web.console.blueprint import bp
from civictracker.web.console.forms import CrewWorkForm
from civictracker.web.console.helpers import form_errors, get_ticket, int_arg, replies, run_action

ALL_ROLES = (Role.ADMIN.value, Role.DISPATCHER.value, Role.CREW.value)
CREW_STATES = (TicketStatus.ASSIGNED.value, TicketStatus.IN_PROGRESS.value)


def _crew_for_request() -> Crew | None:
    """A crew account sees its own crew; staff may look at any crew with ?crew=<id>."""
    if current_user.role == Role.CREW.value:
        if current_user.crew_id is None:
            return None
        return db.session.get(Crew, current_user.crew_id)
    crew_id = int_arg("crew", minimum=1)
    if crew_id is None:
        return None
    crew = db.session.get(Crew, crew_id)
    if crew is None:
        abort(404, description=f"No crew {crew_id}.")
    return crew


def _render(crew: Crew | None, code: int = 200) -> tuple[str, int]:
    tickets: list[Ticket] = []
    if crew is not None:
        tickets = list(
            db.session.scalars(
                select(Ticket)
                .where(Ticket.crew_id == crew.id, Ticket.status.in_(QUEUE_STATUSES))
                .order_by(Ticket.priority.desc(), Ticket.sla_due_at.asc(), Ticket.created_at.asc())
                .limit(500)
            )
        )
    crews = (
        []
        if current_user.role == Role.CREW.value
        else list(db.session.scalars(select(Crew).order_by(Crew.name)))
    )
    return render_template(
        "console/crew.html", crew=crew, tickets=tickets, crews=crews, form=CrewWorkForm()
    ), code


@bp.route("/crew")
@role_required(*ALL_ROLES)
def crew_view() -> tuple[str, int]:
    return _render(_crew_for_request())


@bp.route("/crew/tickets/<int:ticket_id>/work", methods=["POST"])
@role_required(*ALL_ROLES)
def crew_work(ticket_id: int) -> Response | tuple[str, int]:
    ticket = get_ticket(ticket_id)
    if current_user.role == Role.CREW.value and (
        ticket.crew_id is None or ticket.crew_id != current_user.crew_id
    ):
        abort(403, description="This ticket is not assigned to your crew.")
    # A crew member's page is their own crew's; staff come back to the crew of this ticket.
    own_crew = current_user.role == Role.CREW.value
    back = url_for("console.crew_view") if own_crew else url_for("console.crew_view", crew=ticket.crew_id)
    form = CrewWorkForm()
    crew = db.session.get(Crew, ticket.crew_id) if ticket.crew_id else None
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(crew, 400)
    target = form.to_status.data or ""
    ok = run_action(
        lambda: change_status(
            current_session(),
            ticket,
            target,
            replies=replies(),
            actor=Actor(user=current_user._get_current_object()),
            note=EventNote(public=form.public_note.data or ""),
        ),
        f"{ticket.ref} marked {target.replace('_', ' ')}.",
    )
    return redirect(back) if ok else _render(crew, 400)
