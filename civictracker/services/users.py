"""Staff accounts and Open311 API keys: creation, password checks, key checks."""

from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from civictracker.models import AdminAction, ApiKey, Role, User
from civictracker.models.types import utcnow
from civictracker.services.audit import record_admin_change
from civictracker.services.errors import ValidationFailed

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


def create_user(
    session: Session,
    email: str,
    password: str,
    *,
    role: str = "dispatcher",
    name: str = "",
    crew_id: int | None = None,
    acting: User | None = None,
) -> User:
    email = email.strip().lower()
    if not _EMAIL.match(email):
        raise ValidationFailed(f"{email!r} is not an e-mail address.")
    if role not in {r.value for r in Role}:
        raise ValidationFailed(f"Role must be one of admin, dispatcher, crew; got {role!r}.")
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"The password must have at least {MIN_PASSWORD} characters.")
    if session.scalar(select(func.count()).select_from(User).where(User.email == email)):
        raise ValidationFailed(f"A user with e-mail {email} already exists.")
    user = User(
        email=email,
        name=name or email.split("@")[0],
        password_hash=generate_password_hash(password),
        role=role,
        crew_id=crew_id,
    )
    session.add(user)
    session.flush()
    record_admin_change(
        session, acting, AdminAction.USER_CREATED, user, {"role": role, "name": user.name, "crew_id": crew_id}
    )
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ValidationFailed(f"The password must have at least {MIN_PASSWORD} characters.")
    user.password_hash = generate_password_hash(password)


def authenticate(session: Session, email: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.email == email.strip().lower()))
    if user is None or not user.active or not check_password_hash(user.password_hash, password):
        return None
    user.last_login_at = utcnow()
    return user


def hash_secret(secret: str) -> str:
    """What is stored of a secret shown once (an API key, a password link's token): its SHA-256."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def hash_api_key(key: str) -> str:
    return hash_secret(key)


def create_api_key(session: Session, name: str, *, created_by: User | None = None) -> tuple[ApiKey, str]:
    """Returns the row and the key itself, which is shown once and never stored."""
    if not name.strip():
        raise ValidationFailed("An API key needs a name (who uses it).")
    key = "ct_" + secrets.token_urlsafe(24)
    row = ApiKey(
        name=name.strip(),
        prefix=key[:8],
        key_hash=hash_api_key(key),
        created_by_id=created_by.id if created_by else None,
    )
    session.add(row)
    session.flush()
    record_admin_change(session, created_by, AdminAction.API_KEY_CREATED, row, {"prefix": row.prefix})
    return row, key


def check_api_key(session: Session, key: str | None) -> ApiKey | None:
    if not key:
        return None
    row = session.scalar(select(ApiKey).where(ApiKey.key_hash == hash_api_key(key), ApiKey.active.is_(True)))
    if row is not None:
        row.last_used_at = utcnow()
    return row
