"""Open311 GeoReport v2 endpoints: discovery, services, requests (GET and POST), tokens; JSON and XML."""

from __future__ import annotations

import dataclasses
import json
import logging
from typing import Any

from flask import Response, current_app, request, url_for
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException

# Not through the package, whose __init__ imports this module for its routes: no import cycle.
import civictracker.web.open311.serializers as serializers  # noqa: PLR0402
import civictracker.web.open311.xml as xml  # noqa: PLR0402
from civictracker.citypack import CityPack
from civictracker.extensions import current_session
from civictracker.geo.reverse import place_name
from civictracker.jobs.locate import geocode_ticket
from civictracker.models import GeocodeStatus
from civictracker.models.types import utcnow
from civictracker.queue import enqueue_after_commit, get_queue
from civictracker.runtime import city_of, runtime_of, settings_of
from civictracker.services.errors import DomainError, NotFound, ValidationFailed
from civictracker.services.open311 import definitions, listing, posting
from civictracker.services.users import check_api_key
from civictracker.web.filters import city_zone
from civictracker.web.http_cache import cached_public
from civictracker.web.open311.blueprint import bp
from civictracker.web.open311.params import (
    Open311Error,
    is_service_code,
    parse_bool,
    parse_new_request,
    parse_request_id,
    parse_request_query,
)

log = logging.getLogger(__name__)

FORMATS = ("json", "xml")
CONTENT_TYPES = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
# An app may register a geocoder here (address text -> (lat, lon, precision, confidence) or None), tried
# during the POST; a ticket still pending afterwards is located by the geocode_ticket job (city gazetteer).
GEOCODER_EXTENSION = "civictracker.open311_geocoder"


# --------------------------------------------------------------------------------------------- plumbing


def _session() -> Session:
    return current_session()


def _pack() -> CityPack:
    return city_of(current_app)  # loaded once by the app factory


def _format_of_path() -> str:
    """The format an error should be written in: the path's suffix, JSON when it names neither."""
    suffix = request.path.rsplit(".", 1)[-1].lower() if "." in request.path.rsplit("/", 1)[-1] else ""
    return suffix if suffix in FORMATS else "json"


def respond(fmt: str, root: str, payload: Any, status: int = 200) -> Response:
    if fmt == "xml":
        body = xml.render(root, payload, serializers.ITEM_TAGS)
    else:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status=status, content_type=CONTENT_TYPES[fmt])


def error_response(status: int, description: str, fmt: str | None = None) -> Response:
    payload = serializers.errors([(status, description)])
    return respond(fmt or _format_of_path(), serializers.ROOT_ERRORS, payload, status)


@bp.before_request
def _check_format_and_jurisdiction() -> None:
    fmt = (request.view_args or {}).get("fmt")
    if fmt is not None and fmt not in FORMATS:
        raise Open311Error(404, f"Unknown format {fmt[:20]!r}: this API speaks .json and .xml.")
    jurisdiction = (request.values.get("jurisdiction_id") or "").strip()
    # A single-jurisdiction server may ignore the parameter; a wrong one is "unknown", hence 404.
    if jurisdiction and jurisdiction != _pack().jurisdiction_id:
        raise Open311Error(404, "Unknown jurisdiction_id; this server serves only one jurisdiction.")


@bp.errorhandler(Open311Error)
def _open311_error(exc: Open311Error) -> Response:
    _session().rollback()  # nothing a refused request touched is kept
    return error_response(exc.status, exc.description)


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Response:
    _session().rollback()
    return error_response(404, str(exc))


@bp.errorhandler(ValidationFailed)
@bp.errorhandler(DomainError)
def _invalid(exc: DomainError) -> Response:
    _session().rollback()
    return error_response(400, str(exc))


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException) -> Response:
    _session().rollback()
    code = exc.code or 400
    return error_response(code, exc.description or exc.name)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception) -> Response:
    log.error("open311: unhandled error on %s %s", request.method, request.path, exc_info=exc)
    _session().rollback()
    return error_response(500, "Internal error; the request was not processed.")


# --------------------------------------------------------------------------------------------- resources


@bp.get("/discovery.<fmt>")
def discovery(fmt: str) -> Response:
    pack, settings = _pack(), settings_of(current_app)
    payload = serializers.discovery(
        url=settings.public_url.rstrip("/") + "/open311/v2",
        contact=str(pack.meta.get("contact") or f"{pack.name} 311 ({settings.public_url})"),
        key_service="API keys are issued by the city's civictracker administrators (console, API keys page).",
        kind="test" if current_app.testing or current_app.debug else "production",
    )
    return respond(fmt, serializers.ROOT_DISCOVERY, payload)


@bp.get("/services.<fmt>")
def services(fmt: str) -> Response:
    return cached_public("open311-services", lambda: _services(fmt))


def _services(fmt: str) -> Response:
    rows = definitions.list_public_services(_session())
    payload = [serializers.service(s, has_attributes=bool(definitions.service_attributes(s))) for s in rows]
    return respond(fmt, serializers.ROOT_SERVICES, payload)


@bp.get("/services/<code>.<fmt>")
def service_definition(code: str, fmt: str) -> Response:
    return cached_public("open311-definition", lambda: _service_definition(code, fmt))


def _service_definition(code: str, fmt: str) -> Response:
    if not is_service_code(code):  # never sent to the database: PostgreSQL refuses NUL bytes, for one
        raise Open311Error(404, "No service with that service code.")
    service = definitions.get_public_service(_session(), code)
    payload = serializers.service_definition(service, definitions.service_attributes(service))
    return respond(fmt, serializers.ROOT_DEFINITION, payload)


@bp.get("/requests.<fmt>")
def list_requests(fmt: str) -> Response:
    # The default window is "the most recent 90 days": the answer moves with the clock as well as the data.
    return cached_public("open311-requests", lambda: _list_requests(fmt), clock=True)


def _list_requests(fmt: str) -> Response:
    query = parse_request_query(
        request.args, now=utcnow(), known_codes=lambda: definitions.public_service_codes(_session())
    )
    flt = query.flt
    if query.page is not None:
        flt = dataclasses.replace(flt, limit=flt.limit + 1)  # one more row says whether a next page exists
    rows = listing.search_requests(_session(), flt, with_notes=query.extensions)
    has_next = query.page is not None and len(rows) > query.flt.limit
    rows = rows[: query.flt.limit]
    payload = serializers.requests(rows, city_zone(), extensions=query.extensions)
    response = respond(fmt, serializers.ROOT_REQUESTS, payload)
    if query.page is not None:
        _link_pages(response, query.page, query.page_size, has_next)
    return response


def _link_pages(response: Response, page: int, size: int, has_next: bool) -> None:
    """RFC 8288 Link header naming the neighbouring pages (the body stays the spec's plain list)."""
    args: dict[str, Any] = {k: v for k, v in request.args.lists() if k not in ("page", "page_size")}
    args.update(request.view_args or {})

    def url(n: int) -> str:
        return url_for(str(request.endpoint), **args, page=n, page_size=size)

    links = [f'<{url(1)}>; rel="first"']
    if page > 1:
        links.append(f'<{url(page - 1)}>; rel="prev"')
    if has_next:
        links.append(f'<{url(page + 1)}>; rel="next"')
    response.headers["Link"] = ", ".join(links)
    response.headers["X-Page"], response.headers["X-Page-Size"] = str(page), str(size)


@bp.get("/requests/<rid>.<fmt>")
def get_request(rid: str, fmt: str) -> Response:
    return cached_public("open311-request", lambda: _get_request(rid, fmt))


def _get_request(rid: str, fmt: str) -> Response:
    ticket_id = parse_request_id(rid)
    if ticket_id is None:
        raise Open311Error(404, "No such service request.")
    extensions = parse_bool("extensions", request.args.get("extensions", ""))
    row = listing.get_request(_session(), ticket_id, with_notes=extensions)
    payload = serializers.requests([row], city_zone(), extensions=extensions)
    return respond(fmt, serializers.ROOT_REQUESTS, payload)


@bp.post("/requests.<fmt>")
def create_request(fmt: str) -> Response:
    session = _session()
    # The API key is the credential (the blueprint is CSRF-exempt): checked before anything is read.
    api_key = check_api_key(session, request.form.get("api_key"))
    if api_key is None:
        raise Open311Error(403, "api_key is missing or not valid.")
    pack = _pack()
    addresses_csv = pack.file(str((pack.meta.get("addresses") or {}).get("file", "addresses.csv")))
    new = parse_new_request(
        request.form,
        known_codes=definitions.public_service_codes(session),
        address_lookup=lambda address_id: posting.address_for_id(addresses_csv, address_id),
    )
    locate = current_app.extensions.get(GEOCODER_EXTENSION)
    try:
        ticket, created = posting.create_request(
            session, api_key, new, bbox=pack.bbox, locate=locate, name_point=_name_point
        )
        session.commit()
    except IntegrityError as exc:
        # Two retries racing with one source_id: the loser answers with the winner's id.
        session.rollback()
        existing = posting.find_by_source(session, api_key, new.source_id) if new.source_id else None
        if existing is None or not posting.is_duplicate_source(exc):
            raise
        ticket, created = existing, False
    if created:
        service = ticket.service
        notice = f"Thank you. {service.name} reports are usually handled within {service.sla_hours} hours."
        if ticket.geocode_status == GeocodeStatus.PENDING:
            notice += " The address is being located; city staff place it if it cannot be found."
    else:
        notice = "This request was already received (same source_id); no new request was created."
    payload = serializers.created(ticket.id, notice=notice, account_id=new.contact.account_id or None)
    response = respond(fmt, serializers.ROOT_REQUESTS, payload)  # 200, as the spec's example shows
    if created and ticket.geocode_status == GeocodeStatus.PENDING and ticket.lat is None:
        # After the commit and after the answer is built: an inline queue runs the job right here, and the
        # client is told "pending" either way (the job may not find the address).
        # Redis away: the ticket is stored, so the answer stays 200 and locate_pending_tickets finds it.
        queue = get_queue(current_app)
        enqueue_after_commit(
            current_app,
            "locate_pending_tickets locates it",
            lambda: queue.enqueue(geocode_ticket, ticket.id, job_id=f"geocode-{ticket.id}"),
        )
    return response


def _name_point(lat: float, lon: float) -> str | None:
    """The nearest corner or street of a point a client sent: its request then has an address."""
    return place_name(runtime_of(current_app).gazetteer(), lat, lon)


@bp.get("/tokens/<token>.<fmt>")
def token(token: str, fmt: str) -> Response:
    # Every service is realtime: POST returns the service_request_id at once and no token is ever issued.
    raise Open311Error(
        404, "Unknown token: this server issues no tokens; POST returns the service_request_id."
    )


@bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str) -> Response:
    """Anything else under the API answers in Open311's error shape (not the site's HTML page)."""
    adapter = current_app.url_map.bind("")
    allowed = []
    for method in ("GET", "POST"):
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except HTTPException:
            continue
        if endpoint != request.endpoint:  # a real resource, asked with the wrong method
            allowed.append(method)
    if allowed:
        response = error_response(405, f"{request.method} is not allowed here; use {', '.join(allowed)}.")
        response.headers["Allow"] = ", ".join(allowed)
        return response
    raise Open311Error(
        404, "No such resource. Resources: discovery, services, requests, tokens (.json, .xml)."
    )
