"""The auth blueprint itself, apart from its views so that they can import it without a cycle."""

from __future__ import annotations

from flask import Blueprint, g

from civictracker.extensions import db, login_manager
from civictracker.models import User
from civictracker.web.http_cache import no_store

bp = Blueprint("auth", __name__)
bp.after_request(no_store)  # login forms carry a CSRF token tied to the session


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    # A disabled account loses its open sessions at the next request, not at the next login.
    return user if user is not None and user.active else None


@bp.before_app_request
def _fresh_user() -> None:
    # Load the user from this request's session cookie, never from an app context shared with an
    # earlier request (test clients reuse the test's app context, and g lives on the app context).
    g.pop("_login_user", None)


@bp.record_once
def _configure(state) -> None:  # type: ignore[no-untyped-def]
    # "strong": a session cookie replayed from another address/user agent is dropped, not trusted.
    login_manager.session_protection = "strong"
    login_manager.login_message_category = "error"
