"""Jinja filters and globals for people-facing pages: times in the city pack's time zone, the city's name."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app
from markupsafe import Markup, escape

from civictracker.runtime import city_of

# One place for every time format a person reads; %Z names the zone (EST/EDT) so no time is ambiguous.
FORMATS = {
    "long": "%b %-d, %Y, %-I:%M %p %Z",  # public pages: "Jan 15, 2026, 2:05 PM EST"
    "console": "%Y-%m-%d %H:%M %Z",  # staff tables: sortable at a glance, 24-hour
    "short": "%b %-d, %H:%M %Z",  # dense lists (threads, outbox): no year
    "date": "%Y-%m-%d",
}


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def city_zone(app: Flask | None = None) -> ZoneInfo:

    return _zone(city_of(app or current_app).timezone)


def to_city_time(value: dt.datetime, zone: ZoneInfo) -> dt.datetime:
    # Stored times are UTC; a naive one (a value built in Python, never read back) is UTC too.
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(zone)


def localtime(value: dt.datetime | None, fmt: str = "long", default: str = "—") -> str:
    """`{{ ticket.created_at|localtime("console") }}`: the time in the city's zone, in a named format."""
    if value is None:
        return default
    return to_city_time(value, city_zone()).strftime(FORMATS.get(fmt, fmt))


def timetag(value: dt.datetime | None, fmt: str = "long", default: str = "—") -> Markup:
    """A <time> element: ISO 8601 with the city's offset for machines, the city's local time for people."""
    if value is None:
        return escape(default)
    local = to_city_time(value, city_zone())
    text = local.strftime(FORMATS.get(fmt, fmt))
    iso = local.replace(microsecond=0).isoformat()
    return Markup('<time datetime="{}">{}</time>').format(iso, text)


def _city_context() -> dict[str, Any]:

    city = city_of(current_app)
    return {"city_name": city.short_name, "city_full_name": city.name, "city_timezone": city.timezone}


def register(app: Flask) -> None:
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(timetag, "timetag")
    # Every page (console included) names the city; a view may still pass its own city_name.
    app.context_processor(_city_context)
