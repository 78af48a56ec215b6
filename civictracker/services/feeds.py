"""What the public Atom feeds hold: the newest public tickets of an area (a ticket's own feed is its
public timeline, services/public.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from civictracker.geo import spatial
from civictracker.models import Service, Ticket, TicketEvent
from civictracker.models.ticket import PUBLIC_STATUSES
from civictracker.models.transitions import values_of
from civictracker.services.errors import ValidationFailed
from civictracker.services.public import STATUS_LABELS, public_address

Bbox = tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat
MAX_ENTRIES = 50  # a feed of a whole city holds its newest changes, never every ticket
# A box smaller than this (degrees on each side, about 2 km) is found through the spatial index; a larger
# one through the updated_at index, newest first, which meets MAX_ENTRIES matches sooner.
INDEXED_BOX_DEG = 0.02


@dataclass(frozen=True)
class Area:
    """Where a feed looks: a box, or a circle (lat, lon, metres), or (neither) the whole city; and which
    services (codes; empty: every public one)."""

    bbox: Bbox | None = None
    near: tuple[float, float, float] | None = None
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeedTicket:
    """One ticket as an area feed's entry: public words and place only (block level for a private one)."""

    id: int
    ref: str
    service_code: str
    service_name: str
    status_label: str
    address: str
    summary: str
    note: str  # the latest public note, "" when none
    created_at: dt.datetime  # in the city's time zone
    updated_at: dt.datetime


def check_service_codes(session: Session, codes: Sequence[str]) -> tuple[str, ...]:
    """The codes, each a public service's; ValidationFailed naming the first that is not."""
    wanted = sorted({c.strip() for c in codes if c.strip()})
    if not wanted:
        return ()
    known = set(session.scalars(select(Service.code).where(Service.public.is_(True))))
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise ValidationFailed(f"Unknown service {unknown[0][:64]!r}: see the map's list of services.")
    return tuple(wanted)


def list_area_tickets(
    session: Session, area: Area, timezone: str, *, limit: int = MAX_ENTRIES
) -> list[FeedTicket]:
    """The public tickets of the area, the most recently changed first, at most `limit`; two queries."""
    stmt = (
        select(
            Ticket.id,
            Service.code,
            Service.name,
            Ticket.status,
            Ticket.address,
            Ticket.street,
            Ticket.private_location,
            Ticket.summary,
            Ticket.created_at,
            Ticket.updated_at,
        )
        .join(Service, Service.id == Ticket.service_id)
        .where(Ticket.status.in_(values_of(PUBLIC_STATUSES)), Service.public.is_(True))
    )
    for cond in _area_filter(session, area):
        stmt = stmt.where(cond)
    stmt = stmt.order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(limit)
    rows = session.execute(stmt).all()
    notes = _latest_notes(session, [row[0] for row in rows])
    tz = ZoneInfo(timezone)
    out = []
    for tid, code, name, status, address, street, private, summary, created, updated in rows:
        place = public_address(address, street, private)
        out.append(
            FeedTicket(
                id=tid,
                ref=f"CT-{tid}",
                service_code=code,
                service_name=name,
                status_label=STATUS_LABELS.get(status, status),
                address=place,
                summary=summary.strip() or f"{name} reported" + (f" at {place}." if place else "."),
                note=notes.get(tid, ""),
                created_at=created.astimezone(tz),
                updated_at=updated.astimezone(tz),
            )
        )
    return out


def _area_filter(session: Session, area: Area) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = []
    if area.services:
        conds.append(Service.code.in_(list(area.services)))
    if area.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = area.bbox
        small = max_lon - min_lon < INDEXED_BOX_DEG and max_lat - min_lat < INDEXED_BOX_DEG
        conds.append(
            spatial.within_bbox_points(
                session,
                Ticket.public_location,
                Ticket.public_lat,
                Ticket.public_lon,
                "tickets",
                area.bbox,
                use_index=small,
            )
        )
    if area.near is not None:
        lat, lon, radius_m = area.near
        conds.append(spatial.within_radius(session, Ticket.public_location, "tickets", lat, lon, radius_m))
    return conds


def _latest_notes(session: Session, ticket_ids: list[int]) -> dict[int, str]:
    """Each ticket's latest public note (a status change's words to the public)."""
    if not ticket_ids:
        return {}
    rows = session.execute(
        select(TicketEvent.ticket_id, TicketEvent.public_note)
        .where(
            TicketEvent.ticket_id.in_(ticket_ids),
            TicketEvent.is_public.is_(True),
            TicketEvent.public_note != "",
        )
        .order_by(TicketEvent.ticket_id, TicketEvent.created_at, TicketEvent.id)
    )
    return {row[0]: row[1] for row in rows}  # the last of each ticket wins
