"""The crew view, made for a phone: a crew's tickets in route order with directions; one tap marks one in
progress or resolved with a note, and a save that fails (no signal) says so and keeps the note."""

from __future__ import annotations

from flask import abort, flash, get_flashed_messages, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from civictracker.extensions import current_session, db
from civictracker.models import Crew, Role, Ticket
from civictracker.models.ticket import TicketStatus
from civictracker.services.crew_route import order_route, route_metres
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
    start = None
    if crew is not None:
        found = db.session.scalars(
            select(Ticket)
            .where(Ticket.crew_id == crew.id, Ticket.status.in_(QUEUE_STATUSES))
            .order_by(Ticket.priority.desc(), Ticket.sla_due_at.asc(), Ticket.created_at.asc())
            .limit(500)
        )
        start = (crew.lat, crew.lon) if crew.lat is not None and crew.lon is not None else None
        tickets = order_route(start, list(found))
    crews = (
        []
        if current_user.role == Role.CREW.value
        else list(db.session.scalars(select(Crew).order_by(Crew.name)))
    )
    return render_template(
        "console/crew.html",
        crew=crew,
        tickets=tickets,
        crews=crews,
        form=CrewWorkForm(),
        route_km=route_metres(start, tickets) / 1000,
    ), code


def _wants_json() -> bool:
    """The crew page's script asks for JSON, so it can keep the note when a save fails."""
    return request.accept_mimetypes.best == "application/json"


@bp.route("/crew")
@role_required(*ALL_ROLES)
def crew_view() -> tuple[str, int]:
    return _render(_crew_for_request())


@bp.route("/crew/tickets/<int:ticket_id>/work", methods=["POST"])
@role_required(*ALL_ROLES)
def crew_work(ticket_id: int) -> Response | tuple[str | Response, int]:
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
        if _wants_json():
            return jsonify(ok=False, message=form_errors(form) or "Invalid form."), 400
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
    if _wants_json():
        if ok:  # the flashed "marked resolved" shows on the page the script reloads
            return jsonify(ok=True, message=""), 200
        errors = [str(m) for m in get_flashed_messages(category_filter=["error"])]  # the note stays on screen
        return jsonify(ok=False, message=" ".join(errors) or "Not saved."), 400
    return redirect(back) if ok else _render(crew, 400)
