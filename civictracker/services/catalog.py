"""The service catalog: loading a city pack's services into the database, and looking them up."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.models import Service

# Services whose problem spans a street rather than a point: dedupe by street segment, not radius.
STREET_WIDE_DEFAULT = {"snow_ice"}


def import_services(session: Session, services: list[dict[str, Any]]) -> tuple[int, int]:
    """Insert or update services by code; returns (created, updated). Codes not in the pack are kept."""
    existing = {s.code: s for s in session.scalars(select(Service))}
    created = updated = 0
    for spec in services:
        code = spec["service_code"]
        service = existing.get(code)
        if service is None:
            service = Service(code=code)
            session.add(service)
            created += 1
        else:
            updated += 1
        service.name = spec["service_name"]
        service.group = spec.get("group", "")
        service.description = spec.get("description", "")
        service.keywords = list(spec.get("keywords", []))
        service.sla_hours = int(spec.get("sla_hours", 72))
        service.public = bool(spec.get("public", True))
        service.street_wide = bool(spec.get("street_wide", code in STREET_WIDE_DEFAULT))
        service.dedupe_radius_m = spec.get("dedupe_radius_m")
        service.attributes = list(spec.get("attributes", []))
        service.active = bool(spec.get("active", True))
    session.flush()
    return created, updated


def get_service(session: Session, code: str) -> Service | None:
    return session.scalar(select(Service).where(Service.code == code))


def list_services(session: Session, *, public_only: bool = True) -> list[Service]:
    stmt = select(Service).where(Service.active.is_(True)).order_by(Service.group, Service.name)
    if public_only:
        stmt = stmt.where(Service.public.is_(True))
    return list(session.scalars(stmt))
