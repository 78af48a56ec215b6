"""Crew: a team the dispatchers send to tickets."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Boolean, String
from sqlalchemy.orm import Mapped, mapped_column

from civictracker.extensions import db
from civictracker.models.types import UTCDateTime, point_column_type, utcnow


class Crew(db.Model):  # type: ignore[name-defined,misc]
    __tablename__ = "crews"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    specialty: Mapped[str] = mapped_column(
        String(200), default=""
    )  # service codes it handles, comma-separated
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    available: Mapped[bool] = mapped_column(Boolean, default=True)
    location: Mapped[Any | None] = mapped_column(point_column_type(), nullable=True)
    lat: Mapped[float | None] = mapped_column(default=None)
    lon: Mapped[float | None] = mapped_column(default=None)
    location_updated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
