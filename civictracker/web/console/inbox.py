"""The inbox pages: every post waiting for a person (or decided by the system), and one post's actions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select, union
from werkzeug.wrappers import Response
from wtforms.fields.choices import SelectChoice

from civictracker.extensions import current_session, db
from civictracker.models import Follower, InboundPost, OutboundMessage, Role, Service, Ticket, User
from civictracker.models.inbox import OPEN_INBOX_STATES
from civictracker.models.types import utcnow
from civictracker.runtime import city_of, runtime_of
from civictracker.services import inbox, inbox_reply, inbox_ticket, photos
from civictracker.services.errors import DomainError, NotFound
from civictracker.services.geocoding import locate_text
from civictracker.services.post_facts import is_private_post, thread_ids
from civictracker.services.tickets import Actor
from civictracker.web.auth.roles import role_required
from civictracker.web.console.blueprint import bp
from civictracker.web.console.helpers import canned_replies, form_errors, int_arg, replies
from civictracker.web.console.inbox_forms import (
    InboxAssignForm,
    InboxAttachForm,
    InboxNoteForm,
    InboxReplyForm,
    InboxTakeBackForm,
    InboxTicketForm,
)
from civictracker.web.console.photos import photo_context

STAFF = (Role.ADMIN.value, Role.DISPATCHER.value)
VIEW_LABELS = {"person": "Needs a person", "mine": "Assigned to me", "all": "All", "hidden": "Hidden"}


def _target_minutes() -> int:
    return inbox.first_response_minutes(city_of(current_app).meta)


@bp.route("/inbox")
@role_required(*STAFF)
def inbox_view() -> str:
    view = request.args.get("view", "person")
    if view not in inbox.FILTERS:
        abort(400, description=f"Unknown inbox filter; use one of {', '.join(inbox.FILTERS)}.")
    page_no = int_arg("page", default=1, minimum=1, maximum=100_000) or 1
    page = inbox.list_inbox(current_session(), view, user_id=current_user.id, page=page_no)
    now = utcnow()
    target = _target_minutes()
    ages = {p.id: inbox.response_age(p, now) for p in page.posts}
    return render_template(
        "console/inbox.html",
        page=page,
        view=view,
        views=VIEW_LABELS,
        ages=ages,
        target_minutes=target,
        waiting_states={s.value for s in OPEN_INBOX_STATES},
        photo_counts=photos.count_by_post(current_session(), [p.id for p in page.posts]),
    )


def _get_post(post_id: int) -> InboundPost:
    post = db.session.get(InboundPost, post_id)
    if post is None:
        abort(404, description=f"No post {post_id}.")
    return post


def _thread(post: InboundPost) -> list[InboundPost]:
    """The posts around this one: its conversation, what it answers, and what answers it.

    One indexed lookup per kind of link, joined by UNION: an OR of the three under the channel filter made
    SQLite walk every post of the channel (a million on a big city) through the (channel, external_id)
    index."""
    ids = [*thread_ids(post), post.external_id]
    same = InboundPost.channel == post.channel
    linked = [
        select(InboundPost.id).where(same, InboundPost.external_id.in_(ids)),
        select(InboundPost.id).where(same, InboundPost.in_reply_to_id == post.external_id),
    ]
    if post.conversation_id:
        linked.append(select(InboundPost.id).where(same, InboundPost.conversation_id == post.conversation_id))
    query = (
        select(InboundPost)
        .where(InboundPost.id.in_(union(*linked).scalar_subquery()))
        .order_by(InboundPost.received_at, InboundPost.id)
        .limit(50)
    )
    return list(current_session().scalars(query))


def _author(post: InboundPost) -> tuple[list[InboundPost], list[Ticket]]:
    """The author's other posts and the tickets they follow (newest first)."""
    if post.reporter_id is None:
        return [], []
    s = current_session()
    posts = s.scalars(
        select(InboundPost)
        .where(InboundPost.reporter_id == post.reporter_id, InboundPost.id != post.id)
        .order_by(InboundPost.id.desc())
        .limit(20)
    )
    tickets = s.scalars(
        select(Ticket)
        .join(Follower, Follower.ticket_id == Ticket.id)
        .where(Follower.reporter_id == post.reporter_id)
        .order_by(Ticket.id.desc())
        .limit(20)
    )
    return list(posts), list(tickets)


def _ticket_form() -> InboxTicketForm:
    form = InboxTicketForm(prefix="ticket")
    services = current_session().scalars(
        select(Service).where(Service.active.is_(True)).order_by(Service.name)
    )
    form.service.choices = [SelectChoice(s.code, s.name) for s in services]  # type: ignore[assignment]
    return form


def _prefill(post: InboundPost, form: InboxReplyForm) -> list[str]:
    """A canned reply chosen from the page (?canned=key&lang=xx) into the editor; the placeholders left."""
    key = request.args.get("canned", "")
    if not key or form.text.data:
        return []
    lang = request.args.get("lang") or post.lang or "en"
    canned = canned_replies()
    choice = (canned.get(lang) or {}).get(key) or (canned.get("en") or {}).get(key)
    if choice is None:
        flash(f"No canned reply {key!r}.", "error")
        return []
    values = inbox_reply.post_values(
        post, runtime_of(current_app).replies.public_url, city_of(current_app).short_name
    )
    form.text.data, missing = inbox_reply.prefill_canned(choice, values)
    form.canned.data = key
    if missing:
        flash("Fill in " + ", ".join("{" + m + "}" for m in missing) + " before sending.", "error")
    return missing


def _render(post: InboundPost, code: int = 200, **forms: Any) -> tuple[str, int]:
    s = current_session()
    reply_form = forms.pop("reply_form", None) or InboxReplyForm(prefix="reply")
    missing = _prefill(post, reply_form) if code == 200 else []
    other_posts, tickets = _author(post)
    canned = canned_replies()
    lang = request.args.get("lang") or post.lang or "en"
    staff = s.scalars(
        select(User).where(User.active.is_(True), User.role.in_(STAFF)).order_by(User.name, User.email)
    )
    html = render_template(
        "console/inbox_post.html",
        post=post,
        thread=_thread(post),
        sent=list(s.scalars(select(OutboundMessage).where(OutboundMessage.post_id == post.id))),
        other_posts=other_posts,
        tickets=tickets,
        history=inbox.inbox_history(s, post.id),
        canned=inbox_reply.canned_for(canned, lang),
        canned_langs=[k for k in canned if k],
        lang=lang,
        missing=missing,
        staff=list(staff),
        age=inbox.response_age(post, utcnow()),
        target_minutes=_target_minutes(),
        waiting=post.inbox_state in {st.value for st in OPEN_INBOX_STATES},
        assignee=s.get(User, post.inbox_assigned_to_id) if post.inbox_assigned_to_id else None,
        handler=s.get(User, post.inbox_handled_by_id) if post.inbox_handled_by_id else None,
        reply_form=reply_form,
        ticket_form=forms.pop("ticket_form", None) or _ticket_form(),
        attach_form=forms.pop("attach_form", None) or InboxAttachForm(prefix="attach"),
        assign_form=forms.pop("assign_form", None) or InboxAssignForm(prefix="assign"),
        note_form=forms.pop("note_form", None) or InboxNoteForm(prefix="note"),
        **photo_context([post.id], "inbox"),
        back_form=forms.pop("back_form", None) or InboxTakeBackForm(prefix="back", seen=post.inbox_state),
        can_take_back=post.inbox_state in {st.value for st in inbox.TAKE_BACK_FROM},
    )
    return html, code


def _actor() -> Actor:
    return Actor(user=current_user._get_current_object())


def _act(action: Callable[[], Any], success: str) -> int:
    """Run the service call and commit once: 200; a refusal is flashed and rolled back: 409 when someone
    else moved the post first, else 400."""
    try:
        action()
    except inbox.InboxConflict as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return 409
    except DomainError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return 400
    db.session.commit()
    flash(success)
    return 200


def _done(post: InboundPost, code: int, **forms: Any) -> Response | tuple[str, int]:
    if code == 200:
        return redirect(url_for("console.inbox_post", post_id=post.id))
    db.session.expire_all()
    return _render(_get_post(post.id), code, **forms)


@bp.route("/inbox/<int:post_id>")
@role_required(*STAFF)
def inbox_post(post_id: int) -> tuple[str, int]:
    return _render(_get_post(post_id))


@bp.route("/inbox/<int:post_id>/reply", methods=["POST"])
@role_required(*STAFF)
def inbox_reply_view(post_id: int) -> Response | tuple[str, int]:
    post = _get_post(post_id)
    form = InboxReplyForm(prefix="reply")
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(post, 400, reply_form=form)
    text, key = form.text.data or "", form.canned.data or ""
    code = _act(
        lambda: inbox_reply.answer_post(
            current_session(), replies(), post, text, actor=_actor(), canned_key=key
        ),
        f"Reply queued for @{post.author_handle}.",
    )
    return _done(post, code, reply_form=form)


@bp.route("/inbox/<int:post_id>/ticket", methods=["POST"])
@role_required(*STAFF)
def inbox_ticket_view(post_id: int) -> Response | tuple[str, int]:
    post = _get_post(post_id)
    form = _ticket_form()
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(post, 400, ticket_form=form)
    runtime = runtime_of(current_app)
    place = locate_text(
        runtime.gazetteer(), form.place.data or "", remote=runtime.remote, private=is_private_post(post)
    )
    made: list[Ticket] = []

    def make() -> None:
        service = db.session.scalar(select(Service).where(Service.code == form.service.data))
        if service is None:
            raise NotFound("No such service.")
        made.append(
            inbox_ticket.ticket_post(
                current_session(), post, service, place, replies=replies(), actor=_actor()
            )
        )

    code = _act(make, "Ticket created from the post.")
    if code == 200:
        return redirect(url_for("console.ticket_view", ticket_id=made[0].id))
    return _done(post, code, ticket_form=form)


@bp.route("/inbox/<int:post_id>/attach", methods=["POST"])
@role_required(*STAFF)
def inbox_attach_view(post_id: int) -> Response | tuple[str, int]:
    post = _get_post(post_id)
    form = InboxAttachForm(prefix="attach")
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(post, 400, attach_form=form)
    ticket_id = form.ticket_id.data or 0

    def attach() -> None:
        ticket = db.session.get(Ticket, ticket_id)
        if ticket is None:
            raise NotFound(f"No ticket CT-{ticket_id}.")
        inbox_ticket.attach_post(current_session(), post, ticket, replies=replies(), actor=_actor())

    return _done(post, _act(attach, f"Post added to CT-{ticket_id}."), attach_form=form)


@bp.route("/inbox/<int:post_id>/assign", methods=["POST"])
@role_required(*STAFF)
def inbox_assign_view(post_id: int) -> Response | tuple[str, int]:
    post = _get_post(post_id)
    form = InboxAssignForm(prefix="assign")
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(post, 400, assign_form=form)
    user_id = form.user_id.data or 0

    def assign() -> None:
        user = db.session.get(User, user_id) if user_id else None
        if user_id and (user is None or user.role not in STAFF):
            raise NotFound("No such colleague.")
        inbox.assign_post(current_session(), post, user, actor=_actor(), note=form.note.data or "")

    return _done(post, _act(assign, "Assigned." if user_id else "Back to everyone."), assign_form=form)


@bp.route("/inbox/<int:post_id>/handled", methods=["POST"])
@role_required(*STAFF)
def inbox_handled_view(post_id: int) -> Response | tuple[str, int]:
    post = _get_post(post_id)
    form = InboxNoteForm(prefix="note")
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(post, 400, note_form=form)
    note = form.note.data or ""
    code = _act(
        lambda: inbox.mark_handled(current_session(), post, actor=_actor(), note=note), "Marked handled."
    )
    return _done(post, code, note_form=form)


@bp.route("/inbox/<int:post_id>/hide", methods=["POST"])
@role_required(*STAFF)
def inbox_hide_view(post_id: int) -> Response | tuple[str, int]:
    post = _get_post(post_id)
    form = InboxNoteForm(prefix="note")
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(post, 400, note_form=form)
    reason = form.note.data or ""
    code = _act(lambda: inbox.hide_post(current_session(), post, actor=_actor(), reason=reason), "Hidden.")
    return _done(post, code, note_form=form)


@bp.route("/inbox/<int:post_id>/take-back", methods=["POST"])
@role_required(*STAFF)
def inbox_take_back_view(post_id: int) -> Response | tuple[str, int]:
    post = _get_post(post_id)
    form = InboxTakeBackForm(prefix="back")
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
        return _render(post, 400, back_form=form)
    reason, seen = form.reason.data or "", form.seen.data or None
    code = _act(
        lambda: inbox.take_back(current_session(), post, actor=_actor(), reason=reason, seen=seen),
        "Taken back: the post waits for a person again.",
    )
    return _done(post, code, back_form=form)
