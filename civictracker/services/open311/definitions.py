"""Open311 service definitions: the public services and their attributes, normalized."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.models import Service
from civictracker.services.errors import NotFound

log = logging.getLogger(__name__)

LIST_DATATYPES = frozenset({"singlevaluelist", "multivaluelist"})
DATATYPES = frozenset({"string", "number", "datetime", "text"}) | LIST_DATATYPES


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
