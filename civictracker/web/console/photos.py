"""Photo review: a dispatcher approves or rejects one attachment for public view (faces, number plates)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from civictracker.extensions import current_session, db
from civictracker.models import InboundPost, MediaReview, PostMedia, Role, User
from civictracker.services import photos
from civictracker.services.errors import DomainError
from civictracker.services.tickets import Actor
from civictracker.web.auth.roles import role_required
from civictracker.web.console.blueprint import bp
from civictracker.web.console.helpers import form_errors
from civictracker.web.console.inbox_forms import MediaReviewForm

STAFF = (Role.ADMIN.value, Role.DISPATCHER.value)
DONE = {
    MediaReview.APPROVED: "Photo approved: it now shows on the public page.",
    MediaReview.REJECTED: "Photo rejected: it stays off the public page.",
}


def photo_context(post_ids: Iterable[int], back: str) -> dict[str, Any]:
    """What the console's photo list (templates/console/_photos.html) needs for these posts."""
    s = current_session()
    media = photos.media_of_posts(s, post_ids)
    history = photos.review_history(s, [m.id for items in media.values() for m in items])
    actor_ids = {e.actor_id for events in history.values() for e in events if e.actor_id is not None}
    users: Iterable[User] = s.scalars(select(User).where(User.id.in_(sorted(actor_ids)))) if actor_ids else []
    names = {u.id: u.name or u.email for u in users}
    return {
        "media_by_post": media,
        "media_history": history,
        "media_names": names,
        "media_form": MediaReviewForm(prefix="media"),
        "media_back": back,
        "publishable": photos.publishable,
    }


@bp.route("/media/<int:media_id>/review", methods=["POST"])
@role_required(*STAFF)
def media_review(media_id: int) -> Response:
    """Record the decision (an event row with who and why), then go back to the page it was made on."""
    media = db.session.get(PostMedia, media_id)
    if media is None:
        abort(404, description=f"No photo {media_id}.")
    post = db.session.get(InboundPost, media.post_id)
    form = MediaReviewForm(prefix="media")
    if not form.validate_on_submit():
        flash(form_errors(form) or "Invalid form.", "error")
    else:
        to = MediaReview(form.decision.data)
        try:
            photos.review_media(
                current_session(),
                media,
                to,
                actor=Actor(user=current_user._get_current_object()),
                note=form.note.data or "",
            )
        except DomainError as exc:
            db.session.rollback()
            flash(str(exc), "error")
        else:
            db.session.commit()
            flash(DONE[to])
    anchor = f"media-{media_id}"
    if form.back.data == "ticket" and post is not None and post.ticket_id is not None:
        return redirect(url_for("console.ticket_view", ticket_id=post.ticket_id, _anchor=anchor))
    return redirect(url_for("console.inbox_post", post_id=media.post_id, _anchor=anchor))
