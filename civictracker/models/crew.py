"""Crew: a team the dispatchers send to tickets, and the services it is skilled for."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import Boolean, Column, ForeignKey, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from civictracker.extensions import db
from civictracker.models.types import UTCDateTime, point_column_type, utcnow

if TYPE_CHECKING:
    from civictracker.models.service import Service

# Which services a crew handles: a pothole goes to a streets crew before a nearer sewer crew.
crew_services = Table(
    "crew_services",
    db.metadata,
    Column("crew_id", ForeignKey("crews.id", ondelete="CASCADE"), primary_key=True),
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Crew(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "crews"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    location: Mapped[Any | None] = mapped_column(point_column_type(), nullable=True)
    lat: Mapped[float | None] = mapped_column(default=None)
    lon: Mapped[float | None] = mapped_column(default=None)
    location_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    # The home base (yard) as the admin typed it or the map named it; "" for a point clicked on the map.
    base_address: Mapped[str] = mapped_column(String(300), default="", server_default="")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    services: Mapped[list[Service]] = relationship(secondary=crew_services, order_by="Service.code")

    @property
    def service_codes(self) -> list[str]:
        """The codes of the services it handles, sorted (the admin form and the console show these)."""
        return [s.code for s in self.services]
