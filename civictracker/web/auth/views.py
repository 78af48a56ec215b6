"""Log in (rate-limited, safe redirect to a local path) and log out."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from civictracker.extensions import current_session, db
from civictracker.models import Role
from civictracker.runtime import settings_of
from civictracker.services.users import authenticate
from civictracker.web.auth.blueprint import bp
from civictracker.web.auth.forms import LoginForm
from civictracker.web.auth.ratelimit import LoginLimiter
from civictracker.web.ratelimits import limiter_of

log = logging.getLogger(__name__)


def limiter() -> LoginLimiter:
    """One limiter per app (tests build many apps in one process)."""
    ext = current_app.extensions
    if "civictracker.login_limiter" not in ext:
        settings = settings_of(current_app)
        ext["civictracker.login_limiter"] = LoginLimiter(
            settings.login_rate_limit, storage=limiter_of().storage, prefix=f"{settings.queue_name}:limits"
        )
    lim = ext["civictracker.login_limiter"]
    assert isinstance(lim, LoginLimiter)
    return lim


def safe_next(target: str | None) -> str | None:
    """Only a path on this site: no scheme, no host, no protocol-relative or backslash tricks."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return None
    if any(c in target for c in "\\\r\n\t") or any(ord(c) < 32 for c in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _home() -> str:
    if current_user.is_authenticated and current_user.role == Role.CREW.value:
        return url_for("console.crew_view")
    return url_for("console.queue")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET":
        form.next.data = safe_next(request.args.get("next")) or ""
        if current_user.is_authenticated:
            return redirect(form.next.data or _home())
        return render_template("auth/login.html", form=form)
    if not form.validate_on_submit():
        # A missing or stale CSRF token lands here too; CSRFProtect rejects it earlier when enabled.
        return render_template("auth/login.html", form=form), 400
    address = request.remote_addr or "unknown"
    account = (form.email.data or "").strip().lower()
    wait = limiter().admit(address, account)  # takes this attempt's place first: atomic across workers
    if wait:
        log.warning("login rate limit hit for %s from %s", account, address)
        flash(f"Too many failed attempts. Try again in {int(wait // 60) + 1} minute(s).", "error")
        return render_template("auth/login.html", form=form), 429
    user = authenticate(current_session(), account, form.password.data or "")
    if user is None:  # the attempt keeps the places admit() took: failures are what the windows count
        db.session.rollback()
        flash("Wrong e-mail or password, or the account is disabled.", "error")
        return render_template("auth/login.html", form=form), 401
    limiter().reset(address, account)
    db.session.commit()  # last_login_at
    session.clear()  # a fresh session on login: no fixation of a pre-login session id/state
    login_user(user)
    log.info("user %s logged in from %s", user.id, address)
    return redirect(safe_next(form.next.data) or _home())


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> Response:
    # GET too: the shared header links here; a forged logout costs the victim a login, nothing more.
    logout_user()
    session.clear()
    flash("You are logged out.")
    return redirect(url_for("auth.login"))
