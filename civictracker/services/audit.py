"""The admin audit log: record every change to staff, crews, services, API keys and reply templates."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.models import AdminAction, AdminEvent, ApiKey, Crew, ReplyOverride, Service, User

CLI_ACTOR = "cli"
# What a target is called in the log: its kind and the name an admin recognises it by.
_KINDS: dict[type, tuple[str, str]] = {
    User: ("user", "email"),
    Crew: ("crew", "name"),
    Service: ("service", "code"),
    ApiKey: ("api_key", "name"),
    ReplyOverride: ("reply_template", "label"),
}


def record_admin_change(
    session: Session, acting: User | None, action: AdminAction, target: Any, data: dict[str, Any]
) -> AdminEvent:
    """Append one audit row (flushed, not committed): `data` holds the values the change set, never a
    password or a key."""
    kind, label_attr = _KINDS[type(target)]
    event = AdminEvent(
        action=action.value,
        target_kind=kind,
        target_id=target.id,
        target_label=str(getattr(target, label_attr) or "")[:254],
        actor_id=acting.id if acting is not None else None,
        actor_label=acting.email if acting is not None else CLI_ACTOR,
        data=data,
    )
    session.add(event)
    session.flush()
    return event


def list_admin_events(session: Session, *, kind: str | None = None, limit: int = 200) -> list[AdminEvent]:
    """The newest audit rows first, optionally of one target kind."""
    stmt = select(AdminEvent).order_by(AdminEvent.created_at.desc(), AdminEvent.id.desc()).limit(limit)
    if kind:
        stmt = stmt.where(AdminEvent.target_kind == kind)
    return list(session.scalars(stmt))


def target_kinds() -> list[str]:
    return [kind for kind, _ in _KINDS.values()]
