"""Photos and other media attached to inbound posts, and the dispatchers' decisions to show them publicly."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civictracker.extensions import db
from civictracker.models.types import UTCDateTime, utcnow

MAX_MEDIA_URL = 2048  # longer URLs are refused (no platform's CDN link comes near it)
MAX_ALT_TEXT = 1500  # Mastodon's limit; X allows 1,000


class MediaKind(enum.StrEnum):
    """What an attachment is, in our words (the platform's own word is kept in PostMedia.platform_type)."""

    PHOTO = "photo"
    GIF = "gif"  # X animated_gif, Mastodon gifv: shown by its still
    VIDEO = "video"  # shown by its still
    AUDIO = "audio"
    UNKNOWN = "unknown"  # a type we do not know, or none given: kept for staff, never published


class MediaReview(enum.StrEnum):
    """Whether the public may see an attachment. Only a dispatcher approves; pending is never shown."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


# A decision may be changed either way (a face noticed later); each change is a PostMediaEvent.
MEDIA_REVIEW_TRANSITIONS: dict[MediaReview, frozenset[MediaReview]] = {
    MediaReview.PENDING: frozenset({MediaReview.APPROVED, MediaReview.REJECTED}),
    MediaReview.APPROVED: frozenset({MediaReview.REJECTED}),
    MediaReview.REJECTED: frozenset({MediaReview.APPROVED}),
}


class PostMedia(db.Model):  # type: ignore[name-defined,misc]
    """One attachment of an inbound post: where it lives (never fetched by us), what it is, its review.

    The ticket is the post's (InboundPost.ticket_id), not a copy here: intake, the inbox and merges set
    the post's ticket, and a second column would drift from it.
    """

    __tablename__ = "post_media"
    __table_args__ = (UniqueConstraint("post_id", "media_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("inbound_posts.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)  # order within the post
    media_key: Mapped[str] = mapped_column(String(200))  # the platform's media key / attachment id
    kind: Mapped[str] = mapped_column(String(16), default=MediaKind.UNKNOWN.value)
    platform_type: Mapped[str] = mapped_column(String(32), default="")  # as the platform named it
    url: Mapped[str | None] = mapped_column(String(MAX_MEDIA_URL), default=None)  # http(s) only
    preview_url: Mapped[str | None] = mapped_column(String(MAX_MEDIA_URL), default=None)
    alt_text: Mapped[str | None] = mapped_column(Text, default=None)  # the author's; None: they wrote none
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    # From a DM or a followers-only post: staff see it, the public never does (no approval possible).
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    problem: Mapped[str | None] = mapped_column(Text, default=None)  # what could not be kept, and why
    review: Mapped[str] = mapped_column(String(16), default=MediaReview.PENDING.value)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    review_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def display_url(self) -> str | None:
        """The image to show: the photo itself, or the still of a video or GIF."""
        return self.url if self.kind == MediaKind.PHOTO else (self.preview_url or None)


class PostMediaEvent(db.Model):  # type: ignore[name-defined,misc]
    """Append-only history of a media review: who approved or rejected it, when, and why."""

    __tablename__ = "post_media_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("post_media.id"), index=True)
    from_review: Mapped[str] = mapped_column(String(16))
    to_review: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    actor_label: Mapped[str] = mapped_column(String(100), default="system")
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
