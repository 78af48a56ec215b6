"""Open311 GeoReport v2 shapes: the only module that knows Open311 field names; builds dicts and lists."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from civictracker.models import Service
from civictracker.services.open311.listing import PublicNote, PublicRequest

SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
# When this API's documents last changed shape (discovery's "changeset").
CHANGESET = "2026-01-15T00:00:00Z"
FORMATS = ["text/xml", "application/json"]

# XML roots per resource, and the singular child tag of each plural wrapper (the Spark convention).
ROOT_DISCOVERY = "discovery"
ROOT_SERVICES = "services"
ROOT_DEFINITION = "service_definition"
ROOT_REQUESTS = "service_requests"
ROOT_ERRORS = "errors"
ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "attributes": "attribute",
    "values": "value",
    "errors": "error",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
}

# Our source channels as the Chicago/Boston `channel` extension names them; others pass through unchanged.
CHANNELS = {
    "x_mention": "twitter_mention",
    "x_reply": "twitter_mention",
    "x_dm": "twitter_dm",
    "open311": "api",
    "api": "api",
    "web": "web",
}
_NOTE_SUMMARY = {"opened": "Request opened", "closed": "Request closed", "activity": "Request updated"}


def w3c(value: dt.datetime | None, tz: ZoneInfo) -> str | None:
    """2026-11-23T14:05:00-05:00: the city's local time with its offset, whole seconds (like FixMyStreet)."""
    if value is None:
        return None
    return value.astimezone(tz).isoformat(timespec="seconds")  # drops microseconds without a replace()


def errors(items: Iterable[tuple[int, str]]) -> list[dict[str, Any]]:
    return [{"code": code, "description": description} for code, description in items]


def discovery(*, url: str, contact: str, key_service: str, kind: str) -> dict[str, Any]:
    return {
        "changeset": CHANGESET,
        "contact": contact,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": url,
                "changeset": CHANGESET,
                "type": kind,
                "formats": list(FORMATS),
            }
        ],
    }


def service(svc: Service, *, has_attributes: bool) -> dict[str, Any]:
    return {
        "service_code": svc.code,
        "service_name": svc.name,
        "description": svc.description or "",
        "metadata": has_attributes,
        "type": "realtime",  # the ticket id is returned by the POST itself
        "keywords": ",".join(svc.keywords or []),
        "group": svc.group or "",
    }


def service_definition(svc: Service, attributes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """From normalized attribute definitions (services.open311.definitions.service_attributes)."""
    return {
        "service_code": svc.code,
        "attributes": [
            {
                "variable": a["variable"],
                "code": a["code"],
                "datatype": a["datatype"],
                "required": a["required"],
                "datatype_description": a["datatype_description"],
                "order": a["order"],
                "description": a["description"],
                "values": [{"key": v["key"], "name": v["name"]} for v in a["values"]],
            }
            for a in attributes
        ],
    }


def _note(note: PublicNote, tz: ZoneInfo) -> dict[str, Any]:
    return {
        "datetime": w3c(note.at, tz),
        "summary": _NOTE_SUMMARY.get(note.kind, "Request updated"),
        "description": note.note,
        "type": note.kind,
    }


def request(req: PublicRequest, tz: ZoneInfo, *, extensions: bool = False) -> dict[str, Any]:
    # "For requests with status=closed, this will be the date the request was closed".
    updated = req.closed_at if req.is_closed and req.closed_at is not None else req.updated_at
    out: dict[str, Any] = {
        "service_request_id": str(req.id),
        "status": "closed" if req.is_closed else "open",
        "status_notes": req.status_note,
        "service_name": req.service_name,
        "service_code": req.service_code,
        "description": req.text,
        "requested_datetime": w3c(req.created_at, tz),
        "updated_datetime": w3c(updated, tz),
    }
    if not req.is_closed and req.due_at is not None:
        out["expected_datetime"] = w3c(req.due_at, tz)
    out.update(
        {
            "address": req.address,
            "address_id": "",
            "zipcode": "",
            "lat": req.lat,
            "long": req.lon,
            "media_url": req.media_url or "",
        }
    )
    if extensions:
        out["extended_attributes"] = {
            "channel": CHANNELS.get(req.channel, req.channel),
            "status": req.status,  # the fine state behind open/closed
            "duplicate": req.duplicate_of_id is not None,
            "parent_service_request_id": str(req.duplicate_of_id)
            if req.duplicate_of_id is not None
            else None,
        }
        out["notes"] = [_note(n, tz) for n in req.notes]
    return out


def requests(
    reqs: Sequence[PublicRequest], tz: ZoneInfo, *, extensions: bool = False
) -> list[dict[str, Any]]:
    return [request(r, tz, extensions=extensions) for r in reqs]


def created(service_request_id: int, *, notice: str, account_id: str | None) -> list[dict[str, Any]]:
    # A realtime service: the id and never a token ("must not be present when a token is returned").
    return [
        {
            "service_request_id": str(service_request_id),
            "service_notice": notice,
            "account_id": account_id or None,
        }
    ]
