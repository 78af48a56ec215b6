"""The queue (urgency, SLA due, age; filtered, paginated), bulk assign, and the map of tickets and crews."""

from __future__ import annotations

import math
from dataclasses import replace

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from civictracker.extensions import current_session, db
from civictracker.models import Crew, Role, Service
from civictracker.models.ticket import INTAKE_STATUSES
from civictracker.models.types import utcnow
from civictracker.runtime import city_of
from civictracker.services.dispatch import (
    QUEUE_STATUSES,
    QueueFilters,
    bulk_assign,
    open_ticket_counts,
    open_tickets_in_bbox,
    queue_page,
)
from civictracker.services.tickets import Actor
from civictracker.web.auth.roles import role_required
from civictracker.web.console.blueprint import bp
from civictracker.web.console.forms import AssignForm, BulkAssignForm
from civictracker.web.console.helpers import form_errors, int_arg, replies, run_action

STAFF = (Role.ADMIN.value, Role.DISPATCHER.value)
PER_PAGE = 50
MAP_LIMIT = 2000
UNPLACED_SHOWN = 10


@bp.route("/")
@role_required(Role.ADMIN.value, Role.DISPATCHER.value, Role.CREW.value)
def index() -> Response:
    if current_user.role == Role.CREW.value:
        return redirect(url_for("console.crew_view"))
    return redirect(url_for("console.queue"))


def _filters() -> tuple[QueueFilters, dict[str, str]]:
    args: dict[str, str] = {}
    status = request.args.get("status", "").strip()
    statuses = QUEUE_STATUSES
    if status:
        if status not in QUEUE_STATUSES:
            abort(400, description=f"Unknown status filter; use one of {', '.join(QUEUE_STATUSES)}.")
        statuses = (status,)
        args["status"] = status
    service_id = None
    code = request.args.get("service", "").strip()
    if code:
        service_id = db.session.scalar(select(Service.id).where(Service.code == code))
        if service_id is None:
            abort(400, description="Unknown service filter.")
        args["service"] = code
    crew_id = int_arg("crew")
    if crew_id is not None:
        args["crew"] = str(crew_id)
    flags = {}
    for flag in ("urgent", "overdue"):
        value = request.args.get(flag, "")
        if value not in ("", "0", "1"):
            abort(400, description=f"Query parameter {flag!r} must be 0 or 1.")
        flags[flag] = value == "1"
        if flags[flag]:
            args[flag] = "1"
    place = request.args.get("place", "")
    if place not in ("", "none"):
        abort(
            400, description="Query parameter 'place' must be empty or none (the tickets that need a place)."
        )
    if place:
        args["place"] = place
    filters = QueueFilters(
        statuses=statuses,
        service_id=service_id,
        crew_id=crew_id,
        urgent_only=flags["urgent"],
        overdue_only=flags["overdue"],
        # The main list holds the tickets with a place; those without are listed apart ("Needs a place").
        located=not place,
    )
    return filters, args


@bp.route("/queue")
@role_required(*STAFF)
def queue() -> str:
    filters, args = _filters()
    page = int_arg("page", default=1, minimum=1, maximum=100_000) or 1
    result = queue_page(current_session(), filters, page=page, per_page=PER_PAGE)
    # The tickets with no place under the same filters, apart: the first few, and how many.
    unplaced = None
    if filters.located:
        unplaced = queue_page(
            current_session(), replace(filters, located=False), page=1, per_page=UNPLACED_SHOWN
        )
    services = list(db.session.scalars(select(Service).order_by(Service.name)))
    crews = list(db.session.scalars(select(Crew).where(Crew.active.is_(True)).order_by(Crew.name)))
    return render_template(
        "console/queue.html",
        result=result,
        unplaced=unplaced,
        args=args,
        placed_args={k: v for k, v in args.items() if k != "place"},
        services=services,
        crews=crews,
        statuses=QUEUE_STATUSES,
        bulk_form=BulkAssignForm(),
        utcnow=utcnow(),
    )


@bp.route("/bulk-assign", methods=["POST"])
@role_required(*STAFF)
def bulk_assign_view() -> Response | tuple[str, int]:
    form = BulkAssignForm()
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return queue(), 400
    crew = db.session.get(Crew, form.crew_id.data or 0)
    if crew is None:
        flash("No such crew.", "error")
        return queue(), 400
    ids = list(form.ticket_ids.data or [])
    actor = Actor(user=current_user._get_current_object())
    if not run_action(
        lambda: bulk_assign(current_session(), ids, crew, replies=replies(), actor=actor),
        f"{len(set(ids))} ticket(s) assigned to {crew.name}.",
    ):
        return queue(), 400
    return redirect(url_for("console.queue"))


@bp.route("/map")
@role_required(*STAFF)
def map_view() -> str:
    # The popup's "assign crew" control posts the ticket page's own AssignForm (same CSRF token, same view).
    crews = list(db.session.scalars(select(Crew).where(Crew.active.is_(True)).order_by(Crew.name)))
    return render_template(
        "console/map.html",
        map_limit=MAP_LIMIT,
        center=city_of(current_app).center,
        crews=crews,
        assign_form=AssignForm(prefix="assign"),
    )


def _bbox() -> tuple[float, float, float, float]:
    raw = request.args.get("bbox", "")
    try:
        parts = [float(p) for p in raw.split(",")]
    except ValueError:
        abort(400, description="bbox must be min_lon,min_lat,max_lon,max_lat in degrees.")
    if len(parts) != 4 or not all(math.isfinite(p) for p in parts):
        abort(400, description="bbox must be min_lon,min_lat,max_lon,max_lat in degrees.")
    min_lon, min_lat, max_lon, max_lat = parts
    if not (-180 <= min_lon < max_lon <= 180 and -90 <= min_lat < max_lat <= 90):
        abort(400, description="bbox corners must be in range and min < max.")
    return min_lon, min_lat, max_lon, max_lat


@bp.route("/map.json")
@role_required(*STAFF)
def map_data() -> Response:
    """Open tickets (most urgent first, bounded) and all located crews, for the console map."""
    bbox = _bbox()
    tickets, truncated = open_tickets_in_bbox(current_session(), bbox, limit=MAP_LIMIT)
    counts = open_ticket_counts(current_session(), bbox, shown=len(tickets))
    crews = db.session.scalars(select(Crew).where(Crew.active.is_(True), Crew.lat.is_not(None)))
    return jsonify(
        truncated=truncated,
        # Why tickets are missing: no place yet, outside this view, or beyond the limit in it.
        counts={
            "open": counts.open_total,
            "shown": counts.shown,
            "no_location": counts.unlocated,
            "outside_view": counts.outside_view,
            "beyond_limit": counts.beyond_limit,
        },
        tickets=[
            {
                "id": t.id,
                "lat": t.lat,
                "lon": t.lon,
                "status": t.status,
                "urgent": t.priority > 0,
                "service": t.service.name,
                "summary": t.summary[:140],
                "address": t.address or t.location_text[:80],
                "crew_id": t.crew_id,
                "crew": t.crew.name if t.crew else None,
                "url": url_for("console.ticket_view", ticket_id=t.id),
                "assign_url": url_for("console.ticket_assign", ticket_id=t.id),
                # Intake states have no confirmed place yet: assign_crew refuses them, so no control.
                "assignable": t.status not in INTAKE_STATUSES,
            }
            for t in tickets
        ],
        crews=[
            {
                "id": c.id,
                "name": c.name,
                "lat": c.lat,
                "lon": c.lon,
                "available": c.available,
                "base": c.base_address,
            }
            for c in crews
        ],
    )
