"""A ticket's console page (reports, followers and threads, outbox, triage and geocoding) and its actions."""

from __future__ import annotations

from typing import Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from civictracker.extensions import current_session, db
from civictracker.models import (
    Crew,
    Follower,
    InboundPost,
    OutboundMessage,
    Role,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from civictracker.runtime import city_of, runtime_of
from civictracker.services.catalog import get_service, list_services
from civictracker.services.corrections import Correction, correct_ticket, place_from_pin, place_from_text
from civictracker.services.dispatch import suggest_crews
from civictracker.services.errors import NotFound
from civictracker.services.tickets import (
    TRANSITIONS,
    Actor,
    EventNote,
    assign_crew,
    can_transition,
    change_status,
    merge_tickets,
)
from civictracker.web.auth.roles import role_required
from civictracker.web.console.blueprint import bp
from civictracker.web.console.forms import AssignForm, CorrectionForm, LocationForm, MergeForm, StatusForm
from civictracker.web.console.helpers import form_errors, get_ticket, replies, run_action
from civictracker.web.console.photos import photo_context
from civictracker.web.console.triage_view import explain_triage

STAFF = (Role.ADMIN.value, Role.DISPATCHER.value)
# Merging is its own action (it needs the other ticket), so the status form does not offer "duplicate".
NOT_IN_STATUS_FORM = {TicketStatus.DUPLICATE.value}
_S = TicketStatus
# The status form lists the moves in the order work goes (models/ticket.py TICKET_TRANSITIONS), the
# endings that stop work (referred, rejected, hidden) last.
WORKFLOW_ORDER = [
    _S.OPEN,
    _S.NEEDS_LOCATION,
    _S.ACKNOWLEDGED,
    _S.ASSIGNED,
    _S.IN_PROGRESS,
    _S.RESOLVED,
    _S.CLOSED,
    _S.REOPENED,
    _S.REFERRED,
    _S.REJECTED,
    _S.HIDDEN,
]
# The move a dispatcher most often makes next from each status: the form's default (never an ending).
NEXT_STATUS: dict[TicketStatus, TicketStatus] = {
    _S.NEW: _S.OPEN,
    _S.NEEDS_LOCATION: _S.OPEN,
    _S.OPEN: _S.ACKNOWLEDGED,
    _S.ACKNOWLEDGED: _S.IN_PROGRESS,
    _S.ASSIGNED: _S.IN_PROGRESS,
    _S.IN_PROGRESS: _S.RESOLVED,
    _S.RESOLVED: _S.CLOSED,
    _S.CLOSED: _S.REOPENED,
    _S.REOPENED: _S.ACKNOWLEDGED,
    _S.DUPLICATE: _S.REOPENED,
    _S.REFERRED: _S.REOPENED,
    _S.REJECTED: _S.OPEN,
    _S.HIDDEN: _S.OPEN,
}


def status_choices(ticket: Ticket) -> list[SelectChoice]:
    allowed = {s.value for s in TRANSITIONS.get(TicketStatus(ticket.status), frozenset())}
    return [
        SelectChoice(s.value, s.value.replace("_", " "))
        for s in WORKFLOW_ORDER
        if s.value in allowed and s.value not in NOT_IN_STATUS_FORM and can_transition(ticket.status, s.value)
    ]


def default_status(ticket: Ticket, choices: list[SelectChoice]) -> str | None:
    """The next step of the workflow when the form offers it, else the first choice in workflow order."""
    values = [c.value for c in choices]
    wanted = NEXT_STATUS.get(TicketStatus(ticket.status))
    if wanted is not None and wanted.value in values:
        return wanted.value
    return values[0] if values else None


def _forms(ticket: Ticket) -> dict[str, Any]:
    status_form = StatusForm(prefix="status")
    choices = status_choices(ticket)
    status_form.to_status.choices = choices  # type: ignore[assignment]
    if not status_form.is_submitted():
        status_form.to_status.data = default_status(ticket, choices)
    location_form = LocationForm(prefix="loc")
    if ticket.lat is not None and location_form.lat.data is None:
        location_form.lat.data, location_form.lon.data = ticket.lat, ticket.lon
    return {
        "status_form": status_form,
        "assign_form": AssignForm(prefix="assign"),
        "merge_form": MergeForm(prefix="merge"),
        "location_form": location_form,
        "correction_form": _correction_form(ticket),
    }


def _render(ticket: Ticket, code: int = 200, **forms: Any) -> tuple[str, int]:
    s = current_session()
    posts = list(
        s.scalars(
            select(InboundPost)
            .where(InboundPost.ticket_id == ticket.id)
            .order_by(InboundPost.received_at, InboundPost.id)
            .limit(500)
        )
    )
    followers = list(
        s.scalars(
            select(Follower)
            .options(joinedload(Follower.reporter))
            .where(Follower.ticket_id == ticket.id)
            .order_by(Follower.id)
            .limit(500)
        )
    )
    outbound = list(
        s.scalars(
            select(OutboundMessage)
            .where(OutboundMessage.ticket_id == ticket.id)
            .order_by(OutboundMessage.created_at, OutboundMessage.id)
            .limit(500)
        )
    )
    events = list(
        s.scalars(
            select(TicketEvent)
            .options(joinedload(TicketEvent.actor))
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.id)
        )
    )
    # Each follower's thread: the posts they sent on this ticket and what we sent them.
    threads = {
        f.id: {
            "posts": [p for p in posts if p.reporter_id == f.reporter_id],
            "sent": [m for m in outbound if m.follower_id == f.id],
        }
        for f in followers
    }
    crews = list(s.scalars(select(Crew).where(Crew.active.is_(True)).order_by(Crew.name)))
    suggestions = suggest_crews(s, ticket)
    # The languages the followers read: staff may word the public note in each (optional fields).
    langs = sorted({f.lang for f in followers if f.active and f.lang in replies().templates})
    all_forms = _forms(ticket) | forms
    html = render_template(
        "console/ticket.html",
        ticket=ticket,
        posts=posts,
        followers=followers,
        threads=threads,
        outbound=outbound,
        events=events,
        suggestions=suggestions,
        crews=crews,
        pin_map=_pin_map(ticket),
        triage_lines=explain_triage(
            ticket.triage, {sv.code: sv.name for sv in list_services(s, public_only=False)}
        ),
        city_center=city_of(current_app).center,
        **photo_context([p.id for p in posts], "ticket"),
        follower_langs=langs,
        lang_names=(replies().templates.get("en") or {}).get("language_names") or {},
        **all_forms,
    )
    return html, code


def _lang_notes(prefix: str) -> dict[str, str]:
    """The optional public note per follower language from the form (`<prefix>-note_<lang>`); the
    service checks them (notify.clean_notes)."""
    return {
        lang: request.form.get(f"{prefix}-note_{lang}", "")
        for lang in replies().templates
        if request.form.get(f"{prefix}-note_{lang}", "").strip()
    }


def _pin_map(ticket: Ticket) -> Any:
    """The shared draggable one-pin map (geo.maps) filling the move-pin inputs; None: the page's own."""
    if ticket.lat is None or ticket.lon is None:
        return None
    try:
        from civictracker.geo.maps import TicketMap, ticket_map_html
    except ImportError:
        return None
    return ticket_map_html(
        TicketMap(
            ticket.lat,
            ticket.lon,
            draggable=True,
            lat_input_id="pin-lat",
            lon_input_id="pin-lon",
            height="420px",
        )
    )


def _back(ticket: Ticket) -> Response:
    return redirect(url_for("console.ticket_view", ticket_id=ticket.id))


def _actor() -> Actor:
    return Actor(user=current_user._get_current_object())


@bp.route("/tickets/<int:ticket_id>")
@role_required(*STAFF)
def ticket_view(ticket_id: int) -> tuple[str, int]:
    return _render(get_ticket(ticket_id))


@bp.route("/tickets/<int:ticket_id>/status", methods=["POST"])
@role_required(*STAFF)
def ticket_status(ticket_id: int) -> Response | tuple[str, int]:
    ticket = get_ticket(ticket_id)
    form = StatusForm(prefix="status")
    form.to_status.choices = status_choices(ticket)  # type: ignore[assignment]
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(ticket, 400, status_form=form)
    target = form.to_status.data or ""
    notes = _lang_notes("status")
    ok = run_action(
        lambda: change_status(
            current_session(),
            ticket,
            target,
            replies=replies(),
            actor=_actor(),
            note=EventNote(
                public=form.public_note.data or "",
                internal=form.internal_note.data or "",
                data={"notes": notes} if notes else None,
            ),
        ),
        f"{ticket.ref} is now {target.replace('_', ' ')}.",
    )
    return _back(ticket) if ok else _render(get_ticket(ticket_id), 400)


@bp.route("/tickets/<int:ticket_id>/assign", methods=["POST"])
@role_required(*STAFF)
def ticket_assign(ticket_id: int) -> Response | tuple[str, int]:
    ticket = get_ticket(ticket_id)
    form = AssignForm(prefix="assign")
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(ticket, 400, assign_form=form)
    crew = None
    if form.crew_id.data:
        crew = db.session.get(Crew, form.crew_id.data)
        if crew is None:
            flash("No such crew.", "error")
            return _render(ticket, 400)
    ok = run_action(
        lambda: assign_crew(
            current_session(),
            ticket,
            crew,
            replies=replies(),
            actor=_actor(),
            public_note=form.public_note.data or None,
            internal_note=form.internal_note.data or "",
        ),
        f"{ticket.ref} assigned to {crew.name}." if crew else f"{ticket.ref} unassigned.",
    )
    return _back(ticket) if ok else _render(get_ticket(ticket_id), 400)


@bp.route("/tickets/<int:ticket_id>/merge", methods=["POST"])
@role_required(*STAFF)
def ticket_merge(ticket_id: int) -> Response | tuple[str, int]:
    ticket = get_ticket(ticket_id)
    form = MergeForm(prefix="merge")
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(ticket, 400, merge_form=form)
    into_id = form.into_id.data or 0

    def merge() -> None:
        into = db.session.get(Ticket, into_id)
        if into is None:
            raise NotFound(f"No ticket CT-{into_id}.")
        merge_tickets(
            current_session(),
            ticket,
            into,
            replies=replies(),
            actor=_actor(),
            public_note=form.public_note.data or None,
        )

    ok = run_action(merge, f"{ticket.ref} merged into CT-{into_id}.")
    if ok:
        return redirect(url_for("console.ticket_view", ticket_id=into_id))
    return _render(get_ticket(ticket_id), 400)


@bp.route("/tickets/<int:ticket_id>/location", methods=["POST"])
@role_required(*STAFF)
def ticket_location(ticket_id: int) -> Response | tuple[str, int]:
    """Correct the place: a typed address or intersection is geocoded; a dragged pin takes the street and
    segment under it. The followers are told (services.corrections)."""
    ticket = get_ticket(ticket_id)
    form = LocationForm(prefix="loc")
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(ticket, 400, location_form=form)
    runtime = runtime_of(current_app)
    typed = (form.place.data or "").strip()

    def move() -> None:
        if typed:
            place = place_from_text(runtime.gazetteer(), typed, runtime.remote)
        else:
            place = place_from_pin(runtime.gazetteer(), float(form.lat.data or 0), float(form.lon.data or 0))
        note = EventNote(public=form.public_note.data or "", internal=form.internal_note.data or "")
        fix = Correction(location=place)
        correct_ticket(current_session(), ticket, fix, replies=replies(), actor=_actor(), note=note)

    ok = run_action(move, f"{ticket.ref} moved; its followers are told.")
    return _back(ticket) if ok else _render(get_ticket(ticket_id), 400, location_form=form)


@bp.route("/tickets/<int:ticket_id>/correct", methods=["POST"])
@role_required(*STAFF)
def ticket_correct(ticket_id: int) -> Response | tuple[str, int]:
    """Correct the category or the urgency, with a word to the resident."""
    ticket = get_ticket(ticket_id)
    form = _correction_form()
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(ticket, 400, correction_form=form)
    code, urgency = form.service_code.data or "", form.urgency.data or ""

    def correct() -> None:
        service = get_service(current_session(), code) if code else None
        if code and service is None:
            raise NotFound(f"No service {code!r}.")
        fix = Correction(service=service, urgent=None if not urgency else urgency == "urgent")
        notes = _lang_notes("fix")
        note = EventNote(
            public=form.public_note.data or "",
            internal=form.internal_note.data or "",
            data={"notes": notes} if notes else None,
        )
        correct_ticket(current_session(), ticket, fix, replies=replies(), actor=_actor(), note=note)

    ok = run_action(correct, f"{ticket.ref} corrected; its followers are told.")
    return _back(ticket) if ok else _render(get_ticket(ticket_id), 400, correction_form=form)


def _correction_form(ticket: Ticket | None = None) -> CorrectionForm:
    form = CorrectionForm(prefix="fix")
    services = list_services(current_session(), public_only=False)
    form.service_code.choices = [SelectChoice("", "keep")] + [  # type: ignore[assignment]
        SelectChoice(s.code, s.name) for s in services if ticket is None or s.id != ticket.service_id
    ]
    return form
