"""Admin pages (role admin only): staff accounts, crews, the service catalog, Open311 API keys."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from civictracker.extensions import current_session, db
from civictracker.models import ApiKey, Crew, Role, Service, User
from civictracker.runtime import city_of, runtime_of
from civictracker.services.admin import (
    CrewChange,
    locate_crew_base,
    revoke_api_key,
    save_crew,
    update_service,
    update_user,
)
from civictracker.services.audit import list_admin_events, target_kinds
from civictracker.services.errors import DomainError, NotFound
from civictracker.services.password_reset import issue_password_reset
from civictracker.services.users import create_api_key, create_user
from civictracker.web.auth.reset import reset_link
from civictracker.web.auth.roles import role_required
from civictracker.web.console.blueprint import bp
from civictracker.web.console.forms import (
    ActionForm,
    ApiKeyForm,
    CrewForm,
    ServiceForm,
    UserCreateForm,
    UserEditForm,
)
from civictracker.web.console.helpers import form_errors, get_crew, run_action

ADMIN = Role.ADMIN.value


def _me() -> Any:
    return current_user._get_current_object()


def _invalid(form: Any) -> None:
    flash(form_errors(form) or "Invalid form.", "error")


# Users -------------------------------------------------------------------------------------------
def _crew_choices() -> list[tuple[int | None, str]]:
    """Crews by name for a user's crew: nobody types a numeric id."""
    crews = db.session.scalars(select(Crew).order_by(Crew.name))
    return [(None, "No crew"), *((c.id, c.name) for c in crews)]


def _user_create_form() -> UserCreateForm:
    form = UserCreateForm()
    form.crew_id.choices = _crew_choices()  # type: ignore[assignment]
    return form


def _user_edit_form(user_id: int, *, submitted: bool) -> UserEditForm:
    """A user's row form: bound to the request when it was submitted, else empty for the page."""
    prefix = f"u{user_id}"
    form = UserEditForm(prefix=prefix) if submitted else UserEditForm(prefix=prefix, formdata=None)
    form.crew_id.choices = _crew_choices()  # type: ignore[assignment]
    return form


def _users_page(
    code: int = 200, form: UserCreateForm | None = None, reset: tuple[str, str] | None = None
) -> tuple[str, int]:
    users = list(db.session.scalars(select(User).order_by(User.email)))
    edit_forms = {}
    for u in users:
        f = _user_edit_form(u.id, submitted=False)
        f.role.data, f.active.data, f.crew_id.data = u.role, u.active, u.crew_id
        edit_forms[u.id] = f
    return render_template(
        "console/admin_users.html",
        users=users,
        form=form or _user_create_form(),
        edit_forms=edit_forms,
        reset_for=reset[0] if reset else None,
        reset_link=reset[1] if reset else None,
    ), code


@bp.route("/admin/users")
@role_required(ADMIN)
def admin_users() -> tuple[str, int]:
    return _users_page()


@bp.route("/admin/users", methods=["POST"])
@role_required(ADMIN)
def admin_user_create() -> Response | tuple[str, int]:
    form = _user_create_form()
    if not form.validate_on_submit():
        _invalid(form)
        return _users_page(400, form)

    def create() -> None:
        if form.crew_id.data is not None and db.session.get(Crew, form.crew_id.data) is None:
            raise NotFound(f"No crew {form.crew_id.data}.")
        if form.role.data == Role.CREW.value and form.crew_id.data is None:
            raise DomainError("A crew account needs a crew.")
        create_user(
            current_session(),
            form.email.data or "",
            form.password.data or "",
            role=form.role.data or "",
            name=form.name.data or "",
            crew_id=form.crew_id.data,
            acting=_me(),
        )

    if not run_action(create, f"User {form.email.data} created."):
        return _users_page(400, form)
    return redirect(url_for("console.admin_users"))


@bp.route("/admin/users/<int:user_id>", methods=["POST"])
@role_required(ADMIN)
def admin_user_edit(user_id: int) -> Response | tuple[str, int]:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, description=f"No user {user_id}.")
    form = _user_edit_form(user_id, submitted=True)
    if not form.validate_on_submit():
        _invalid(form)
        return _users_page(400)
    ok = run_action(
        lambda: update_user(
            current_session(),
            user,
            role=form.role.data or "",
            active=bool(form.active.data),
            crew_id=form.crew_id.data,
            acting=_me(),
        ),
        f"User {user.email} updated.",
    )
    return redirect(url_for("console.admin_users")) if ok else _users_page(400)


@bp.route("/admin/users/<int:user_id>/reset", methods=["POST"])
@role_required(ADMIN)
def admin_user_reset(user_id: int) -> tuple[str, int, dict[str, str]]:
    """A one-time password link for a user, shown once to the admin (no mail server is needed)."""
    user = db.session.get(User, user_id)
    if user is None:
        abort(404, description=f"No user {user_id}.")
    if not ActionForm(prefix=f"u{user_id}").validate_on_submit():
        html, code = _users_page(400)
        return html, code, {}
    token = issue_password_reset(current_session(), user, acting=_me())
    db.session.commit()
    link = reset_link(token)
    flash(f"Password link made for {user.email}.", "ok")
    html, code = _users_page(201, reset=(user.email, link))
    return html, code, {"Cache-Control": "no-store"}


@bp.route("/admin/audit")
@role_required(ADMIN)
def admin_audit() -> tuple[str, int]:
    kind = request.args.get("kind", "")
    if kind not in ("", *target_kinds()):
        abort(400, description="kind must be one of " + ", ".join(target_kinds()) + ".")
    events = list_admin_events(current_session(), kind=kind or None)
    return render_template("console/admin_audit.html", events=events, kind=kind, kinds=target_kinds()), 200


# Crews -------------------------------------------------------------------------------------------
def _crew_form(crew: Crew | None = None) -> CrewForm:
    """The crew form with the service catalog as its skill checkboxes (the crew's own ticked on a GET)."""
    form = CrewForm(obj=crew)
    if crew is not None and not form.is_submitted():
        form.address.data = crew.base_address
    services = db.session.scalars(select(Service).order_by(Service.group, Service.name))
    form.services.choices = [(s.code, f"{s.name} ({s.group})" if s.group else s.name) for s in services]
    if crew is not None and not form.is_submitted():
        form.services.data = crew.service_codes
    return form


def _crew_change(form: CrewForm, crew: Crew | None = None) -> CrewChange:
    """What the form sets. The home base: a newly typed address (the point left as it was) is placed by
    the offline geocoder (ValidationFailed when it cannot be); a new point (a click on the map) keeps the
    address typed with it, and drops an old address that no longer names it."""
    typed = (form.address.data or "").strip()
    lat, lon = form.lat.data, form.lon.data
    old_point = (crew.lat, crew.lon) if crew is not None else (None, None)
    old_address = crew.base_address if crew is not None else ""
    address = typed
    if typed and typed != old_address and (lat, lon) == old_point:
        place = locate_crew_base(runtime_of(current_app).gazetteer(), typed)
        lat, lon, address = place.lat, place.lon, place.address or typed
    elif (lat, lon) != old_point and typed == old_address:
        address = ""
    return CrewChange(
        name=form.name.data or "",
        service_codes=form.services.data or [],
        lat=lat,
        lon=lon,
        available=bool(form.available.data),
        active=bool(form.active.data),
        base_address=address,
    )


def _crews_page(code: int = 200, form: CrewForm | None = None) -> tuple[str, int]:
    crews = list(db.session.scalars(select(Crew).order_by(Crew.name)))
    html = render_template(
        "console/admin_crews.html",
        crews=crews,
        form=form or _crew_form(),
        center=city_of(current_app).center,
        crew=None,
    )
    return html, code


@bp.route("/admin/crews")
@role_required(ADMIN)
def admin_crews() -> tuple[str, int]:
    return _crews_page()


@bp.route("/admin/crews", methods=["POST"])
@role_required(ADMIN)
def admin_crew_create() -> Response | tuple[str, int]:
    form = _crew_form()
    if not form.validate_on_submit():
        _invalid(form)
        return _crews_page(400, form)
    ok = run_action(
        lambda: save_crew(current_session(), None, _crew_change(form), acting=_me()),
        f"Crew {form.name.data} created.",
    )
    return redirect(url_for("console.admin_crews")) if ok else _crews_page(400, form)


def _crew_edit_page(crew: Crew, form: CrewForm) -> str:
    return render_template(
        "console/admin_crew_edit.html", crew=crew, form=form, center=city_of(current_app).center
    )


@bp.route("/admin/geocode")
@role_required(ADMIN)
def admin_geocode() -> tuple[Response, int]:
    """The crew form's "Find": an address or intersection placed by the offline geocoder (JSON)."""
    try:
        place = locate_crew_base(runtime_of(current_app).gazetteer(), request.args.get("q", ""))
    except DomainError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(lat=place.lat, lon=place.lon, address=place.address, precision=place.precision), 200


@bp.route("/admin/crews/<int:crew_id>", methods=["GET", "POST"])
@role_required(ADMIN)
def admin_crew_edit(crew_id: int) -> Response | tuple[str, int]:
    crew = get_crew(crew_id)
    form = _crew_form(crew)
    if not form.is_submitted():
        return _crew_edit_page(crew, form), 200
    if not form.validate():
        _invalid(form)
        return _crew_edit_page(crew, form), 400
    ok = run_action(
        lambda: save_crew(current_session(), crew, _crew_change(form, crew), acting=_me()), "Crew saved."
    )
    if ok:
        return redirect(url_for("console.admin_crews"))
    return _crew_edit_page(get_crew(crew_id), form), 400


# Services ----------------------------------------------------------------------------------------
@bp.route("/admin/services")
@role_required(ADMIN)
def admin_services() -> tuple[str, int]:
    services = list(db.session.scalars(select(Service).order_by(Service.group, Service.name)))
    return render_template("console/admin_services.html", services=services), 200


@bp.route("/admin/services/<int:service_id>", methods=["GET", "POST"])
@role_required(ADMIN)
def admin_service_edit(service_id: int) -> Response | tuple[str, int]:
    service = db.session.get(Service, service_id)
    if service is None:
        abort(404, description=f"No service {service_id}.")
    form = ServiceForm()
    if not form.is_submitted():
        form.name.data, form.sla_hours.data, form.active.data = (
            service.name,
            service.sla_hours,
            service.active,
        )
        form.keywords.data = ", ".join(service.keywords or [])
        return render_template("console/admin_service_edit.html", service=service, form=form), 200
    if not form.validate():
        _invalid(form)
        return render_template("console/admin_service_edit.html", service=service, form=form), 400
    ok = run_action(
        lambda: update_service(
            current_session(),
            service,
            name=form.name.data or "",
            sla_hours=int(form.sla_hours.data or 0),
            active=bool(form.active.data),
            keywords=(form.keywords.data or "").split(","),
            acting=_me(),
        ),
        "Service saved.",
    )
    if ok:
        return redirect(url_for("console.admin_services"))
    return render_template(
        "console/admin_service_edit.html", service=db.session.get(Service, service_id), form=form
    ), 400


# Open311 API keys --------------------------------------------------------------------------------
def _keys_page(
    code: int = 200, new_key: str | None = None, form: ApiKeyForm | None = None
) -> tuple[str, int]:
    keys = list(db.session.scalars(select(ApiKey).order_by(ApiKey.created_at.desc(), ApiKey.id.desc())))
    html = render_template(
        "console/admin_keys.html",
        keys=keys,
        form=form or ApiKeyForm(),
        action_form=ActionForm(),
        new_key=new_key,
    )
    return html, code


@bp.route("/admin/keys")
@role_required(ADMIN)
def admin_keys() -> tuple[str, int]:
    return _keys_page()


@bp.route("/admin/keys", methods=["POST"])
@role_required(ADMIN)
def admin_key_create() -> tuple[str, int] | tuple[str, int, dict[str, str]]:
    form = ApiKeyForm()
    if not form.validate_on_submit():
        _invalid(form)
        return _keys_page(400, form=form)
    created: dict[str, str] = {}

    def create() -> None:
        _row, created["key"] = create_api_key(current_session(), form.name.data or "", created_by=_me())

    if not run_action(create, "API key created. Copy it now: it is shown only once."):
        return _keys_page(400, form=form)
    # Rendered, not redirected: the key lives only in this response (the database keeps its hash).
    html, code = _keys_page(201, new_key=created["key"])
    return html, code, {"Cache-Control": "no-store"}


@bp.route("/admin/keys/<int:key_id>/revoke", methods=["POST"])
@role_required(ADMIN)
def admin_key_revoke(key_id: int) -> Response | tuple[str, int]:
    form = ActionForm()
    if not form.validate_on_submit():
        _invalid(form)
        return _keys_page(400)
    if not run_action(lambda: revoke_api_key(current_session(), key_id, acting=_me()), "API key revoked."):
        return _keys_page(400)
    return redirect(url_for("console.admin_keys"))
