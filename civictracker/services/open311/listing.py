"""Open311 public request reads: filters, the public projection of a ticket, its public notes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from civictracker.geo import spatial
from civictracker.models import Service, Ticket, TicketEvent
from civictracker.models.ticket import OPEN_STATUSES, PUBLIC_STATUSES
from civictracker.services.errors import NotFound
from civictracker.services.photos import public_photos
from civictracker.services.public_text import OWN_WORDS_CHANNELS, redact_contacts

# What outsiders may see, split by the open/closed projection (ARCHITECTURE section 5).
# new, needs_location, rejected and hidden are in neither set, so no query below can return them.
EXPOSED_OPEN: frozenset[str] = frozenset(s.value for s in PUBLIC_STATUSES & OPEN_STATUSES)
EXPOSED_CLOSED: frozenset[str] = frozenset(s.value for s in PUBLIC_STATUSES - OPEN_STATUSES)
EXPOSED: frozenset[str] = EXPOSED_OPEN | EXPOSED_CLOSED

# Channels whose Ticket.description is the submitter's own public text; every other channel (social posts,
# DMs) shows only Ticket.summary, which we write, so a DM's words never reach the public.


@dataclass(frozen=True)
class RequestFilter:
    """What a client asked for, already parsed; internal statuses, aware UTC datetimes."""

    ids: Sequence[int] | None = None  # when set, every other filter is ignored (the spec's override rule)
    service_codes: Sequence[str] | None = None
    statuses: frozenset[str] | None = None  # internal statuses, subset of EXPOSED
    start: dt.datetime | None = None  # requested (created) at or after
    end: dt.datetime | None = None  # requested at or before
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    near: tuple[float, float, float] | None = None  # (lat, lon, radius in metres) of the public point
    limit: int = 1000
    offset: int = 0


@dataclass
class PublicNote:
    at: dt.datetime
    kind: str  # opened | closed | activity
    note: str
    status: str | None


@dataclass
class PublicRequest:
    """One ticket as the public may see it: public point and text; never the exact point or a reporter."""

    id: int
    status: str  # internal status (exposed only)
    is_closed: bool
    service_code: str
    service_name: str
    text: str
    address: str
    lat: float | None
    lon: float | None
    media_url: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    closed_at: dt.datetime | None
    due_at: dt.datetime | None
    channel: str
    duplicate_of_id: int | None = None
    status_note: str = ""
    notes: list[PublicNote] = field(default_factory=list)


# Only the columns the public may see are selected: Ticket.lat/lon (exact) and reporter data are never read.
_COLUMNS = (
    Ticket.id,
    Ticket.status,
    Service.code,
    Service.name,
    Ticket.summary,
    Ticket.description,
    Ticket.source_channel,
    Ticket.address,
    Ticket.location_text,
    Ticket.private_location,
    Ticket.public_lat,
    Ticket.public_lon,
    Ticket.media_url,
    Ticket.created_at,
    Ticket.updated_at,
    Ticket.closed_at,
    Ticket.sla_due_at,
    Ticket.duplicate_of_id,
)


def _base_query() -> Select[*tuple[Any, ...]]:
    return (
        select(*_COLUMNS)
        .join(Service, Service.id == Ticket.service_id)
        .where(Ticket.status.in_(sorted(EXPOSED)), Service.public.is_(True))
    )


def _row_to_request(row: Any) -> PublicRequest:
    (
        tid,
        status,
        code,
        name,
        summary,
        description,
        channel,
        address,
        location_text,
        private,
        plat,
        plon,
        media_url,
        created_at,
        updated_at,
        closed_at,
        due_at,
        duplicate_of_id,
    ) = row
    own_words = channel in OWN_WORDS_CHANNELS
    # a submitter's own words may hold their e-mail or phone number: never served (README, privacy)
    text = redact_contacts(description or summary) if own_words else summary
    if not address and own_words and not private:
        address = location_text  # the address string an API client sent, while geocoding is pending
    return PublicRequest(
        id=tid,
        status=status,
        is_closed=status in EXPOSED_CLOSED,
        service_code=code,
        service_name=name,
        text=text or "",
        address=address or "",
        lat=plat,
        lon=plon,
        media_url=media_url,
        created_at=created_at,
        updated_at=updated_at,
        closed_at=closed_at,
        due_at=due_at,
        channel=channel,
        duplicate_of_id=duplicate_of_id,
    )


def search_requests(session: Session, flt: RequestFilter, *, with_notes: bool = False) -> list[PublicRequest]:
    """Public requests matching the filter, newest requested first; two queries whatever the page size."""
    stmt = _base_query()
    if flt.ids is not None:
        stmt = stmt.where(Ticket.id.in_(list(flt.ids)))
    else:
        if flt.service_codes:
            stmt = stmt.where(Service.code.in_(list(flt.service_codes)))
        if flt.statuses is not None:
            stmt = stmt.where(Ticket.status.in_(sorted(flt.statuses & EXPOSED)))
        if flt.start is not None:
            stmt = stmt.where(Ticket.created_at >= flt.start)
        if flt.end is not None:
            stmt = stmt.where(Ticket.created_at <= flt.end)
        if flt.updated_after is not None:
            stmt = stmt.where(Ticket.updated_at >= flt.updated_after)
        if flt.updated_before is not None:
            stmt = stmt.where(Ticket.updated_at <= flt.updated_before)
        if flt.near is not None:
            lat, lon, radius_m = flt.near
            stmt = stmt.where(
                spatial.within_radius(session, Ticket.public_location, "tickets", lat, lon, radius_m)
            )
        stmt = stmt.limit(flt.limit).offset(flt.offset)
    stmt = stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc())
    requests = [_row_to_request(row) for row in session.execute(stmt)]
    attach_notes(session, requests, full=with_notes)
    attach_photo(session, requests)
    return requests


def get_request(session: Session, ticket_id: int, *, with_notes: bool = False) -> PublicRequest:
    """One public request; NotFound for a missing id and equally for one the public may not see."""
    row = session.execute(_base_query().where(Ticket.id == ticket_id)).first()
    if row is None:
        raise NotFound(f"No service request {ticket_id}.")
    request = _row_to_request(row)
    attach_notes(session, [request], full=with_notes)
    attach_photo(session, [request])
    return request


def attach_photo(session: Session, requests: list[PublicRequest]) -> None:
    """media_url of a social report: its first photo a dispatcher approved (none while pending, rejected,
    or from a DM). An Open311 client's own media_url stays as it sent it."""
    wanted = [r.id for r in requests if not r.media_url]
    if not wanted:
        return
    photos = public_photos(session, wanted)
    for r in requests:
        if not r.media_url and photos.get(r.id):
            r.media_url = photos[r.id][0].url


def _chunks(values: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def attach_notes(session: Session, requests: list[PublicRequest], *, full: bool) -> None:
    """Fill status_note (latest public note) and, when `full`, the public history; one query per 500 rows."""
    if not requests:
        return
    by_id = {r.id: r for r in requests}
    ids = list(by_id)
    cols = (
        TicketEvent.ticket_id,
        TicketEvent.kind,
        TicketEvent.from_status,
        TicketEvent.to_status,
        TicketEvent.public_note,
        TicketEvent.created_at,
    )
    for chunk in _chunks(ids):
        stmt = (
            select(*cols)
            .where(TicketEvent.ticket_id.in_(list(chunk)), TicketEvent.is_public.is_(True))
            .order_by(TicketEvent.ticket_id, TicketEvent.created_at, TicketEvent.id)
        )
        for ticket_id, kind, from_status, to_status, note, at in session.execute(stmt):
            if not note:
                continue
            req = by_id[ticket_id]
            req.status_note = note
            if full:
                req.notes.append(
                    PublicNote(
                        at=at, kind=_note_kind(kind, from_status, to_status), note=note, status=to_status
                    )
                )
    if full:
        _hide_private_parents(session, requests)


def _note_kind(kind: str, from_status: str | None, to_status: str | None) -> str:
    if kind == "created":
        return "opened"
    if kind == "status" and to_status in EXPOSED_CLOSED and from_status not in EXPOSED_CLOSED:
        return "closed"
    return "activity"


def _hide_private_parents(session: Session, requests: list[PublicRequest]) -> None:
    # A duplicate's parent id is shown only when the parent itself is public, so its existence does not leak.
    parents = sorted({r.duplicate_of_id for r in requests if r.duplicate_of_id is not None})
    if not parents:
        return
    visible: set[int] = set()
    for chunk in _chunks(parents):
        visible.update(
            session.scalars(_base_query().with_only_columns(Ticket.id).where(Ticket.id.in_(chunk)))
        )
    for r in requests:
        if r.duplicate_of_id is not None and r.duplicate_of_id not in visible:
            r.duplicate_of_id = None
