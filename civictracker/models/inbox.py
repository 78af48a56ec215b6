"""The city's inbox: the state of a post a person (or the system) must answer or decide, and its history."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civictracker.extensions import db
from civictracker.models.types import UTCDateTime, utcnow


class InboxState(enum.StrEnum):
    """Where a post stands in the inbox (InboundPost.inbox_state; NULL: answered through its ticket)."""

    NEW = "new"  # needs a person, nobody has taken it
    ASSIGNED = "assigned"  # a colleague has it
    ANSWERED = "answered"  # a reply was queued in the post's thread (or DM)
    HANDLED = "handled"  # decided without a reply: by staff, or by the system (spam, news ...), or ticketed
    HIDDEN = "hidden"  # kept, out of the default views, with who and why


OPEN_INBOX_STATES = frozenset({InboxState.NEW, InboxState.ASSIGNED})  # still waiting for a person
_I = InboxState
# Answered is final (a reply went out once). A decision without a reply, or a hidden post, may be taken
# back to a person (new) or answered after all; nothing is ever deleted.
INBOX_TRANSITIONS: dict[InboxState, frozenset[InboxState]] = {
    _I.NEW: frozenset({_I.ASSIGNED, _I.ANSWERED, _I.HANDLED, _I.HIDDEN}),
    _I.ASSIGNED: frozenset({_I.NEW, _I.ASSIGNED, _I.ANSWERED, _I.HANDLED, _I.HIDDEN}),
    _I.HANDLED: frozenset({_I.NEW, _I.ASSIGNED, _I.ANSWERED, _I.HIDDEN}),
    _I.HIDDEN: frozenset({_I.NEW, _I.ASSIGNED, _I.ANSWERED, _I.HANDLED}),
    _I.ANSWERED: frozenset(),
}


class InboxHow(enum.StrEnum):
    """How an inbox post was closed (InboundPost.inbox_handled_how)."""

    REPLY = "reply"
    TICKET = "ticket"  # turned into a new ticket
    ATTACHED = "attached"  # added as a report to an existing ticket
    NO_REPLY = "no_reply"  # staff decided no reply is needed
    SYSTEM = "system"  # the system decided no reply is needed (services/inbox_rules.py)
    HIDDEN = "hidden"


class InboxEvent(db.Model):  # type: ignore[name-defined,misc]
    """Append-only history of an inbox post: who did what, when, from which state to which, and why."""

    __tablename__ = "inbox_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("inbound_posts.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))  # queued, assigned, answered, ticketed, hidden ...
    from_state: Mapped[str | None] = mapped_column(String(16), default=None)
    to_state: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    actor_label: Mapped[str] = mapped_column(String(64), default="system")
    note: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
