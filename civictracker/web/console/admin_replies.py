"""Admin pages for the city's words: reply templates and canned replies per language, with a live preview."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from civictracker.extensions import current_session, db
from civictracker.models import ReplyOverride, ReplyScope, Role, Service
from civictracker.runtime import runtime_of
from civictracker.services import reply_templates as rt
from civictracker.services.inbox_reply import load_canned
from civictracker.services.wording import WORD_KEYS
from civictracker.web.auth.roles import role_required
from civictracker.web.console.blueprint import bp
from civictracker.web.console.forms import ActionForm, ReplyTemplateForm
from civictracker.web.console.helpers import form_errors, run_action

ADMIN = Role.ADMIN.value
SCOPES = {s.value for s in ReplyScope}


def _pack_texts(scope: str) -> dict[str, dict[str, tuple[str, str]]]:
    """The pack's text (and a canned reply's title) per language and key, before any override."""
    runtime = runtime_of(current_app)
    if scope == ReplyScope.CANNED:
        return {
            lang: {k: (c.text, c.title) for k, c in by_key.items()}
            for lang, by_key in load_canned(runtime.city.path).items()
        }
    return {
        lang: {k: (v, "") for k, v in texts.items() if isinstance(v, str)}
        for lang, texts in runtime.replies.templates.items()
    }


def _languages() -> list[str]:
    langs = set(runtime_of(current_app).replies.templates) | set(_pack_texts(ReplyScope.CANNED))
    return sorted(langs, key=lambda lang: (lang != "en", lang))


def _keys(scope: str, lang: str) -> list[str]:
    """The keys a language may word: its own and English's (what it falls back to), English's order first."""
    texts = _pack_texts(scope)
    return list(dict.fromkeys([*(texts.get("en") or {}), *(texts.get(lang) or {})]))


def _pack_entry(scope: str, lang: str, key: str) -> tuple[str, str, bool]:
    """The pack's text and title for (lang, key), and whether it is the language's own (else English's)."""
    texts = _pack_texts(scope)
    mine = (texts.get(lang) or {}).get(key)
    if mine is not None:
        return mine[0], mine[1], True
    english = (texts.get("en") or {}).get(key)
    if english is None:
        abort(404, description=f"The city pack has no {scope} template {key!r}.")
    return english[0], english[1], False


def _pack_variants(scope: str, key: str) -> list[str]:
    """The pack's text of `key` in every language: a canned reply may use the placeholders they use."""
    return [by_key[key][0] for by_key in _pack_texts(scope).values() if key in by_key]


def _check_path(scope: str, lang: str) -> None:
    if scope not in SCOPES:
        abort(404, description="No such kind of template; use reply or canned.")
    if lang not in _languages():
        abort(404, description=f"The city pack has no language {lang!r}; it has {', '.join(_languages())}.")


def _overrides() -> dict[tuple[str, str, str], ReplyOverride]:
    return {(r.scope, r.lang, r.key): r for r in rt.load_overrides(current_session())}


@bp.route("/admin/replies")
@role_required(ADMIN)
def admin_replies() -> tuple[str, int]:
    lang = request.args.get("lang", "en")
    if lang not in _languages():
        abort(400, description=f"lang must be one of {', '.join(_languages())}.")
    overrides = _overrides()
    sections = []
    for scope, title in (
        (ReplyScope.REPLY, "Replies sent by the system"),
        (ReplyScope.CANNED, "Canned replies"),
    ):
        rows = []
        for key in _keys(scope, lang):
            text, label, own = _pack_entry(scope, lang, key)
            row = overrides.get((scope, lang, key))
            rows.append(
                {
                    "key": key,
                    "title": (row.title if row and row.title else label)
                    if scope == ReplyScope.CANNED
                    else "",
                    "text": row.text if row else text,
                    "edited": row is not None,
                    "own": own,
                    "word": key in WORD_KEYS,
                }
            )
        sections.append({"scope": scope.value, "title": title, "rows": rows})
    return render_template(
        "console/admin_replies.html", sections=sections, lang=lang, languages=_languages()
    ), 200


def _sample_service() -> Service | None:
    s = current_session()
    return s.scalar(select(Service).where(Service.code == "pothole")) or s.scalar(
        select(Service).where(Service.active.is_(True)).order_by(Service.id).limit(1)
    )


def _preview(scope: str, lang: str, key: str, text: str) -> rt.Preview:
    runtime = runtime_of(current_app)
    if scope == ReplyScope.CANNED:
        values = {"city": runtime.city.short_name, "report_url": f"{runtime.replies.public_url.rstrip('/')}/"}
        values["ticket_ref"] = "CT-1234"
        return rt.preview_canned(text, key, values, _pack_variants(scope, key))
    ctx = runtime.replies_now(current_session())
    return rt.preview_reply(ctx, lang, key, text, _sample_service(), runtime.city.short_name)


def _edit_page(scope: str, lang: str, key: str, form: ReplyTemplateForm, code: int = 200) -> tuple[str, int]:
    pack_text, pack_title, own = _pack_entry(scope, lang, key)
    row = _overrides().get((scope, lang, key))
    if not form.is_submitted():
        form.text.data = row.text if row else pack_text
        form.title.data = (
            (row.title if row and row.title else pack_title) if scope == ReplyScope.CANNED else ""
        )
    preview = _preview(scope, lang, key, form.text.data or "")
    return render_template(
        "console/admin_reply_edit.html",
        scope=scope,
        lang=lang,
        key=key,
        form=form,
        reset_form=ActionForm(prefix="reset"),
        pack_text=pack_text,
        pack_title=pack_title,
        own=own,
        row=row,
        preview=preview,
        allowed=sorted(rt.allowed_placeholders(scope, key, _pack_variants(scope, key))),
        language_name=_language_name(lang),
    ), code


def _language_name(lang: str) -> str:
    names = (runtime_of(current_app).replies.templates.get("en") or {}).get("language_names")
    return str(names.get(lang, lang)) if isinstance(names, dict) else lang


@bp.route("/admin/replies/<scope>/<lang>/<key>", methods=["GET", "POST"])
@role_required(ADMIN)
def admin_reply_edit(scope: str, lang: str, key: str) -> Response | tuple[str, int]:
    _check_path(scope, lang)
    _pack_entry(scope, lang, key)  # 404 for a key the pack does not have
    form = ReplyTemplateForm()
    if not form.is_submitted():
        return _edit_page(scope, lang, key, form)
    if not form.validate():
        flash(form_errors(form) or "Invalid form.", "error")
        return _edit_page(scope, lang, key, form, 400)
    ok = run_action(
        lambda: rt.save_override(
            current_session(),
            scope,
            lang,
            key,
            form.text.data or "",
            title=form.title.data or "" if scope == ReplyScope.CANNED else "",
            pack_texts=_pack_variants(scope, key),
            acting=current_user._get_current_object(),
        ),
        f"Saved the {lang} wording of {key}; replies use it from now on.",
    )
    if not ok:
        return _edit_page(scope, lang, key, form, 400)
    return redirect(url_for("console.admin_reply_edit", scope=scope, lang=lang, key=key))


@bp.route("/admin/replies/<scope>/<lang>/<key>/reset", methods=["POST"])
@role_required(ADMIN)
def admin_reply_reset(scope: str, lang: str, key: str) -> Response | tuple[str, int]:
    _check_path(scope, lang)
    _pack_entry(scope, lang, key)
    if not ActionForm(prefix="reset").validate_on_submit():
        flash("The form expired; reload the page and try again.", "error")
        return _edit_page(scope, lang, key, ReplyTemplateForm(formdata=None), 400)
    done: dict[str, bool] = {}

    def reset() -> None:
        me = current_user._get_current_object()
        done["any"] = rt.reset_override(current_session(), scope, lang, key, acting=me)

    if not run_action(reset, f"{key} ({lang}) is the pack's text again."):
        return _edit_page(scope, lang, key, ReplyTemplateForm(formdata=None), 400)
    if not done.get("any"):
        flash(f"{key} ({lang}) already used the pack's text.", "ok")
    return redirect(url_for("console.admin_reply_edit", scope=scope, lang=lang, key=key))


@bp.route("/admin/replies/<scope>/<lang>/<key>/preview", methods=["POST"])
@role_required(ADMIN)
def admin_reply_preview(scope: str, lang: str, key: str) -> tuple[Response, int]:
    """The live preview: the typed text rendered with a sample ticket (JSON, shown as text by the page).
    Nothing is stored; a text that could not be saved says why (`error`)."""
    _check_path(scope, lang)
    _pack_entry(scope, lang, key)
    form = ReplyTemplateForm()
    if not form.validate_on_submit():
        return jsonify(error=form_errors(form) or "Invalid form.", text="", warnings=[]), 400
    preview = _preview(scope, lang, key, form.text.data or "")
    db.session.rollback()  # a preview reads only
    return jsonify(_preview_json(preview)), 200


def _preview_json(p: rt.Preview) -> dict[str, Any]:
    return {
        "text": p.text,
        "lengths": p.lengths,
        "limits": p.limits,
        "warnings": p.warnings,
        "error": p.error,
    }
