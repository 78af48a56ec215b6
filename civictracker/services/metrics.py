"""Console metrics: time to first public reply, time to resolve, backlog and SLA breaches by service, and
the trend per week, per service and per channel."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civictracker.models import Service, Ticket
from civictracker.models.ticket import RESOLVED_STATUSES
from civictracker.models.transitions import values_of
from civictracker.models.types import utcnow
from civictracker.services.dispatch import QUEUE_STATUSES

# Duration buckets (upper bound in hours, label) for the histograms; the last one is open-ended.
BUCKETS: list[tuple[float, str]] = [
    (1, "< 1 h"),
    (4, "1-4 h"),
    (12, "4-12 h"),
    (24, "12-24 h"),
    (72, "1-3 d"),
    (168, "3-7 d"),
    (float("inf"), "> 7 d"),
]
RESOLVED_STATES = tuple(values_of(RESOLVED_STATUSES))
# Metrics read at most this many tickets of the window: the page stays fast on a city-sized table.
MAX_ROWS = 200_000


@dataclass(frozen=True)
class Distribution:
    """Durations in hours: a histogram over BUCKETS plus the figures a dispatcher quotes."""

    count: int
    median_h: float | None
    p90_h: float | None
    histogram: list[tuple[str, int]]


def _distribution(hours: list[float]) -> Distribution:
    hours = sorted(h for h in hours if h >= 0)
    counts = [0] * len(BUCKETS)
    for h in hours:
        for i, (upper, _label) in enumerate(BUCKETS):
            if h < upper:
                counts[i] += 1
                break
    hist = [(label, counts[i]) for i, (_u, label) in enumerate(BUCKETS)]
    if not hours:
        return Distribution(0, None, None, hist)
    return Distribution(
        len(hours), hours[len(hours) // 2], hours[min(len(hours) - 1, int(len(hours) * 0.9))], hist
    )


def _hours(start: dt.datetime, end: dt.datetime) -> float:
    return (end - start).total_seconds() / 3600.0


def time_to_first_reply(session: Session, *, days: int = 90, now: dt.datetime | None = None) -> Distribution:
    """Hours from a ticket's creation to its first public reply, for tickets created in the window."""
    since = (now or utcnow()) - dt.timedelta(days=days)
    rows = session.execute(
        select(Ticket.created_at, Ticket.first_public_reply_at)
        .where(Ticket.created_at >= since, Ticket.first_public_reply_at.is_not(None))
        .limit(MAX_ROWS)
    ).all()
    return _distribution([_hours(c, r) for c, r in rows if r is not None])


def time_to_resolve(session: Session, *, days: int = 90, now: dt.datetime | None = None) -> Distribution:
    """Hours from creation to closing, for tickets resolved or closed in the window."""
    since = (now or utcnow()) - dt.timedelta(days=days)
    rows = session.execute(
        select(Ticket.created_at, Ticket.closed_at)
        .where(Ticket.status.in_(RESOLVED_STATES), Ticket.closed_at >= since)
        .limit(MAX_ROWS)
    ).all()
    return _distribution([_hours(c, r) for c, r in rows if r is not None])


def backlog_by_service(session: Session) -> list[tuple[str, int]]:
    """Open tickets per service name, largest backlog first."""
    rows = session.execute(
        select(Service.name, func.count(Ticket.id))
        .join(Service, Service.id == Ticket.service_id)
        .where(Ticket.status.in_(QUEUE_STATUSES))
        .group_by(Service.name)
        .order_by(func.count(Ticket.id).desc(), Service.name)
    ).all()
    return [(str(name), int(n)) for name, n in rows]


def sla_breaches_by_service(
    session: Session, *, days: int = 90, now: dt.datetime | None = None
) -> list[tuple[str, int, int]]:
    """Per service: (name, open tickets past their SLA now, tickets closed late in the window)."""
    now = now or utcnow()
    since = now - dt.timedelta(days=days)
    open_late = dict(
        session.execute(
            select(Service.name, func.count(Ticket.id))
            .join(Service, Service.id == Ticket.service_id)
            .where(Ticket.status.in_(QUEUE_STATUSES), Ticket.sla_due_at < now)
            .group_by(Service.name)
        ).all()
    )
    closed_late = dict(
        session.execute(
            select(Service.name, func.count(Ticket.id))
            .join(Service, Service.id == Ticket.service_id)
            .where(
                Ticket.status.in_(RESOLVED_STATES),
                Ticket.closed_at >= since,
                Ticket.closed_at > Ticket.sla_due_at,
            )
            .group_by(Service.name)
        ).all()
    )
    names = sorted(set(open_late) | set(closed_late), key=lambda n: (-(open_late.get(n, 0)), n))
    return [(str(n), int(open_late.get(n, 0)), int(closed_late.get(n, 0))) for n in names]


@dataclass(frozen=True)
class TrendRow:
    """One week (from Monday, in the city's zone) or one service or channel: counts and median hours."""

    label: str
    reported: int
    resolved: int
    median_reply_h: float | None
    median_resolve_h: float | None
    resolved_in_sla: int  # of `resolved`, closed by their SLA due time


def _median(values: list[float]) -> float | None:
    values = sorted(v for v in values if v >= 0)
    return values[len(values) // 2] if values else None


@dataclass
class _Acc:
    reported: int = 0
    resolved: int = 0
    in_sla: int = 0
    reply: list[float] | None = None
    resolve: list[float] | None = None

    def row(self, label: str) -> TrendRow:
        return TrendRow(
            label,
            self.reported,
            self.resolved,
            _median(self.reply or []),
            _median(self.resolve or []),
            self.in_sla,
        )


def _window_rows(session: Session, since: dt.datetime) -> list[Any]:
    """Tickets reported or closed since `since`: when, by which service and channel, replied, closed."""
    return list(
        session.execute(
            select(
                Ticket.created_at,
                Ticket.first_public_reply_at,
                Ticket.closed_at,
                Ticket.sla_due_at,
                Ticket.status,
                Service.name,
                Ticket.source_channel,
            )
            .join(Service, Service.id == Ticket.service_id)
            .where((Ticket.created_at >= since) | (Ticket.closed_at >= since))
            .limit(MAX_ROWS)
        ).all()
    )


def _accumulate(rows: list[Any], since: dt.datetime, key: Any) -> dict[str, _Acc]:
    acc: dict[str, _Acc] = {}
    for created, replied, closed, due, status, service, channel in rows:
        if created >= since:
            a = acc.setdefault(key(created, service, channel), _Acc(reply=[], resolve=[]))
            a.reported += 1
            if replied is not None:
                a.reply.append(_hours(created, replied))  # type: ignore[union-attr]
        if closed is not None and closed >= since and status in RESOLVED_STATES:
            a = acc.setdefault(key(closed, service, channel), _Acc(reply=[], resolve=[]))
            a.resolved += 1
            a.resolve.append(_hours(created, closed))  # type: ignore[union-attr]
            a.in_sla += int(due is None or closed <= due)
    return acc


def weekly_trend(
    session: Session, *, weeks: int = 12, zone: str = "UTC", now: dt.datetime | None = None
) -> list[TrendRow]:
    """Per week, oldest first: tickets reported and resolved that week, median hours to the first reply
    (of those reported) and to resolve (of those resolved). Weeks start on Monday in the city's zone."""
    tz = ZoneInfo(zone)
    now = now or utcnow()
    this_monday = now.astimezone(tz).date() - dt.timedelta(days=now.astimezone(tz).weekday())
    first = this_monday - dt.timedelta(weeks=weeks - 1)
    since = dt.datetime.combine(first, dt.time(), tzinfo=tz)

    def week(at: dt.datetime, _service: str, _channel: str) -> str:
        day = at.astimezone(tz).date()
        return (day - dt.timedelta(days=day.weekday())).isoformat()

    acc = _accumulate(_window_rows(session, since), since, week)
    labels = [(first + dt.timedelta(weeks=i)).isoformat() for i in range(weeks)]
    return [acc.get(label, _Acc(reply=[], resolve=[])).row(label) for label in labels]


def trend_by(
    session: Session, group: str, *, days: int = 90, now: dt.datetime | None = None
) -> list[TrendRow]:
    """The window's figures per service or per channel ("service" | "channel"), busiest first."""
    if group not in ("service", "channel"):
        raise ValueError(f"group must be service or channel, not {group!r}")
    since = (now or utcnow()) - dt.timedelta(days=days)

    def key(_at: dt.datetime, service: str, channel: str) -> str:
        return service if group == "service" else channel

    acc = _accumulate(_window_rows(session, since), since, key)
    return sorted((a.row(label) for label, a in acc.items()), key=lambda r: (-r.reported, r.label))
