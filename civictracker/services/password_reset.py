"""One-time password links: issued by an admin or the CLI (no mail server needed), used once, expiring."""

from __future__ import annotations

import datetime as dt
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from civictracker.models import AdminAction, PasswordReset, User
from civictracker.models.types import utcnow
from civictracker.services.audit import record_admin_change
from civictracker.services.errors import NotFound, ValidationFailed
from civictracker.services.users import hash_secret, set_password

LINK_LIFETIME = dt.timedelta(hours=1)


def issue_password_reset(
    session: Session, user: User, *, acting: User | None, now: dt.datetime | None = None
) -> str:
    """A new one-time token for `user` (shown once, stored as its hash); older unused links die with it."""
    now = now or utcnow()
    session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None))
        .values(expires_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordReset(
            user_id=user.id, token_hash=hash_secret(token), created_at=now, expires_at=now + LINK_LIFETIME
        )
    )
    record_admin_change(
        session,
        acting,
        AdminAction.PASSWORD_RESET_ISSUED,
        user,
        {"expires_at": (now + LINK_LIFETIME).isoformat()},
    )
    return token


def check_password_reset(session: Session, token: str, *, now: dt.datetime | None = None) -> PasswordReset:
    """The live link a token names; NotFound or ValidationFailed saying why it cannot be used."""
    if not token or len(token) > 200:
        raise NotFound("This password link is not valid.")
    link = session.scalar(select(PasswordReset).where(PasswordReset.token_hash == hash_secret(token)))
    if link is None:
        raise NotFound("This password link is not valid.")
    if link.used_at is not None:
        raise ValidationFailed("This password link was already used. Ask an admin for a new one.")
    if link.expires_at <= (now or utcnow()):
        raise ValidationFailed("This password link has expired. Ask an admin for a new one.")
    return link


def use_password_reset(
    session: Session, token: str, password: str, *, now: dt.datetime | None = None
) -> User:
    """Set the password through a live link, once: a second use (even a concurrent one) is refused."""
    now = now or utcnow()
    link = check_password_reset(session, token, now=now)
    user = session.get(User, link.user_id)
    if user is None or not user.active:
        raise ValidationFailed("This account is disabled; ask an admin.")
    set_password(user, password)  # raises before the link is spent when the password is too short
    spent = session.execute(
        update(PasswordReset)
        .where(PasswordReset.id == link.id, PasswordReset.used_at.is_(None))
        .values(used_at=now)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise ValidationFailed("This password link was already used. Ask an admin for a new one.")
    record_admin_change(session, user, AdminAction.PASSWORD_RESET_USED, user, {})
    return user
