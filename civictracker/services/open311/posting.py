"""Open311 POST: validate a new request, store it as an open ticket with its reporter, once per source id."""

from __future__ import annotations

import csv
import datetime as dt
import logging
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civictracker.models import ApiKey, Follower, Reporter, Service, Ticket, TicketStatus
from civictracker.models.types import utcnow
from civictracker.models.values import Location
from civictracker.services.errors import ValidationFailed
from civictracker.services.open311 import API_CHANNEL
from civictracker.services.open311.definitions import get_public_service, service_attributes
from civictracker.services.tickets import Actor, NewTicket, create_ticket, set_ticket_location

log = logging.getLogger(__name__)

# A geocoder hook: address text -> (lat, lon, precision, confidence), or None when the place is not found.
Locator = Callable[[str], tuple[float, float, str, float] | None]

MAX_DESCRIPTION = 4000
MAX_TEXT_ATTRIBUTE = 4000
_W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})\Z")
# A reverse lookup hook: a point -> the nearest corner or street ("Hampshire St & Prospect St"), or None.
PointNamer = Callable[[float, float], str | None]
# "may contain line breaks, but not html": a tag opener is refused rather than stored and escaped later.
_MARKUP = re.compile(r"<\s*[A-Za-z/!?]")


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
    name_point: PointNamer | None = None,
    now: dt.datetime | None = None,
) -> tuple[Ticket, bool]:
    """An open ticket from an Open311 POST; returns (ticket, created). A repeated source_id returns the first.

    Location: lat and long together, or an address text. An address text is geocoded by `locate` when the
    caller passes one and it finds the place; otherwise geocode_status stays "pending" for staff or a job.
    A point is named by `name_point` (the nearest corner or street), so the request has an address.
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
        location=_point_location(new, name_point),
        source_channel=API_CHANNEL,
        attributes=attributes,
        media_url=new.media_url or None,
        api_source_id=api_source_key(api_key, new.source_id) if new.source_id else None,
    )
    ticket = create_ticket(
        session, service, draft, actor=Actor(label=f"api:{api_key.id}"), now=now or utcnow()
    )
    if new.lat is None and locate is not None:
        _try_locate(ticket, new.address_text, locate)
    _attach_reporter(session, ticket, new.contact)
    log.info("open311: ticket %s created, key %s, geocode %s", ticket.id, api_key.id, ticket.geocode_status)
    return ticket, True


def _point_location(new: NewRequest, name_point: PointNamer | None) -> Location | None:
    if new.lat is None or new.lon is None:
        return None
    name = name_point(new.lat, new.lon) if name_point is not None else None
    return Location(new.lat, new.lon, address=(name or "")[:300])


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
