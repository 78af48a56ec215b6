"""Finding the open ticket a new report duplicates: same service, recent, same place (or street)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, inspect, or_, select
from sqlalchemy.orm import Session

from civictracker.database import written
from civictracker.geo import spatial
from civictracker.geo.types import GeocodeResult
from civictracker.models import Service, Ticket, TicketStatus
from civictracker.models.ticket import ACTIVE_STATUSES
from civictracker.models.transitions import values_of

S = TicketStatus

# Two precise reports (an address or a corner) farther apart than this are two problems, whatever the radius:
# two potholes 40 m apart on the same block stay two tickets.
PRECISE = {"rooftop", "interpolated", "intersection"}
PRECISE_SAME_PLACE_M = 30.0
DEDUPE_STATUSES = values_of(ACTIVE_STATUSES)
# Written into the statement, not bound: PostgreSQL's index of the open tickets (ix_tickets_open_near) is
# partial, and a planner proves a partial index applies only from values it can see.
_OPEN = Ticket.status.in_(written(DEDUPE_STATUSES))

# The open tickets of one service created since a time, nearest first: built once (see NearestQuery).
_NEARBY_OPEN = spatial.NearestQuery(
    Ticket,
    Ticket.location,
    [Ticket.id, Ticket.precision, Ticket.address],
    [
        Ticket.service_id == bindparam("service_id"),
        _OPEN,
        Ticket.created_at >= bindparam("since"),
    ],
    rtree=spatial.OPEN_TICKETS,  # SQLite: an index of the open tickets only, by service and day made
)


@dataclass(frozen=True)
class DedupeRules:
    """The city's defaults (CIVICTRACKER_DEDUPE_RADIUS_M, _WINDOW_DAYS); a service may set its own radius."""

    radius_m: float = 150.0
    window_days: int = 30


def find_duplicate(
    session: Session,
    service: Service,
    loc: GeocodeResult,
    *,
    rules: DedupeRules,
    now: dt.datetime,
    unwritten: Sequence[Ticket] = (),
    load: Callable[[int], Ticket | None] | None = None,
) -> Ticket | None:
    """An open ticket for the same problem: same service, recent, same place (see PRECISE_SAME_PLACE_M).

    `load`: how the chosen ticket is read by id (the intake locks it in the same statement); by default
    `session.get`.

    `unwritten`: tickets the caller created and may not have written yet (a page's). Those still pending
    are not in the table: they are looked at in memory by the same rules (distances on the ellipsoid, as
    the databases measure), so two reports of one problem in one page are merged too.
    """
    assert loc.lat is not None and loc.lon is not None
    since = now - dt.timedelta(days=rules.window_days)
    pending = [
        t
        for t in unwritten
        if inspect(t).pending and t.service_id == service.id and t.status in DEDUPE_STATUSES
    ]
    if service.street_wide and loc.street:
        return _same_street(session, service, loc, since, pending)
    radius = service.dedupe_radius_m or rules.radius_m
    return _nearest(session, service, loc, since, pending, radius, load or (lambda i: session.get(Ticket, i)))


def _same_street(
    session: Session, service: Service, loc: GeocodeResult, since: dt.datetime, pending: list[Ticket]
) -> Ticket | None:
    """Street-wide problems (an unplowed street) are one ticket per street segment, or per street when the
    report names only the street."""
    by_street = loc.precision in {"street"} or not loc.segment_id
    for ticket in reversed(pending):  # the newest first, as the query orders
        if ticket.street == loc.street or (not by_street and ticket.segment_id == loc.segment_id):
            return ticket
    same_street = Ticket.street == loc.street
    cond = same_street if by_street else or_(Ticket.segment_id == loc.segment_id, same_street)
    recent = Ticket.created_at >= since
    base = [Ticket.service_id == service.id, Ticket.status.in_(DEDUPE_STATUSES), recent]
    return session.scalar(select(Ticket).where(*base, cond).order_by(Ticket.created_at.desc()).limit(1))


def _nearest(
    session: Session,
    service: Service,
    loc: GeocodeResult,
    since: dt.datetime,
    pending: list[Ticket],
    radius: float,
    load: Callable[[int], Ticket | None],
) -> Ticket | None:
    """The nearest open ticket within `radius`, unless both places are precise and clearly apart."""
    assert loc.lat is not None and loc.lon is not None
    # rank by three columns first; load only the ticket chosen
    candidates: list[tuple[int | Ticket, str | None, str | None, float]] = [
        (ticket_id, precision, address, distance)
        for (ticket_id, precision, address), distance in _NEARBY_OPEN.run(
            session, loc.lat, loc.lon, radius, service_id=service.id, since=since
        )
    ]
    for ticket in pending:
        if ticket.lat is not None and ticket.lon is not None:
            distance = spatial.geodesic_m(loc.lat, loc.lon, ticket.lat, ticket.lon)
            if distance <= radius:
                candidates.append((ticket, ticket.precision, ticket.address, distance))
    for found, precision, address, distance in sorted(candidates, key=lambda c: c[3]):
        both_precise = loc.precision in PRECISE and precision in PRECISE
        if both_precise and distance > PRECISE_SAME_PLACE_M and (address or "") != (loc.matched or ""):
            continue
        return found if isinstance(found, Ticket) else load(found)
    return None
