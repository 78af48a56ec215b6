"""Service: one category of request the city handles, exposed as an Open311 service."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from civictracker.extensions import db
from civictracker.models.types import UTCDateTime, utcnow


class Service(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "services"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    group: Mapped[str] = mapped_column(String(100), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    sla_hours: Mapped[int] = mapped_column(Integer, default=72)
    dedupe_radius_m: Mapped[float | None] = mapped_column(default=None)  # None: the configured default
    street_wide: Mapped[bool] = mapped_column(Boolean, default=False)  # e.g. snow_ice: dedupe per segment
    public: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Open311 service-definition attributes (list of dicts: code, datatype, required, order, values...).
    attributes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<Service {self.code}>"
