"""First response to every inbound post: how soon, by channel and by who answered (a person or the system).

A post's first response is the earliest of: a reply sent in its thread (an outbound message naming the
post, or sent to the follower row the post created: ack, ask-back, merged, inbox reply, status updates)
and a recorded inbox decision without a reply (handled, hidden, ticketed or attached, by staff or by the
system). Posts with neither are open and counted with their age. The figures are grouped in SQL by
(channel, who, whole minute), so a month of a busy city is a few thousand rows, not a row per post.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Integer, and_, case, cast, extract, func, literal, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.selectable import Subquery

from civictracker.models import (
    Follower,
    InboundPost,
    InboxEvent,
    InboxHow,
    InboxState,
    MessageKind,
    MessageState,
    OutboundMessage,
    TicketEvent,
)
from civictracker.models.types import utcnow

SYSTEM_REPLY = "system reply"
PERSON_REPLY = "person reply"
SYSTEM_DECISION = "system decision"
PERSON_DECISION = "person decision"
OPEN = "none yet"
WHO = (SYSTEM_REPLY, PERSON_REPLY, SYSTEM_DECISION, PERSON_DECISION, OPEN)
ALL = "all"
# A reply in a person's own words, whatever its event says; other replies are a person's when the ticket
# event they announce was made by a user (a dispatcher's status change), else the system's (intake's ack).
PERSON_KINDS = (MessageKind.INBOX_REPLY.value, MessageKind.CORRECTED.value)
DECISION_STATES = (InboxState.HANDLED.value, InboxState.HIDDEN.value)  # ticketed and attached are handled
# Float minutes from timestamp differences: a response exactly on the target must not miss it by rounding.
_EPSILON_MIN = 1e-6


@dataclass(frozen=True)
class ResponseRow:
    """One line of the table: posts of a channel answered by `who`; minutes to the first response (for
    "none yet": the age of the post), and the share of those posts answered within the target."""

    channel: str
    who: str
    count: int
    median_min: int | None
    p90_min: int | None
    within: int  # answered within the target (for "none yet": still inside it)

    @property
    def within_share(self) -> float | None:
        return self.within / self.count if self.count else None


@dataclass(frozen=True)
class FirstResponse:
    """The window's figures: rows per channel and who (channel "all" sums the channels), the target,
    and the share of every post in the window answered within it (open posts count as not answered)."""

    rows: list[ResponseRow]
    target_min: int
    total: int
    answered_within: int

    @property
    def share_within(self) -> float | None:
        return self.answered_within / self.total if self.total else None

    def row(self, channel: str, who: str) -> ResponseRow | None:
        return next((r for r in self.rows if r.channel == channel and r.who == who), None)


def _minutes(dialect: str, later: ColumnElement, earlier: ColumnElement) -> ColumnElement:
    """Minutes between two timestamps, as a float, on SQLite (stored as text) and PostgreSQL."""
    if dialect == "sqlite":
        # julianday keeps milliseconds; rounding to them undoes the float error of the day fraction
        return func.round((func.julianday(later) - func.julianday(earlier)) * 86_400_000.0) / 60_000.0
    return extract("epoch", later - earlier) / 60.0


def _whole(dialect: str, minutes: ColumnElement) -> ColumnElement:
    """Whole minutes, rounded down (PostgreSQL's cast rounds, SQLite's truncates)."""
    return cast(func.floor(minutes) if dialect != "sqlite" else minutes, Integer)


def _first_sends(since: dt.datetime, now: dt.datetime) -> Subquery:
    """Per post: the first reply sent by a person and the first sent by the system (a subquery)."""
    msg = OutboundMessage
    by_person = case((or_(msg.kind.in_(PERSON_KINDS), TicketEvent.actor_user_id.is_not(None)), 1), else_=0)
    sent = and_(msg.state == MessageState.SENT.value, msg.sent_at >= since, msg.sent_at <= now)
    direct = (
        select(msg.post_id.label("post_id"), msg.sent_at.label("sent_at"), by_person.label("by_person"))
        .outerjoin(TicketEvent, TicketEvent.id == msg.event_id)
        .where(sent, msg.post_id.is_not(None))
    )
    # Intake's replies are addressed to the follower row the post created, not to the post itself.
    via_follower = (
        select(Follower.post_id, msg.sent_at, by_person)
        .select_from(msg)
        .join(Follower, Follower.id == msg.follower_id)
        .outerjoin(TicketEvent, TicketEvent.id == msg.event_id)
        .where(sent, msg.post_id.is_(None), Follower.post_id.is_not(None))
    )
    both = union_all(direct, via_follower).subquery()
    return (
        select(
            both.c.post_id,
            func.min(case((both.c.by_person == 0, both.c.sent_at))).label("system_at"),
            func.min(case((both.c.by_person == 1, both.c.sent_at))).label("person_at"),
        )
        .group_by(both.c.post_id)
        .subquery()
    )


def _first_decisions(since: dt.datetime, now: dt.datetime) -> Subquery:
    """Per post: the first decision without a reply by a person and by the system (a subquery). Staff's
    decisions are inbox events (a later reply overwrites the post's own columns); the system's are only
    on the post (intake writes no event row)."""
    event, post = InboxEvent, InboundPost
    staff = select(
        event.post_id.label("post_id"),
        event.created_at.label("at"),
        case((event.actor_id.is_not(None), 1), else_=0).label("by_person"),
    ).where(event.to_state.in_(DECISION_STATES), event.created_at.between(since, now))
    # A reply from the inbox closes the post too (how "reply"), but it counts when it is sent, not queued.
    on_post = select(
        post.id, post.inbox_handled_at, case((post.inbox_handled_by_id.is_not(None), 1), else_=0)
    ).where(
        post.inbox_handled_at.between(since, now),
        or_(post.inbox_handled_how.is_(None), post.inbox_handled_how != InboxHow.REPLY.value),
    )
    both = union_all(staff, on_post).subquery()
    return (
        select(
            both.c.post_id,
            func.min(case((both.c.by_person == 0, both.c.at))).label("system_at"),
            func.min(case((both.c.by_person == 1, both.c.at))).label("person_at"),
        )
        .group_by(both.c.post_id)
        .subquery()
    )


def _earliest(first: ColumnElement, *others: ColumnElement) -> ColumnElement:
    return and_(first.is_not(None), *[or_(o.is_(None), first <= o) for o in others])


def _grouped(session: Session, since: dt.datetime, now: dt.datetime, target: int) -> list[tuple]:
    """(channel, who, whole minutes, within target, posts) for the posts received in the window."""
    dialect = session.get_bind().dialect.name
    post, sends, decisions = InboundPost, _first_sends(since, now), _first_decisions(since, now)
    per_post = (
        select(
            post.channel,
            func.coalesce(post.posted_at, post.received_at).label("start"),
            sends.c.system_at.label("sr"),
            sends.c.person_at.label("pr"),
            decisions.c.system_at.label("sd"),
            decisions.c.person_at.label("pd"),
        )
        .outerjoin(sends, sends.c.post_id == post.id)
        .outerjoin(decisions, decisions.c.post_id == post.id)
        .where(post.received_at >= since, post.received_at <= now)
        .subquery()
    )
    c = per_post.c
    # The earliest of the four wins; on a tie a reply before a decision, the system's before a person's.
    firsts = [
        (_earliest(c.sr, c.pr, c.sd, c.pd), SYSTEM_REPLY, c.sr),
        (_earliest(c.pr, c.sd, c.pd), PERSON_REPLY, c.pr),
        (_earliest(c.sd, c.pd), SYSTEM_DECISION, c.sd),
        (c.pd.is_not(None), PERSON_DECISION, c.pd),
    ]
    who = case(*[(cond, literal(label)) for cond, label, _ in firsts], else_=literal(OPEN))
    first_at = case(*[(cond, at) for cond, _, at in firsts])
    minutes = case(
        (first_at.is_not(None), _minutes(dialect, first_at, c.start)),
        else_=_minutes(dialect, literal(now, c.start.type), c.start),
    )
    within = case((minutes <= target + _EPSILON_MIN, 1), else_=0)
    labelled = select(
        c.channel.label("channel"),
        who.label("who"),
        _whole(dialect, minutes).label("minute"),
        within.label("within"),
    ).subquery()
    query = select(
        labelled.c.channel, labelled.c.who, labelled.c.minute, labelled.c.within, func.count()
    ).group_by(labelled.c.channel, labelled.c.who, labelled.c.minute, labelled.c.within)
    return [tuple(r) for r in session.execute(query).all()]


def _percentile(counts: dict[int, int], total: int, share: float) -> int | None:
    """The value at index int(total * share) of the sorted minutes (the median: share 0.5)."""
    if not total:
        return None
    index, seen = min(total - 1, int(total * share)), 0
    for minute in sorted(counts):
        seen += counts[minute]
        if seen > index:
            return minute
    return None  # unreachable: the counts sum to total


def _rows(groups: Iterable[tuple]) -> list[ResponseRow]:
    minutes: dict[tuple[str, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    within: dict[tuple[str, str], int] = defaultdict(int)
    for channel, who, minute, ok, count in groups:
        for key in ((channel, who), (ALL, who), (channel, ALL), (ALL, ALL)):
            minutes[key][max(0, int(minute))] += count
            # An open post inside the target is not answered within it: only its own row counts it.
            within[key] += count if ok and (who != OPEN or key[1] == OPEN) else 0
    order = {w: i for i, w in enumerate((*WHO, ALL))}
    rows = []
    for channel, who in sorted(minutes, key=lambda k: (k[0] == ALL, k[0], order[k[1]])):
        counts = minutes[(channel, who)]
        total = sum(counts.values())
        rows.append(
            ResponseRow(
                channel,
                who,
                total,
                _percentile(counts, total, 0.5),
                _percentile(counts, total, 0.9),
                within[(channel, who)],
            )
        )
    return rows


def first_response(
    session: Session, *, target_min: int, days: int = 30, now: dt.datetime | None = None
) -> FirstResponse:
    """First response to every post received in the last `days`, against the city's target in minutes."""
    now = now or utcnow()
    groups = _grouped(session, now - dt.timedelta(days=days), now, target_min)
    rows = _rows(groups)
    overall = [r for r in rows if r.channel == ALL]
    total = sum(r.count for r in overall if r.who != ALL)
    everything = next((r for r in overall if r.who == ALL), None)
    return FirstResponse(rows, target_min, total, everything.within if everything else 0)
