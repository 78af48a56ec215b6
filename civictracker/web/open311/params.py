"""Parsing and checking Open311 query and form parameters; each refusal is an Open311Error with a message."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from werkzeug.datastructures import MultiDict

from civictracker.services.errors import ValidationFailed
from civictracker.services.open311.listing import EXPOSED_CLOSED, EXPOSED_OPEN, RequestFilter
from civictracker.services.open311.posting import Contact, NewRequest, check_text
from civictracker.web.params import BadParam, check_date, is_db_id, whole_number

# address_id -> the address text from the city's list, or None when unknown.
AddressLookup = Callable[[str], str | None]

# The spec's window and volume: "a span of 90 days or first 1000 requests returned, whichever is smallest"
# is the most a default answer may hold; a server may return less. Ours is the first page of the
# page/page_size extension (Chicago's numbers, 1-based pages): 50 requests (about 20 KiB of JSON), the
# next pages named in a Link header, so a storm of readers never pulls 1000 requests each.
WINDOW = dt.timedelta(days=90)
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
# GET requests near a point (lat, long, radius: FixMyStreet's and SeeClickFix's geo filter): metres.
DEFAULT_RADIUS_M = 500.0
MAX_RADIUS_M = 20_000
MAX_IDS = 1000

_W3C = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})\Z")
# An unescaped "+" in a query string arrives as a space: "...T00:00:00 05:00" means "+05:00".
_SPACE_OFFSET = re.compile(r" (\d{2}:\d{2})\Z")
_ID = re.compile(r"^(?:CT-)?(\d{1,18})\Z", re.IGNORECASE)
_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}\Z")
_ATTRIBUTE = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?\Z")
_EMAIL = re.compile(r"^[^@\s<>]{1,64}@[^@\s<>]{1,190}\.[^@\s<>]{1,63}\Z")
_PHONE = re.compile(r"^[0-9+()./ -]{3,50}\Z")
_URL = re.compile(r"^https?://[^\s<>\"']{1,490}\Z")
_TOKENISH = re.compile(r"^[A-Za-z0-9_.:@/+=-]{1,150}\Z")


class Open311Error(Exception):
    """A request the API refuses: HTTP status (400, 403, 404) and a description for the error body."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def bad(description: str) -> Open311Error:
    return Open311Error(400, description)


def _arg(args: Mapping[str, str], name: str) -> str:
    # "the response should be the same whether a parameter is passed and is empty or is not passed at all"
    return (args.get(name) or "").strip()


def parse_datetime(name: str, raw: str) -> dt.datetime:
    """A W3C datetime; the time zone is required by the spec, so a naive one is refused."""
    value = _SPACE_OFFSET.sub(r"+\1", raw.strip())
    if not _W3C.match(value):
        raise bad(f"{name} must be a W3C datetime with a time zone, such as 2026-11-23T14:05:00-05:00.")
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(dt.UTC)
    except (ValueError, OverflowError):  # 0001-01-01T00:00:00+05:00 overflows once in UTC
        raise bad(f"{name} is not a valid date and time.") from None
    try:  # bounded, so the 90-day window around it never overflows (9999-12-31 + 90 days)
        return check_date(name, parsed)
    except BadParam as exc:
        raise bad(str(exc)) from None


def _optional_datetime(args: Mapping[str, str], name: str) -> dt.datetime | None:
    raw = _arg(args, name)
    return parse_datetime(name, raw) if raw else None


def parse_list(raw: str) -> list[str]:
    return [part.strip() for part in raw.split(",") if part.strip()]


def parse_ids(raw: str) -> list[int]:
    parts = parse_list(raw)
    if len(parts) > MAX_IDS:
        raise bad(f"service_request_id accepts at most {MAX_IDS} ids.")
    ids: list[int] = []
    for part in parts:
        match = _ID.match(part)
        if match is None:
            raise bad("service_request_id must be a comma-separated list of service request ids.")
        value = int(match.group(1))
        if is_db_id(value):  # a larger id cannot exist: it matches nothing, like any unknown id
            ids.append(value)
    return ids


def parse_request_id(raw: str) -> int | None:
    """The id in /requests/{id}; None when it cannot be one of ours (the caller answers 404)."""
    match = _ID.match(raw.strip())
    value = int(match.group(1)) if match else None
    return value if value is not None and is_db_id(value) else None


def is_service_code(raw: str) -> bool:
    return _CODE.match(raw) is not None


def check_service_code(raw: str) -> str:
    if not _CODE.match(raw):
        raise bad("service_code must be a service code from the service list.")
    return raw


def parse_bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("", "false", "0"):
        return False
    if lowered in ("true", "1"):
        return True
    raise bad(f"{name} must be true or false.")


def _positive_int(name: str, raw: str, maximum: int = 1_000_000) -> int:
    try:  # ASCII digits only: "²".isdigit() is True but int("²") fails
        return whole_number(name, raw, minimum=1, maximum=maximum)
    except BadParam as exc:
        raise bad(str(exc)) from None


@dataclass(frozen=True)
class RequestQuery:
    flt: RequestFilter
    extensions: bool
    page: int | None = None  # None: service_request_id asked for, no paging
    page_size: int = DEFAULT_PAGE_SIZE


def parse_request_query(
    args: Mapping[str, str], *, now: dt.datetime, known_codes: Callable[[], set[str]]
) -> RequestQuery:
    """GET /requests parameters -> a filter; the spec's defaults (90 days, 1000 results) applied here."""
    extensions = parse_bool("extensions", _arg(args, "extensions"))
    raw_ids = _arg(args, "service_request_id")
    if raw_ids:
        # "This overrides all other arguments": no dates, status, codes or paging apply.
        ids = parse_ids(raw_ids)
        return RequestQuery(RequestFilter(ids=ids, limit=len(ids)), extensions)

    codes = parse_list(_arg(args, "service_code"))
    known = known_codes() if codes else set()
    for code in codes:
        if code not in known:
            raise bad(f"service_code {check_service_code(code)!r} is not in the service list.")

    statuses: set[str] | None = None
    raw_status = parse_list(_arg(args, "status").lower())
    if raw_status:
        statuses = set()
        for status in raw_status:
            if status == "open":
                statuses |= EXPOSED_OPEN
            elif status == "closed":
                statuses |= EXPOSED_CLOSED
            else:
                raise bad("status must be open, closed, or both separated by a comma.")

    start = _optional_datetime(args, "start_date")
    end = _optional_datetime(args, "end_date")
    updated_after = _optional_datetime(args, "updated_after")
    updated_before = _optional_datetime(args, "updated_before")
    if start and end and start > end:
        raise bad("start_date must not be after end_date.")
    if updated_after and updated_before and updated_after > updated_before:
        raise bad("updated_after must not be after updated_before.")
    if start and end and end - start > WINDOW:
        raise bad("start_date and end_date may not span more than 90 days.")
    if start is None and end is None:
        if updated_after is None and updated_before is None:
            start, end = now - WINDOW, None  # "the range defaults to most recent 90 days"
    elif start is None and end is not None:
        start = end - WINDOW
    elif end is None and start is not None:
        end = start + WINDOW

    raw_page, raw_size = _arg(args, "page"), _arg(args, "page_size")
    page = _positive_int("page", raw_page) if raw_page else 1
    size = _positive_int("page_size", raw_size, MAX_PAGE_SIZE) if raw_size else DEFAULT_PAGE_SIZE
    limit, offset = size, (page - 1) * size
    flt = RequestFilter(
        near=parse_near(args),
        service_codes=codes or None,
        statuses=frozenset(statuses) if statuses is not None else None,
        start=start,
        end=end,
        updated_after=updated_after,
        updated_before=updated_before,
        limit=limit,
        offset=offset,
    )
    return RequestQuery(flt, extensions, page=page, page_size=size)


def parse_near(args: Mapping[str, str]) -> tuple[float, float, float] | None:
    """lat, long and radius (metres) -> the circle requests must lie in; None when no point is given."""
    raw_lat, raw_lon, raw_radius = _arg(args, "lat"), _arg(args, "long"), _arg(args, "radius")
    if bool(raw_lat) != bool(raw_lon):
        raise bad("lat and long must be sent together.")
    if not raw_lat:
        if raw_radius:
            raise bad("radius needs lat and long.")
        return None
    radius = float(_positive_int("radius", raw_radius, MAX_RADIUS_M)) if raw_radius else DEFAULT_RADIUS_M
    return _coordinate("lat", raw_lat, 90), _coordinate("long", raw_lon, 180), radius


def _field(form: Mapping[str, str], name: str, limit: int) -> str:
    value = _arg(form, name)
    try:
        return check_text(name, value, limit)
    except ValidationFailed as exc:
        raise bad(str(exc)) from None


def _coordinate(name: str, raw: str, bound: float) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise bad(f"{name} must be a decimal number (WGS84 degrees).") from None
    if not math.isfinite(value) or abs(value) > bound:
        raise bad(f"{name} must be between -{bound:g} and {bound:g}.")
    return value


def parse_attributes(form: MultiDict[str, str]) -> dict[str, list[str]]:
    """attribute[code]=v and attribute[code][]=v1&attribute[code][]=v2 -> {code: [values]}."""
    values: dict[str, list[str]] = {}
    for key in form:
        match = _ATTRIBUTE.match(key)
        if match is None:
            continue
        values.setdefault(match.group(1), []).extend(form.getlist(key))
    return values


def parse_new_request(
    form: MultiDict[str, str], *, known_codes: set[str], address_lookup: AddressLookup
) -> NewRequest:
    """POST /requests form -> NewRequest; location and contact checked here, attributes in the service."""
    code = _arg(form, "service_code")
    if not code:
        raise bad("service_code is required.")
    if code not in known_codes:
        raise Open311Error(404, "service_code is not in the service list.")
    raw_lat, raw_lon = _arg(form, "lat"), _arg(form, "long")
    if bool(raw_lat) != bool(raw_lon):
        raise bad("lat and long must be sent together.")
    lat = _coordinate("lat", raw_lat, 90) if raw_lat else None
    lon = _coordinate("long", raw_lon, 180) if raw_lon else None
    address = _field(form, "address_string", 300)
    address_id = _field(form, "address_id", 50)
    if address_id and not address:
        found = address_lookup(address_id)
        if found is None:
            raise bad("address_id is not in the city's address list.")
        address = found
    if lat is None and not address:
        raise bad("A location is required: lat and long, address_string or address_id.")

    media_url = _field(form, "media_url", 500)
    if media_url and not _URL.match(media_url):
        raise bad("media_url must be an http or https URL.")
    source_id = _field(form, "source_id", 150)
    if source_id and not _TOKENISH.match(source_id):
        raise bad("source_id may contain only letters, digits and _ . : @ / + = -.")
    email = _field(form, "email", 254)
    if email and not _EMAIL.match(email):
        raise bad("email is not an e-mail address.")
    phone = _field(form, "phone", 50)
    if phone and not _PHONE.match(phone):
        raise bad("phone may contain only digits, spaces and + ( ) . / -.")
    contact = Contact(
        email=email,
        phone=phone,
        first_name=_field(form, "first_name", 100),
        last_name=_field(form, "last_name", 100),
        device_id=_field(form, "device_id", 200),
        account_id=_field(form, "account_id", 200),
    )
    description = form.get("description") or ""  # line breaks are kept: not stripped per line
    return NewRequest(
        service_code=code,
        lat=lat,
        lon=lon,
        address_text=address,
        description=description,
        attributes=parse_attributes(form),
        media_url=media_url or None,
        source_id=source_id or None,
        contact=contact,
    )
