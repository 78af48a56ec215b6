"""Set a password through a one-time link (GET shows the form, POST spends the link once)."""

from __future__ import annotations

import logging

from flask import current_app, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import PasswordField
from wtforms.validators import DataRequired, EqualTo, Length

from civictracker.extensions import current_session, db
from civictracker.runtime import settings_of
from civictracker.services.errors import NotFound, ValidationFailed
from civictracker.services.password_reset import check_password_reset, use_password_reset
from civictracker.services.users import MIN_PASSWORD
from civictracker.web.auth.blueprint import bp

log = logging.getLogger(__name__)


class ResetForm(FlaskForm):
    password = PasswordField(
        f"New password (at least {MIN_PASSWORD} characters)",
        validators=[DataRequired(), Length(min=MIN_PASSWORD, max=500)],
    )
    confirm = PasswordField(
        "The same password again", validators=[DataRequired(), EqualTo("password", "The two differ.")]
    )


def reset_link(token: str) -> str:
    """The link an admin gives a user: on the public URL, so it works from the user's own device."""
    return settings_of(current_app).public_url.rstrip("/") + url_for("auth.reset_password", token=token)


@bp.route("/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Response | tuple[str, int, dict[str, str]]:
    headers = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}  # the token is in the URL
    form = ResetForm()
    try:
        check_password_reset(current_session(), token)
    except (NotFound, ValidationFailed) as exc:
        status = 404 if isinstance(exc, NotFound) else 410
        return render_template("auth/reset.html", form=None, problem=str(exc)), status, headers
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("auth/reset.html", form=form, problem=None), status, headers
    try:
        user = use_password_reset(current_session(), token, form.password.data or "")
    except ValidationFailed as exc:
        db.session.rollback()
        return render_template("auth/reset.html", form=None, problem=str(exc)), 410, headers
    db.session.commit()
    log.info("password set through a one-time link for user %s", user.id)
    flash("Your password is set. Log in with it.", "ok")
    return redirect(url_for("auth.login"))
