"""Dispatching: the console queue query, crew suggestions by skill, distance and load, bulk assignment."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, joinedload

from civictracker.geo import spatial
from civictracker.models import Crew, Ticket
from civictracker.models.crew import crew_services
from civictracker.models.ticket import ACTIVE_STATUSES, OPEN_STATUSES, TicketStatus
from civictracker.models.types import utcnow
from civictracker.services.errors import DomainError, NotFound, ValidationFailed
from civictracker.services.notify import ReplyContext
from civictracker.services.tickets import SYSTEM, Actor, assign_crew

log = logging.getLogger(__name__)

# The queue shows work still to do (OPEN_STATUSES), in the order the state machine moves it.
QUEUE_STATUSES: tuple[str, ...] = tuple(s.value for s in TicketStatus if s in OPEN_STATUSES)
MAX_PAGE_SIZE = 200
MAX_BULK = 500


@dataclass(frozen=True)
class QueueFilters:
    """What the dispatcher narrowed the queue to; every field already validated by the caller."""

    statuses: tuple[str, ...] = QUEUE_STATUSES
    service_id: int | None = None
    crew_id: int | None = None  # 0 means "no crew yet"
    urgent_only: bool = False
    overdue_only: bool = False
    located: bool | None = None  # True: with a place only; False: "needs a place" only; None: both


@dataclass(frozen=True)
class QueuePage:
    tickets: list[Ticket]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _queue_conditions(filters: QueueFilters, now: dt.datetime) -> list[ColumnElement[bool]]:
    bad = set(filters.statuses) - set(QUEUE_STATUSES)
    if bad or not filters.statuses:
        raise ValidationFailed(f"The queue shows open statuses only, not {sorted(bad)}.")
    # status IN (...) first: it is the leading column of ix_tickets_status_priority.
    conds: list[ColumnElement[bool]] = [Ticket.status.in_(filters.statuses)]
    if filters.service_id is not None:
        conds.append(Ticket.service_id == filters.service_id)
    if filters.crew_id == 0:
        conds.append(Ticket.crew_id.is_(None))
    elif filters.crew_id is not None:
        conds.append(Ticket.crew_id == filters.crew_id)
    if filters.urgent_only:
        conds.append(Ticket.priority > 0)
    if filters.overdue_only:
        conds.append(Ticket.sla_due_at < now)
    if filters.located is not None:
        conds.append(Ticket.location.is_not(None) if filters.located else Ticket.location.is_(None))
    return conds


def queue_page(
    session: Session,
    filters: QueueFilters,
    *,
    page: int = 1,
    per_page: int = 50,
    now: dt.datetime | None = None,
) -> QueuePage:
    """One page of open tickets: most urgent first, then the soonest SLA due, then the oldest."""
    if page < 1 or not 1 <= per_page <= MAX_PAGE_SIZE:
        raise ValidationFailed(f"page must be >= 1 and per_page between 1 and {MAX_PAGE_SIZE}.")
    conds = _queue_conditions(filters, now or utcnow())
    total = session.scalar(select(func.count()).select_from(Ticket).where(*conds)) or 0
    # Sort narrow rows, then load only the page: sorting every open ticket as a full row (two geometries
    # as EWKB, JSON, text) cost PostGIS 55-100 ms with 10,000 open of 1,000,000; the ids sort in ~15 ms.
    ids = list(
        session.scalars(
            select(Ticket.id)
            .where(*conds)
            .order_by(
                Ticket.priority.desc(), Ticket.sla_due_at.asc(), Ticket.created_at.asc(), Ticket.id.asc()
            )
            .limit(per_page)
            .offset((page - 1) * per_page)
        )
    )
    rows = session.scalars(
        select(Ticket).options(joinedload(Ticket.crew), joinedload(Ticket.service)).where(Ticket.id.in_(ids))
    ).unique()
    by_id = {t.id: t for t in rows}
    # A ticket deleted between the two statements is simply left out of this page.
    return QueuePage([by_id[i] for i in ids if i in by_id], int(total), page, per_page)


def open_tickets_in_bbox(
    session: Session, bbox: tuple[float, float, float, float], *, limit: int = 2000
) -> tuple[list[Ticket], bool]:
    """Open tickets with a point inside the box, most urgent first; (rows, truncated)."""
    stmt = (
        select(Ticket)
        # The map shows each ticket's service and crew: load them here, not once per marker.
        .options(joinedload(Ticket.service), joinedload(Ticket.crew))
        .where(Ticket.status.in_(QUEUE_STATUSES), Ticket.location.is_not(None))
        .where(spatial.within_bbox(session, Ticket.location, "tickets", bbox))
        .order_by(Ticket.priority.desc(), Ticket.sla_due_at.asc())
        .limit(limit + 1)
    )
    rows = list(session.scalars(stmt))
    return rows[:limit], len(rows) > limit


@dataclass(frozen=True)
class MapCounts:
    """Why the console map shows the tickets it shows: the open tickets, those with no place, those in
    the view, and how many of those were drawn (the rest are beyond the limit)."""

    open_total: int
    unlocated: int
    in_view: int
    shown: int

    @property
    def outside_view(self) -> int:
        return self.open_total - self.unlocated - self.in_view

    @property
    def beyond_limit(self) -> int:
        return self.in_view - self.shown


def open_ticket_counts(session: Session, bbox: tuple[float, float, float, float], *, shown: int) -> MapCounts:
    """The open tickets (queue statuses) by whether they have a place and are inside `bbox`."""
    open_now = Ticket.status.in_(QUEUE_STATUSES)
    total, unlocated = session.execute(
        select(func.count(), func.count().filter(Ticket.location.is_(None)))
        .select_from(Ticket)
        .where(open_now)
    ).one()
    in_view = session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(open_now, Ticket.location.is_not(None))
        .where(spatial.within_bbox(session, Ticket.location, "tickets", bbox))
    )
    return MapCounts(int(total or 0), int(unlocated or 0), int(in_view or 0), shown)


class CrewSuggestion(NamedTuple):
    """A crew for a ticket: whether it handles the ticket's service, how far it is, how busy it is."""

    crew: Crew
    distance_m: float
    skilled: bool
    open_tickets: int  # tickets assigned to it and not yet resolved


# Distances within one band count as equal, so load decides between two skilled crews a few streets
# apart; a crew a band nearer still comes first, however busy.
DISTANCE_BAND_M = 1000.0
# Crews looked at around a ticket before ranking: cities run tens of crews, not thousands.
MAX_CANDIDATES = 200


def suggest_crews(session: Session, ticket: Ticket, limit: int = 5) -> list[CrewSuggestion]:
    """Available active crews for the ticket: skilled for its service first, then nearest (in bands of
    DISTANCE_BAND_M), then least loaded, then nearest; within 20 km of its point."""
    if ticket.lat is None or ticket.lon is None:
        return []
    near = spatial.nearest(
        session,
        Crew,
        Crew.location,
        ticket.lat,
        ticket.lon,
        limit=MAX_CANDIDATES,
        where=[Crew.active.is_(True), Crew.available.is_(True)],
    )
    if not near:
        return []
    ids = [crew.id for crew, _ in near]
    skilled = set(
        session.scalars(
            select(crew_services.c.crew_id).where(
                crew_services.c.service_id == ticket.service_id, crew_services.c.crew_id.in_(ids)
            )
        )
    )
    load = dict(
        session.execute(
            select(Ticket.crew_id, func.count())
            .where(Ticket.crew_id.in_(ids), Ticket.status.in_([s.value for s in ACTIVE_STATUSES]))
            .group_by(Ticket.crew_id)
        ).all()
    )
    ranked = [CrewSuggestion(c, d, c.id in skilled, int(load.get(c.id, 0))) for c, d in near]
    ranked.sort(key=lambda s: (not s.skilled, s.distance_m // DISTANCE_BAND_M, s.open_tickets, s.distance_m))
    return ranked[:limit]


def bulk_assign(
    session: Session,
    ticket_ids: list[int],
    crew: Crew,
    *,
    replies: ReplyContext,
    actor: Actor = SYSTEM,
) -> list[Ticket]:
    """Assign every listed ticket to `crew`, all or nothing: a refusal raises, the caller rolls back."""
    ids = sorted(set(ticket_ids))
    if not ids:
        raise ValidationFailed("Select at least one ticket to assign.")
    if len(ids) > MAX_BULK:
        raise ValidationFailed(f"At most {MAX_BULK} tickets can be assigned at once.")
    tickets = list(session.scalars(select(Ticket).where(Ticket.id.in_(ids)).order_by(Ticket.id)))
    missing = set(ids) - {t.id for t in tickets}
    if missing:
        raise NotFound(f"No ticket(s) {', '.join(f'CT-{i}' for i in sorted(missing))}.")
    for ticket in tickets:
        try:
            assign_crew(session, ticket, crew, replies=replies, actor=actor)
        except DomainError as exc:
            raise DomainError(f"Nothing was assigned: {exc}") from exc
    log.info("bulk-assigned %s ticket(s) to crew %s", len(tickets), crew.id)
    return tickets
