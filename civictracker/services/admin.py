"""Administration: staff accounts, crews, the service catalog and Open311 keys, as edited by admins."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civictracker.geo import spatial
from civictracker.geo.gazetteer import Gazetteer
from civictracker.models import AdminAction, ApiKey, Crew, Role, Service, User
from civictracker.models.types import utcnow
from civictracker.models.values import Location
from civictracker.services.audit import record_admin_change
from civictracker.services.corrections import place_from_text
from civictracker.services.errors import DomainError, NotFound, ValidationFailed

log = logging.getLogger(__name__)
MAX_SLA_HOURS = 24 * 365


def update_user(
    session: Session, user: User, *, role: str, active: bool, crew_id: int | None, acting: User
) -> None:
    """Change a staff account's role, crew and whether it may log in."""
    if role not in {r.value for r in Role}:
        raise ValidationFailed(f"Role must be one of admin, dispatcher, crew; got {role!r}.")
    if user.id == acting.id and (role != Role.ADMIN.value or not active):
        raise DomainError("You cannot remove your own admin role or disable your own account.")
    if crew_id is not None and session.get(Crew, crew_id) is None:
        raise NotFound(f"No crew {crew_id}.")
    if role == Role.CREW.value and crew_id is None:
        raise ValidationFailed("A crew account needs a crew.")
    user.role = role
    user.active = active
    user.crew_id = crew_id
    session.flush()
    record_admin_change(
        session, acting, AdminAction.USER_UPDATED, user, {"role": role, "active": active, "crew_id": crew_id}
    )
    log.info("user %s updated by %s: role=%s active=%s", user.id, acting.id, role, active)


def _check_point(lat: float | None, lon: float | None) -> None:
    if (lat is None) != (lon is None):
        raise ValidationFailed("Give both latitude and longitude, or neither.")
    if lat is not None and lon is not None and not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationFailed(f"Coordinates out of range: lat={lat}, lon={lon}.")


def _services_by_code(session: Session, codes: Sequence[str]) -> list[Service]:
    wanted = {c.strip() for c in codes if c.strip()}
    found = list(session.scalars(select(Service).where(Service.code.in_(wanted)).order_by(Service.code)))
    unknown = wanted - {s.code for s in found}
    if unknown:
        raise ValidationFailed(f"Unknown service code(s): {', '.join(sorted(unknown))}.")
    return found


@dataclass(frozen=True)
class CrewChange:
    """What an admin sets on a crew: its name, skills (service codes), yard or location, availability."""

    name: str
    service_codes: Sequence[str] = ()
    lat: float | None = None
    lon: float | None = None
    available: bool = True
    active: bool = True
    base_address: str = ""


def locate_crew_base(gazetteer: Gazetteer, text: str) -> Location:
    """A crew's home base typed as an address or intersection, placed by the city's offline geocoder
    (never the remote fallback: a yard is a fixed place an admin can always click instead)."""
    return place_from_text(gazetteer, text, None)


def save_crew(session: Session, crew: Crew | None, change: CrewChange, *, acting: User | None) -> Crew:
    """Create (crew None) or update a crew: its skills (codes of the services it handles), its yard or
    current location and availability."""
    name = change.name.strip()
    if not name:
        raise ValidationFailed("A crew needs a name.")
    lat, lon = change.lat, change.lon
    _check_point(lat, lon)
    clash = session.scalar(
        select(func.count()).select_from(Crew).where(Crew.name == name, Crew.id != (crew.id if crew else -1))
    )
    if clash:
        raise ValidationFailed(f"A crew named {name!r} already exists.")
    action = AdminAction.CREW_UPDATED if crew is not None else AdminAction.CREW_CREATED
    if crew is None:
        crew = Crew(name=name)
        session.add(crew)
    crew.name = name
    crew.services = _services_by_code(session, change.service_codes)
    crew.available = change.available
    crew.active = change.active
    crew.base_address = change.base_address.strip()[:300] if lat is not None else ""
    if lat is not None and lon is not None and (lat, lon) != (crew.lat, crew.lon):
        crew.lat, crew.lon = lat, lon
        crew.location = spatial.point(lat, lon)
        crew.location_updated_at = utcnow()
    elif lat is None:
        crew.lat = crew.lon = crew.location = None
    session.flush()
    data = {
        "name": name,
        "services": sorted(s.code for s in crew.services),
        "lat": lat,
        "lon": lon,
        "available": change.available,
        "active": change.active,
        "base_address": crew.base_address,
    }
    record_admin_change(session, acting, action, crew, data)
    return crew


def update_service(
    session: Session,
    service: Service,
    *,
    name: str,
    sla_hours: int,
    active: bool,
    keywords: list[str],
    acting: User | None = None,
) -> None:
    """Edit what admins may change in the catalog; the code stays (Open311 clients key on it)."""
    name = name.strip()
    if not name:
        raise ValidationFailed("A service needs a name.")
    if not 1 <= sla_hours <= MAX_SLA_HOURS:
        raise ValidationFailed(f"SLA hours must be between 1 and {MAX_SLA_HOURS}.")
    service.name = name
    service.sla_hours = sla_hours
    service.active = active
    service.keywords = [k.strip().lower() for k in keywords if k.strip()]
    session.flush()
    data = {"name": service.name, "sla_hours": sla_hours, "active": active, "keywords": service.keywords}
    record_admin_change(session, acting, AdminAction.SERVICE_UPDATED, service, data)


def revoke_api_key(session: Session, key_id: int, *, acting: User | None = None) -> ApiKey:
    row = session.get(ApiKey, key_id)
    if row is None:
        raise NotFound(f"No API key {key_id}.")
    row.active = False
    session.flush()
    record_admin_change(session, acting, AdminAction.API_KEY_REVOKED, row, {"prefix": row.prefix})
    return row
