"""What the Open311 API reads and writes: public request queries, request creation, service definitions."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civictracker.models import ApiKey, Follower, Reporter, Service, Ticket, TicketEvent, TicketStatus
from civictracker.models.ticket import OPEN_STATUSES, PUBLIC_STATUSES
from civictracker.models.types import utcnow
from civictracker.models.values import Location
from civictracker.services.errors import NotFound, ValidationFailed
from civictracker.services.tickets import NewTicket, create_ticket, set_ticket_location

log = logging.getLogger(__name__)

# What outsiders may see, split by the open/closed projection (ARCHITECTURE section 5).
# new, needs_location, rejected and hidden are in neither set, so no query below can return them.
EXPOSED_OPEN: frozenset[str] = frozenset(s.value for s in PUBLIC_STATUSES & OPEN_STATUSES)
EXPOSED_CLOSED: frozenset[str] = frozenset(s.value for s in PUBLIC_STATUSES - OPEN_STATUSES)
EXPOSED: frozenset[str] = EXPOSED_OPEN | EXPOSED_CLOSED

# The channel an Open311 client's tickets and reporters carry.
API_CHANNEL = "open311"
# Channels whose Ticket.description is the submitter's own public text; every other channel (social posts,
# DMs) shows only Ticket.summary, which we write, so a DM's words never reach the public.
OWN_WORDS_CHANNELS = frozenset({API_CHANNEL, "api", "web"})

# A geocoder hook: address text -> (lat, lon, precision, confidence), or None when the place is not found.
Locator = Callable[[str], tuple[float, float, str, float] | None]

MAX_DESCRIPTION = 4000
MAX_TEXT_ATTRIBUTE = 4000
LIST_DATATYPES = frozenset({"singlevaluelist", "multivaluelist"})
DATATYPES = frozenset({"string", "number", "datetime", "text"}) | LIST_DATATYPES
_W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})\Z")
# "may contain line breaks, but not html": a tag opener is refused rather than stored and escaped later.
_MARKUP = re.compile(r"<\s*[A-Za-z/!?]")


# --------------------------------------------------------------------------------------------- reading


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
    text = (description or summary) if own_words else summary
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
        stmt = stmt.limit(flt.limit).offset(flt.offset)
    stmt = stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc())
    requests = [_row_to_request(row) for row in session.execute(stmt)]
    attach_notes(session, requests, full=with_notes)
    return requests


def get_request(session: Session, ticket_id: int, *, with_notes: bool = False) -> PublicRequest:
    """One public request; NotFound for a missing id and equally for one the public may not see."""
    row = session.execute(_base_query().where(Ticket.id == ticket_id)).first()
    if row is None:
        raise NotFound(f"No service request {ticket_id}.")
    request = _row_to_request(row)
    attach_notes(session, [request], full=with_notes)
    return request


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


# --------------------------------------------------------------------------------------------- services


def list_public_services(session: Session) -> list[Service]:
    stmt = (
        select(Service)
        .where(Service.active.is_(True), Service.public.is_(True))
        .order_by(Service.group, Service.name, Service.code)
    )
    return list(session.scalars(stmt))


def get_public_service(session: Session, code: str) -> Service:
    service = session.scalar(
        select(Service).where(Service.code == code, Service.active.is_(True), Service.public.is_(True))
    )
    if service is None:
        raise NotFound(f"No service with service code {code!r}.")
    return service


def public_service_codes(session: Session) -> set[str]:
    return set(
        session.scalars(select(Service.code).where(Service.active.is_(True), Service.public.is_(True)))
    )


def service_attributes(service: Service) -> list[dict[str, Any]]:
    """The service's attribute definitions, normalized: known datatypes, list types with values, unique order.

    A definition an admin left broken (unknown datatype, a list without values) is dropped with a warning
    rather than shown to clients who could never answer it.
    """
    clean: list[dict[str, Any]] = []
    for i, raw in enumerate(service.attributes or []):
        if not isinstance(raw, Mapping) or not str(raw.get("code", "")).strip():
            log.warning("service %s: attribute %s has no code; skipped", service.code, i)
            continue
        datatype = str(raw.get("datatype", "string"))
        values = [
            {"key": str(v.get("key", "")), "name": str(v.get("name", v.get("key", "")))}
            for v in raw.get("values") or []
            if isinstance(v, Mapping) and str(v.get("key", "")) != ""
        ]
        if datatype not in DATATYPES or (datatype in LIST_DATATYPES and not values):
            log.warning(
                "service %s: attribute %s is unusable (%s, %d values); skipped",
                service.code,
                raw.get("code"),
                datatype,
                len(values),
            )
            continue
        order = raw.get("order")
        clean.append(
            {
                "variable": bool(raw.get("variable", True)),
                "code": str(raw["code"]).strip(),
                "datatype": datatype,
                "required": bool(raw.get("required", False)),
                "datatype_description": str(raw.get("datatype_description", "")),
                "order": order if type(order) is int and order > 0 else None,
                "description": str(raw.get("description", "")),
                "values": values if datatype in LIST_DATATYPES else [],
            }
        )
    # Keep the admin's order when it is a set of unique positive integers; otherwise number by position.
    orders = [a["order"] for a in clean]
    if None in orders or len(set(orders)) != len(orders):
        for position, attr in enumerate(clean, start=1):
            attr["order"] = position
    clean.sort(key=lambda a: a["order"])
    return clean


# --------------------------------------------------------------------------------------------- creating


@dataclass(frozen=True)
class Contact:
    """Reporter details an API client may send; stored privately, never shown in any GET."""

    email: str = ""
    phone: str = ""
    first_name: str = ""
    last_name: str = ""
    device_id: str = ""
    account_id: str = ""

    def external_id(self) -> str | None:
        if self.email:
            return "email:" + self.email.lower()
        if self.phone:
            return "phone:" + re.sub(r"[^\d+]", "", self.phone)
        if self.account_id:
            return "account:" + self.account_id
        if self.device_id:
            return "device:" + self.device_id
        return None


@dataclass(frozen=True)
class NewRequest:
    service_code: str
    lat: float | None = None
    lon: float | None = None
    address_text: str = ""
    description: str = ""
    attributes: Mapping[str, list[str]] = field(default_factory=dict)  # code -> raw values as sent
    media_url: str | None = None
    source_id: str | None = None
    contact: Contact = field(default_factory=Contact)


def check_text(name: str, value: str, limit: int) -> str:
    """Free text from outside: bounded, no markup, no control characters other than line breaks and tabs."""
    if len(value) > limit:
        raise ValidationFailed(f"{name} is limited to {limit:,} characters ({len(value):,} sent).")
    if _MARKUP.search(value):
        raise ValidationFailed(f"{name} may not contain HTML or other markup.")
    if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise ValidationFailed(f"{name} contains control characters.")
    return value


def validate_attributes(service: Service, sent: Mapping[str, list[str]]) -> dict[str, Any]:
    """Values for the service's attributes, typed; ValidationFailed names every required one missing."""
    definitions = service_attributes(service)
    known = {a["code"] for a in definitions}
    unknown = sorted(set(sent) - known)
    if unknown:
        log.info("service %s: ignoring unknown attributes %s", service.code, ", ".join(unknown[:10]))
    missing = [
        a["code"]
        for a in definitions
        if a["variable"] and a["required"] and not [v for v in sent.get(a["code"], []) if v.strip()]
    ]
    if missing:
        raise ValidationFailed(f"Required attribute missing: {', '.join(missing)}.")
    values: dict[str, Any] = {}
    for attr in definitions:
        raw = [v for v in sent.get(attr["code"], []) if v.strip()]
        if not attr["variable"] or not raw:
            continue
        code, datatype = attr["code"], attr["datatype"]
        keys = {v["key"] for v in attr["values"]}
        if datatype == "multivaluelist":
            bad = [v for v in raw if v not in keys]
            if bad:
                raise ValidationFailed(f"attribute[{code}]: {bad[0][:50]!r} is not one of its values.")
            values[code] = list(dict.fromkeys(raw))
            continue
        if len(raw) > 1:
            raise ValidationFailed(f"attribute[{code}] takes one value, {len(raw)} were sent.")
        value = raw[0]
        if datatype == "singlevaluelist":
            if value not in keys:
                raise ValidationFailed(f"attribute[{code}]: {value[:50]!r} is not one of its values.")
            values[code] = value
        elif datatype == "number":
            try:
                number = float(value)
            except ValueError:
                raise ValidationFailed(f"attribute[{code}] must be a number.") from None
            if not math.isfinite(number):
                raise ValidationFailed(f"attribute[{code}] must be a finite number.")
            values[code] = number
        elif datatype == "datetime":
            if not _W3C.match(value):
                raise ValidationFailed(f"attribute[{code}] must be a W3C datetime with a time zone.")
            try:
                dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                raise ValidationFailed(f"attribute[{code}] is not a valid datetime.") from None
            values[code] = value
        else:
            values[code] = check_text(f"attribute[{code}]", value, MAX_TEXT_ATTRIBUTE)
    return values


def api_source_key(api_key: ApiKey, source_id: str) -> str:
    # Scoped per key: two clients numbering their own posts 1, 2, 3 must not collide.
    return f"k{api_key.id}:{source_id}"


def find_by_source(session: Session, api_key: ApiKey, source_id: str) -> Ticket | None:
    return session.scalar(select(Ticket).where(Ticket.api_source_id == api_source_key(api_key, source_id)))


def _attach_reporter(session: Session, ticket: Ticket, contact: Contact) -> None:
    external_id = contact.external_id()
    if external_id is None:
        return
    reporter = session.scalar(
        select(Reporter).where(Reporter.channel == API_CHANNEL, Reporter.external_id == external_id)
    )
    if reporter is None:
        reporter = Reporter(channel=API_CHANNEL, external_id=external_id)
        session.add(reporter)
    name = " ".join(p for p in (contact.first_name, contact.last_name) if p)
    reporter.handle = name or reporter.handle or ""
    reporter.email = contact.email or reporter.email
    reporter.phone = contact.phone or reporter.phone
    session.flush()
    # Open311 clients poll us; there is no thread to answer in, so the follower link is kept inactive
    # (it records who reported, and the outbox never tries to message the "open311" channel).
    session.add(Follower(ticket_id=ticket.id, reporter_id=reporter.id, channel=API_CHANNEL, active=False))
    session.flush()


def create_request(
    session: Session,
    api_key: ApiKey,
    new: NewRequest,
    *,
    bbox: tuple[float, float, float, float] | None = None,
    locate: Locator | None = None,
    now: dt.datetime | None = None,
) -> tuple[Ticket, bool]:
    """An open ticket from an Open311 POST; returns (ticket, created). A repeated source_id returns the first.

    Location: lat and long together, or an address text. An address text is geocoded by `locate` when the
    caller passes one and it finds the place; otherwise geocode_status stays "pending" for staff or a job.
    """
    if new.source_id:
        previous = find_by_source(session, api_key, new.source_id)
        if previous is not None:
            return previous, False
    service = get_public_service(session, new.service_code)
    check_text("description", new.description, MAX_DESCRIPTION)
    if (new.lat is None) != (new.lon is None):
        raise ValidationFailed("lat and long must be sent together.")
    if new.lat is None and not new.address_text.strip():
        raise ValidationFailed("A location is required: lat and long, address_string or address_id.")
    if new.lat is not None and new.lon is not None and bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        if not (min_lat <= new.lat <= max_lat and min_lon <= new.lon <= max_lon):
            raise ValidationFailed(f"The point {new.lat}, {new.lon} is outside this jurisdiction.")
    attributes = validate_attributes(service, new.attributes)
    draft = NewTicket(
        status=TicketStatus.OPEN,
        description=new.description.strip(),
        location_text=new.address_text.strip(),
        location=Location(new.lat, new.lon) if new.lat is not None and new.lon is not None else None,
        source_channel=API_CHANNEL,
        attributes=attributes,
        media_url=new.media_url or None,
        api_source_id=api_source_key(api_key, new.source_id) if new.source_id else None,
    )
    ticket = create_ticket(session, service, draft, actor_label=f"api:{api_key.id}", now=now or utcnow())
    if new.lat is None and locate is not None:
        _try_locate(ticket, new.address_text, locate)
    _attach_reporter(session, ticket, new.contact)
    log.info("open311: ticket %s created, key %s, geocode %s", ticket.id, api_key.id, ticket.geocode_status)
    return ticket, True


def _try_locate(ticket: Ticket, text: str, locate: Locator) -> None:
    # Best effort: the ticket already exists; a geocoder failure must not lose the request.
    try:
        hit = locate(text)
    except Exception:
        log.exception("open311: geocoding %r failed; ticket %s stays pending", text[:80], ticket.id)
        return
    if hit is None:
        return
    lat, lon, precision, confidence = hit
    set_ticket_location(ticket, Location(lat, lon, precision, confidence, address=text.strip()[:300]))


def is_duplicate_source(exc: IntegrityError) -> bool:
    """True when a concurrent retry already stored the same api_source_id (the unique constraint fired)."""
    return "api_source_id" in str(exc.orig) or "uq_tickets_api_source_id" in str(exc.orig)


# --------------------------------------------------------------------------------------------- addresses


@lru_cache(maxsize=4)
def _address_index(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return {
            row["address_id"].strip(): row["full_address"].strip()
            for row in csv.DictReader(fh)
            if row.get("address_id") and row.get("full_address")
        }


def address_for_id(addresses_csv: Path, address_id: str) -> str | None:
    """The text of an address_id from the city's master address list (then located like any address text)."""
    return _address_index(addresses_csv).get(address_id.strip())
