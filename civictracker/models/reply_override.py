"""An admin's wording of one reply template or canned reply in one language, over the city pack's text."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from civictracker.extensions import db
from civictracker.models.types import UTCDateTime, utcnow


class ReplyScope(enum.StrEnum):
    REPLY = "reply"  # replies.json: what the system sends on intake and status changes, and its words
    CANNED = "canned"  # canned_replies.json: what a dispatcher picks in the inbox


class ReplyOverride(db.Model):  # type: ignore[name-defined,misc]
    """One (scope, language, key) the pack says otherwise; deleting the row restores the pack's text."""

    __tablename__ = "reply_overrides"
    __table_args__ = (UniqueConstraint("scope", "lang", "key", name="uq_reply_overrides_scope_lang_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(8))
    lang: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(String(120), default="")  # a canned reply's button title
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)

    @property
    def label(self) -> str:
        """How the audit log names it: "reply es/ack", "canned pt/thanks"."""
        return f"{self.scope} {self.lang}/{self.key}"
