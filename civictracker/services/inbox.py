"""The city's inbox: list the posts waiting for a person, and move one on (assign, handle, hide), each
move a compare-and-set on its state and an event row saying who, when, how and why.

Answering is services/inbox_reply.py; turning a post into a ticket or attaching it, services/inbox_ticket.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from civictracker.models import InboundPost, InboxEvent, InboxHow, InboxState, User
from civictracker.models.inbox import INBOX_TRANSITIONS, OPEN_INBOX_STATES
from civictracker.models.transitions import can_move, values_of
from civictracker.models.types import utcnow
from civictracker.services.errors import DomainError, NotFound, ValidationFailed
from civictracker.services.tickets import Actor

DEFAULT_FIRST_RESPONSE_MINUTES = 60  # the city pack's inbox.first_response_minutes when it has none
FILTERS = ("person", "mine", "all", "hidden")
PER_PAGE = 50
NOTE_MAX = 2000


class InboxConflict(DomainError):
    """Someone else moved the post first (two staff answering at once): nothing was done."""


@dataclass(frozen=True)
class InboxPage:
    posts: list[InboundPost]
    page: int
    has_next: bool
    total: int | None  # counted for the waiting filters only (the "all" view may hold millions)


def first_response_minutes(meta: dict[str, Any]) -> int:
    """The city's first-response target from city.json (`inbox.first_response_minutes`), default 60."""
    value = (meta.get("inbox") or {}).get("first_response_minutes", DEFAULT_FIRST_RESPONSE_MINUTES)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(
            f"city.json inbox.first_response_minutes must be a positive whole number, not {value!r}"
        )
    return value


def response_age(post: InboundPost, now: dt.datetime) -> dt.timedelta:
    """How long the post waited for its first response: until it was handled, or until now."""
    end = post.inbox_handled_at or now
    return end - (post.posted_at or post.received_at)


def list_inbox(
    session: Session, view: str, *, user_id: int | None = None, page: int = 1, per_page: int = PER_PAGE
) -> InboxPage:
    """One page of the inbox. "person": waiting for anyone (escalated first, then the longest waiting);
    "mine": assigned to `user_id`; "all": every decided or waiting post, newest first; "hidden"."""
    if view not in FILTERS:
        raise ValidationFailed(f"Unknown inbox filter {view!r}; use one of {', '.join(FILTERS)}.")
    query = select(InboundPost)
    waiting = view in {"person", "mine"}
    if view == "person":
        query = query.where(InboundPost.inbox_state.in_(values_of(OPEN_INBOX_STATES)))
    elif view == "mine":
        query = query.where(
            InboundPost.inbox_assigned_to_id == user_id, InboundPost.inbox_state == InboxState.ASSIGNED.value
        )
    elif view == "hidden":
        query = query.where(InboundPost.inbox_state == InboxState.HIDDEN.value)
    else:
        query = query.where(InboundPost.inbox_state.is_not(None))
    total = session.scalar(select(func.count()).select_from(query.subquery())) if waiting else None
    if waiting:
        query = query.order_by(InboundPost.inbox_priority.desc(), InboundPost.received_at, InboundPost.id)
    else:
        query = query.order_by(InboundPost.id.desc())
    rows = list(session.scalars(query.offset((page - 1) * per_page).limit(per_page + 1)))
    return InboxPage(rows[:per_page], page, len(rows) > per_page, total)


def get_inbox_post(session: Session, post_id: int) -> InboundPost:
    post = session.get(InboundPost, post_id)
    if post is None:
        raise NotFound(f"No post {post_id}.")
    return post


@dataclass(frozen=True)
class Change:
    """What one inbox move says: the action's name, how it closes the item (None: it stays open), the
    note, facts as data, and the colleague it goes to (assign)."""

    action: str
    how: InboxHow | None = None
    note: str = ""
    data: dict[str, Any] | None = None
    assignee: User | None = None
    reopens: bool = False  # a take back: the earlier decision is void (its event row keeps it)


def move_post(
    session: Session,
    post: InboundPost,
    to: InboxState,
    change: Change,
    *,
    actor: Actor,
    now: dt.datetime | None = None,
) -> InboxEvent:
    """Move the post to `to` if it is still in the state this session read (compare-and-set); else
    InboxConflict. Records the event; `change.how` closes the item (handled_at/by)."""
    how, note, assignee = change.how, change.note, change.assignee
    now = now or utcnow()
    seen = post.inbox_state
    if seen is None:
        raise ValidationFailed("This post is answered through its ticket; it is not in the inbox.")
    if not can_move(INBOX_TRANSITIONS, seen, to):
        raise InboxConflict(_refusal(session, post, to))
    values: dict[str, Any] = {"inbox_state": to.value}
    if how is not None:
        values |= {
            "inbox_handled_at": now,
            "inbox_handled_by_id": actor.user_id,
            "inbox_handled_how": how.value,
            "inbox_note": note or None,
        }
    if change.reopens:
        values |= {
            "inbox_handled_at": None,
            "inbox_handled_by_id": None,
            "inbox_handled_how": None,
            "inbox_note": None,
        }
    if to in (InboxState.ASSIGNED, InboxState.NEW):
        values["inbox_assigned_to_id"] = assignee.id if assignee is not None else None
    done = session.execute(
        update(InboundPost)
        .where(InboundPost.id == post.id, InboundPost.inbox_state == seen)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(post)
        raise InboxConflict(_refusal(session, post, to))
    for key, value in values.items():  # the row as written, without reading it back
        setattr(post, key, value)
    event = InboxEvent(
        post_id=post.id,
        action=change.action,
        from_state=seen,
        to_state=to.value,
        actor_id=actor.user_id,
        actor_label=actor.name,
        note=note,
        data=change.data or {},
        created_at=now,
    )
    session.add(event)
    session.flush()
    return event


def _refusal(session: Session, post: InboundPost, to: InboxState) -> str:
    """What to tell the second person: who got there first and what they did."""
    state = post.inbox_state or "not in the inbox"
    who = session.get(User, post.inbox_handled_by_id) if post.inbox_handled_by_id else None
    by = f" by {who.name or who.email}" if who is not None else ""
    return f"Post {post.id} is already {state}{by}; it cannot become {to.value}. Reload the post to see it."


def assign_post(
    session: Session, post: InboundPost, assignee: User | None, *, actor: Actor, note: str = ""
) -> InboxEvent:
    """Give the post to a colleague (None: back to everyone)."""
    if assignee is not None and not assignee.active:
        raise ValidationFailed(f"{assignee.email} is not an active account.")
    to = InboxState.ASSIGNED if assignee is not None else InboxState.NEW
    data = {"assignee_id": assignee.id if assignee else None}
    change = Change("assigned", note=_note(note), data=data, assignee=assignee)
    return move_post(session, post, to, change, actor=actor)


def mark_handled(session: Session, post: InboundPost, *, actor: Actor, note: str = "") -> InboxEvent:
    """Decided with no reply (the resident needs none), with the staff member's why."""
    change = Change("handled", how=InboxHow.NO_REPLY, note=_note(note))
    return move_post(session, post, InboxState.HANDLED, change, actor=actor)


def hide_post(session: Session, post: InboundPost, *, actor: Actor, reason: str) -> InboxEvent:
    """Out of the default views, never deleted; a reason is required."""
    reason = _note(reason)
    if not reason:
        raise ValidationFailed("Say why the post is hidden.")
    change = Change("hidden", how=InboxHow.HIDDEN, note=reason)
    return move_post(session, post, InboxState.HIDDEN, change, actor=actor)


# What a take back may reopen: a decision without a reply (staff's or the system's) and a hidden post. An
# answered post stays answered: its reply went out once and cannot be unsent.
TAKE_BACK_FROM = frozenset({InboxState.HANDLED, InboxState.HIDDEN})


def take_back(
    session: Session, post: InboundPost, *, actor: Actor, reason: str, seen: str | None = None
) -> InboxEvent:
    """Reopen a handled or hidden post for a person, with a reason (required).

    `seen`: the state the staff member was looking at; if the post has moved since (a colleague took it
    back or answered it), InboxConflict, and nothing changes. The earlier decision stays in the history."""
    reason = _note(reason)
    if not reason:
        raise ValidationFailed("Say why the post is taken back.")
    state = post.inbox_state
    if seen is not None and state != seen:
        raise InboxConflict(
            f"Post {post.id} is {state or 'not in the inbox'} now, not {seen}. Reload the post to see it."
        )
    if state is None or InboxState(state) not in TAKE_BACK_FROM:
        if state == InboxState.ANSWERED:
            raise ValidationFailed(f"Post {post.id} was answered; a sent reply cannot be taken back.")
        raise InboxConflict(
            f"Post {post.id} is {state or 'not in the inbox'}; "
            "only handled or hidden posts can be taken back."
        )
    change = Change(
        "taken_back",
        note=reason,
        data={"was": state, "how": post.inbox_handled_how, "by": post.inbox_handled_by_id},
        reopens=True,
    )
    return move_post(session, post, InboxState.NEW, change, actor=actor)


def _note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise ValidationFailed(f"The note is {len(note)} characters; at most {NOTE_MAX}.")
    return note


def inbox_history(session: Session, post_id: int) -> list[InboxEvent]:
    return list(
        session.scalars(select(InboxEvent).where(InboxEvent.post_id == post_id).order_by(InboxEvent.id))
    )
