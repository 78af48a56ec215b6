"""Photos on posts: keeping what a channel attached (checked, bounded), dispatchers' reviews, public photos.

Only URLs are kept; nothing here fetches a file. A photo reaches the public only after a dispatcher
approved it, never from a DM or a followers-only post, never from a post its author deleted or staff hid.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from civictracker.models import InboundPost, InboxState
from civictracker.models.media import (
    MAX_ALT_TEXT,
    MAX_MEDIA_URL,
    MEDIA_REVIEW_TRANSITIONS,
    MediaKind,
    MediaReview,
    PostMedia,
    PostMediaEvent,
)
from civictracker.models.types import utcnow
from civictracker.services.errors import DomainError, ValidationFailed
from civictracker.services.post_facts import is_private_post
from civictracker.services.tickets import Actor

log = logging.getLogger(__name__)

MAX_MEDIA_PER_POST = 10  # X and Mastodon allow 4; a feed line with more is cut here, and says so
MAX_REVIEW_NOTE = 2000
# The platforms' words for each kind (X: photo, animated_gif, video; Mastodon: image, gifv, video, audio).
KINDS: dict[str, MediaKind] = {
    "photo": MediaKind.PHOTO,
    "image": MediaKind.PHOTO,
    "animated_gif": MediaKind.GIF,
    "gifv": MediaKind.GIF,
    "gif": MediaKind.GIF,
    "video": MediaKind.VIDEO,
    "audio": MediaKind.AUDIO,
}
SHOWN_KINDS = frozenset({MediaKind.PHOTO, MediaKind.GIF, MediaKind.VIDEO})  # have an image to show
_CONTROL = re.compile(r"[\x00-\x20\x7f]")  # no whitespace or control characters inside a URL
_NO_ALT = "Photo sent with a report (the resident gave no description)"


class MediaLike(Protocol):
    """An attachment as a channel described it (channels.media.MediaRef); any field may be malformed."""

    @property
    def key(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def url(self) -> Any: ...
    @property
    def preview_url(self) -> Any: ...
    @property
    def alt_text(self) -> Any: ...
    @property
    def width(self) -> Any: ...
    @property
    def height(self) -> Any: ...


class ReviewConflict(DomainError):
    """Someone else reviewed the photo between the page being shown and this decision."""


@dataclass(frozen=True)
class PublicPhoto:
    """A photo as the public may see it: the image, its alt text; no post, author or key."""

    ticket_id: int
    url: str
    alt: str
    width: int | None
    height: int | None


# -- keeping what arrived --------------------------------------------------------------------------


def check_url(value: Any) -> tuple[str | None, str | None]:
    """(url, None) for a usable http(s) URL, else (None, why). Never raises."""
    if value is None or value == "":
        return None, None
    if not isinstance(value, str):
        return None, f"URL is not text ({type(value).__name__})"
    if len(value) > MAX_MEDIA_URL:
        return None, f"URL longer than {MAX_MEDIA_URL} characters ({len(value)})"
    if _CONTROL.search(value):
        return None, "URL contains spaces or control characters"
    try:
        parts = urlsplit(value)
    except ValueError as exc:
        return None, f"URL unreadable: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        return None, f"URL scheme {parts.scheme or '(none)'!r} refused: only http and https"
    if not parts.hostname:
        return None, "URL has no host"
    return value, None


def _size(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value) if 0 < value < 100_000 else None


def _alt(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.replace("\x00", "").strip()
    return text[:MAX_ALT_TEXT] or None


def media_row(post: InboundPost, item: MediaLike, position: int) -> PostMedia:
    """One attachment as a row: a bad URL or an unknown type is kept as a problem, never raised."""
    problems: list[str] = []
    platform_type = str(item.type or "")[:32]
    kind = KINDS.get(platform_type.lower(), MediaKind.UNKNOWN)
    if kind == MediaKind.UNKNOWN:
        problems.append(f"unknown media type {platform_type!r}: kept for staff, never published")
    url, why = check_url(item.url)
    if why:
        problems.append(f"url: {why}")
    preview, why = check_url(item.preview_url)
    if why:
        problems.append(f"preview url: {why}")
    if url is None and preview is None and not problems:
        problems.append("the platform gave no URL for this attachment")
    key = str(item.key or position + 1).replace("\x00", "")[:200]
    return PostMedia(
        post_id=post.id,
        position=position,
        media_key=key,
        kind=kind.value,
        platform_type=platform_type,
        url=url,
        preview_url=preview,
        alt_text=_alt(item.alt_text),
        width=_size(item.width),
        height=_size(item.height),
        private=is_private_post(post),
        problem="; ".join(problems) or None,
        review=MediaReview.PENDING.value,
        review_note="",
    )


def store_media(session: Session, post: InboundPost, items: Sequence[MediaLike]) -> list[PostMedia]:
    """Rows for a stored post's attachments (the post has its id); duplicates of a key are kept once."""
    rows: list[PostMedia] = []
    seen: set[str] = set()
    for position, item in enumerate(items[:MAX_MEDIA_PER_POST]):
        row = media_row(post, item, position)
        if row.media_key in seen:
            continue
        seen.add(row.media_key)
        rows.append(row)
    if len(items) > MAX_MEDIA_PER_POST:
        dropped = len(items) - MAX_MEDIA_PER_POST
        log.warning("post %s: %s attachments over the %s kept", post.id, dropped, MAX_MEDIA_PER_POST)
        rows[-1].problem = "; ".join(filter(None, [rows[-1].problem, f"{dropped} more attachments not kept"]))
    session.add_all(rows)
    return rows


# -- dispatchers' review ---------------------------------------------------------------------------


def publishable(media: PostMedia) -> str | None:
    """Why this attachment can never be shown publicly, or None when a dispatcher may approve it."""
    if media.private:
        return "It came in a private message (or a followers-only post): it is never shown publicly."
    if media.kind not in SHOWN_KINDS:
        return f"A {media.platform_type or 'media'} attachment has no image to show publicly."
    if media.display_url is None:
        return "It has no usable image URL."
    return None


def review_media(
    session: Session, media: PostMedia, to: MediaReview, *, actor: Actor, note: str = ""
) -> PostMediaEvent:
    """Approve or reject one attachment for public view; an event row says who, when and why.

    The change is a conditional UPDATE on the state the dispatcher saw, so two people deciding at once
    cannot both win: the second is told (ReviewConflict) and nothing is written for them.
    """
    note = (note or "").strip()
    if len(note) > MAX_REVIEW_NOTE:
        raise ValidationFailed(f"The reason may be at most {MAX_REVIEW_NOTE} characters.")
    current = MediaReview(media.review)
    if to not in MEDIA_REVIEW_TRANSITIONS[current]:
        raise ValidationFailed(f"This photo is already {current.value}.")
    post = session.get(InboundPost, media.post_id)
    if to == MediaReview.APPROVED:
        why = publishable(media) or (
            "It belongs to a private post: never shown publicly." if post and is_private_post(post) else None
        )
        if why:
            raise ValidationFailed(why)
    now = utcnow()
    done = session.execute(
        update(PostMedia)
        .where(PostMedia.id == media.id, PostMedia.review == current.value)
        .values(review=to.value, reviewed_by_id=actor.user_id, reviewed_at=now, review_note=note)
        .execution_options(synchronize_session=False)
    )
    if getattr(done, "rowcount", 1) != 1:
        raise ReviewConflict("Someone else reviewed this photo a moment ago; the page shows their decision.")
    session.refresh(media)
    event = PostMediaEvent(
        media_id=media.id,
        from_review=current.value,
        to_review=to.value,
        actor_id=actor.user_id,
        actor_label=actor.name,
        note=note,
        created_at=now,
    )
    session.add(event)
    session.flush()
    return event


def media_of_posts(session: Session, post_ids: Iterable[int]) -> dict[int, list[PostMedia]]:
    """Every attachment of these posts (the console), by post id, in their order."""
    ids = sorted(set(post_ids))
    found: dict[int, list[PostMedia]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        for row in session.scalars(
            select(PostMedia)
            .where(PostMedia.post_id.in_(chunk))
            .order_by(PostMedia.post_id, PostMedia.position)
        ):
            found[row.post_id].append(row)
    return found


def count_by_post(session: Session, post_ids: Iterable[int]) -> dict[int, int]:
    """How many attachments each of these posts has (the inbox list); posts without any are left out."""
    ids = sorted(set(post_ids))
    counts: dict[int, int] = {}
    for chunk in _chunks(ids):
        stmt = (
            select(PostMedia.post_id, func.count())
            .where(PostMedia.post_id.in_(chunk))
            .group_by(PostMedia.post_id)
        )
        counts.update({post_id: int(n) for post_id, n in session.execute(stmt)})
    return counts


def review_history(session: Session, media_ids: Iterable[int]) -> dict[int, list[PostMediaEvent]]:
    ids = sorted(set(media_ids))
    found: dict[int, list[PostMediaEvent]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        for event in session.scalars(
            select(PostMediaEvent).where(PostMediaEvent.media_id.in_(chunk)).order_by(PostMediaEvent.id)
        ):
            found[event.media_id].append(event)
    return found


# -- what the public sees --------------------------------------------------------------------------


def _public_clause() -> ColumnElement[bool]:
    """Approved, not private on either side, from a post that still exists and was not hidden by staff."""
    return and_(
        PostMedia.review == MediaReview.APPROVED.value,
        PostMedia.private.is_(False),
        PostMedia.kind.in_(sorted(SHOWN_KINDS)),
        InboundPost.is_dm.is_(False),
        InboundPost.redacted_at.is_(None),
        or_(InboundPost.inbox_state.is_(None), InboundPost.inbox_state != InboxState.HIDDEN.value),
    )


def public_photos(session: Session, ticket_ids: Iterable[int]) -> dict[int, list[PublicPhoto]]:
    """Approved photos of these tickets' posts, oldest post first; one query per 500 tickets.

    The caller decides whether the ticket itself is public (get_public_ticket, the Open311 query).
    """
    ids = sorted(set(ticket_ids))
    found: dict[int, list[PublicPhoto]] = {i: [] for i in ids}
    cols = (
        InboundPost.ticket_id,
        PostMedia.kind,
        PostMedia.url,
        PostMedia.preview_url,
        PostMedia.alt_text,
        PostMedia.width,
        PostMedia.height,
    )
    for chunk in _chunks(ids):
        stmt = (
            select(*cols)
            .join(InboundPost, InboundPost.id == PostMedia.post_id)
            .where(InboundPost.ticket_id.in_(chunk), _public_clause())
            .order_by(InboundPost.ticket_id, InboundPost.received_at, InboundPost.id, PostMedia.position)
        )
        for ticket_id, kind, url, preview, alt, width, height in session.execute(stmt):
            shown = url if kind == MediaKind.PHOTO else preview
            if (
                ticket_id is not None and shown and check_url(shown)[0]
            ):  # checked again: a row written by other means is not trusted
                found[ticket_id].append(PublicPhoto(ticket_id, shown, alt or _NO_ALT, width, height))
    return found


def _chunks(values: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]
