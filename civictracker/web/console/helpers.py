"""Shared view plumbing: strict query-parameter parsing, loading rows, one commit per action."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, request
from flask_wtf import FlaskForm

from civictracker.extensions import current_session, db
from civictracker.models import Crew, Ticket
from civictracker.runtime import runtime_of
from civictracker.services.errors import DomainError
from civictracker.services.inbox_reply import Canned, load_canned
from civictracker.services.notify import ReplyContext
from civictracker.services.reply_templates import canned_with_overrides
from civictracker.web.params import MAX_DB_ID, BadParam, whole_number

log = logging.getLogger(__name__)


def int_arg(
    name: str, *, default: int | None = None, minimum: int = 0, maximum: int = MAX_DB_ID
) -> int | None:
    """An integer query parameter (by default one an id column can hold), or 400 with a message naming it
    (never a silent fallback)."""
    raw = request.args.get(name, "").strip()
    if raw == "":
        return default
    try:
        return whole_number(f"Query parameter {name!r}", raw, minimum=minimum, maximum=maximum)
    except BadParam as exc:
        abort(400, description=str(exc))


def replies() -> ReplyContext:
    """The city's reply context (the admins' template overrides on top of the pack's), for the services
    that answer followers on a public change."""
    # One read of the overrides per request, however often a view asks (kept on the request, not on g:
    # an app context may outlive many requests, and an edit must show on the next one).
    cached = getattr(request, "_ct_replies", None)
    if cached is None:
        cached = runtime_of(current_app).replies_now(current_session())
        request._ct_replies = cached  # type: ignore[attr-defined]
    return cached


def canned_replies() -> dict[str, dict[str, Canned]]:
    """The inbox's canned replies by language and key: the pack's, with the admins' overrides on top."""
    return canned_with_overrides(current_session(), load_canned(runtime_of(current_app).city.path))


def get_ticket(ticket_id: int) -> Ticket:
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        abort(404, description=f"No ticket CT-{ticket_id}.")
    return ticket


def get_crew(crew_id: int) -> Crew:
    crew = db.session.get(Crew, crew_id)
    if crew is None:
        abort(404, description=f"No crew {crew_id}.")
    return crew


def form_errors(form: FlaskForm) -> str:
    return "; ".join(
        f"{getattr(form, k).label.text}: {' '.join(v)}" for k, v in form.errors.items() if hasattr(form, k)
    )


def run_action(action: Callable[[], Any], success: str) -> bool:
    """Run a service call; commit once on success, roll back and flash the message on a DomainError."""
    try:
        action()
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return False
    db.session.commit()
    flash(success)
    return True
