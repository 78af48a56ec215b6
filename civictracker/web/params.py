"""Range checks every request value passes before it reaches the database: ids, numbers, dates, text.

One place, so no view can forget: ids in URLs go through the bounded `int` converter (an id PostgreSQL's
integer columns cannot hold matches no route: 404), query numbers through `whole_number` (400 naming the
parameter), and a request carrying a NUL anywhere in its query or form is refused (PostgreSQL cannot
store or even compare one; no browser form sends one).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from flask import Flask, abort, request
from werkzeug.routing import IntegerConverter
from werkzeug.routing import ValidationError as NoMatch
from wtforms.validators import NumberRange

MAX_DB_ID = 2**31 - 1  # INTEGER primary keys on PostgreSQL (and what SQLite rows will ever reach here)
MAX_DIGITS = 10  # len(str(MAX_DB_ID)); longer digit strings are refused before int() sees them
# Dates a request may name: wide enough for any real query, narrow enough that adding a 90-day window or
# moving to UTC never overflows Python's datetime (year 1 .. 9999).
EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


class BadParam(ValueError):
    """A request value out of range or malformed; the message names the parameter and what it must be."""


class DatabaseIdConverter(IntegerConverter):
    """`<int:...>` bounded to what an id column holds: /tickets/2147483648 is a 404, not a database error."""

    def __init__(self, map: object, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("max", MAX_DB_ID)
        super().__init__(map, *args, **kwargs)  # type: ignore[arg-type]

    def to_python(self, value: str) -> int:
        if len(value) > MAX_DIGITS:  # int() of 5,000 digits raises, and such an id cannot exist anyway
            raise NoMatch()
        return int(super().to_python(value))


def whole_number(name: str, raw: str, *, minimum: int = 0, maximum: int = MAX_DB_ID) -> int:
    """An ASCII whole number within minimum..maximum ("²" and "٣" are digits to str.isdigit, not to us)."""
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > MAX_DIGITS:
        raise BadParam(f"{name} must be a whole number from {minimum} to {maximum}.")
    value = int(text)
    if not minimum <= value <= maximum:
        raise BadParam(f"{name} must be a whole number from {minimum} to {maximum}.")
    return value


def decimal(name: str, raw: str, *, bound: float) -> float:
    """A finite decimal number within -bound..bound (a WGS84 degree: bound 90 or 180)."""
    try:
        value = float(raw.strip())
    except ValueError:
        raise BadParam(f"{name} must be a decimal number (WGS84 degrees).") from None
    if not math.isfinite(value) or abs(value) > bound:
        raise BadParam(f"{name} must be between -{bound:g} and {bound:g}.")
    return value


def is_db_id(value: int) -> bool:
    """Whether a row id could exist (an id beyond it matches nothing: callers answer 404 or skip it)."""
    return 0 <= value <= MAX_DB_ID


def check_date(name: str, value: dt.datetime) -> dt.datetime:
    """An aware datetime within EARLIEST..LATEST; BadParam naming the parameter otherwise."""
    if not EARLIEST <= value <= LATEST:
        raise BadParam(f"{name} must be between {EARLIEST.year} and {LATEST.year}.")
    return value


def has_nul(values: Iterable[str]) -> bool:
    return any("\x00" in value for value in values)


def _strings(items: Iterable[tuple[str, str]]) -> Iterable[str]:
    for key, value in items:
        yield key
        yield value


def _refuse_nul() -> None:
    """400 for a NUL in the query string or a form field (names included), before any view runs."""
    if has_nul(_strings(request.args.items(multi=True))):
        abort(400, description="The query string contains a NUL character.")
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data") and has_nul(
        _strings(request.form.items(multi=True))
    ):
        abort(400, description="A form field contains a NUL character.")


def register(app: Flask) -> None:
    """Install the bounded id converter (before any blueprint adds its rules) and the NUL check."""
    app.url_map.converters["int"] = DatabaseIdConverter
    app.before_request(_refuse_nul)


def form_id(minimum: int = 1) -> NumberRange:
    """WTForms validator for an id field: what an id column holds (a form may name 2**40 as a crew)."""
    return NumberRange(min=minimum, max=MAX_DB_ID)


def coerce_id(raw: object) -> int:
    """SelectMultipleField coerce for ids: ValueError (an invalid choice) beyond what a column holds."""
    value = int(str(raw))
    if not is_db_id(value):
        raise ValueError("not an id")
    return value
