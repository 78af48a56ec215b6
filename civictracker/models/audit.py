"""The admin audit log (every change to staff, crews, services and API keys) and one-time password links."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from civictracker.extensions import db
from civictracker.models.types import UTCDateTime, utcnow


class AdminAction(enum.StrEnum):
    USER_CREATED = "user_created"
    USER_UPDATED = "user_updated"
    CREW_CREATED = "crew_created"
    CREW_UPDATED = "crew_updated"
    SERVICE_UPDATED = "service_updated"
    API_KEY_CREATED = "api_key_created"
    API_KEY_REVOKED = "api_key_revoked"
    PASSWORD_RESET_ISSUED = "password_reset_issued"  # noqa: S105 (an action's name, not a password)
    PASSWORD_RESET_USED = "password_reset_used"  # noqa: S105
    REPLY_TEMPLATE_SAVED = "reply_template_saved"
    REPLY_TEMPLATE_RESET = "reply_template_reset"


class AdminEvent(db.Model):  # type: ignore[name-defined,misc]
    """One admin change: who, what, on which record, the values after it. Append-only."""

    __tablename__ = "admin_events"
    __table_args__ = (Index("ix_admin_events_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    action: Mapped[str] = mapped_column(String(32))
    target_kind: Mapped[str] = mapped_column(String(16))  # user | crew | service | api_key | reply_template
    target_id: Mapped[int | None] = mapped_column(default=None)
    target_label: Mapped[str] = mapped_column(String(254), default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    actor_label: Mapped[str] = mapped_column(String(254))  # the admin's e-mail, or "cli"
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # the values the change set
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PasswordReset(db.Model):  # type: ignore[name-defined,misc]
    """A one-time link to set a password: only the token's SHA-256 is stored; used once, then dead."""

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
