"""The words a reply fills in, in the resident's language: service names, places, dates in the city's zone.

Babel is not a dependency: the city pack's replies.json gives each language its few words (month and
weekday names, a date and a time pattern, how a corner and a block are said), and city.json gives each
service its name per language. Whatever a pack lacks falls back to its English, then to WORD_FALLBACK.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Mapping
from zoneinfo import ZoneInfo

WORD_FALLBACK = {
    "expected_by": "Expected by {date}.",
    "place_corner": "{a} & {b}",
    "place_between": "{street} between {a} and {b}",
    "months": "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec",
    "weekdays": "Mon Tue Wed Thu Fri Sat Sun",
    "date": "{weekday}, {month} {day}, {time}",
    "time": "{hour12}:{minute} {ampm}",
    "am_pm": "AM PM",
}
# Keys of a language's entry in replies.json that are words, not messages to send.
WORD_KEYS = frozenset(WORD_FALLBACK)
# How the geocoder writes a place (geo.corners): "A between B and C", "A & B" (and "A & B & C").
_BETWEEN_RE = re.compile(r"^(?P<street>.+?) between (?P<a>.+?) and (?P<b>.+)$")


def word(templates: Mapping[str, Mapping[str, str]], lang: str, key: str) -> str:
    """One of the language's words (see WORD_FALLBACK), else the pack's English, else the built-in one."""
    return (templates.get(lang) or {}).get(key) or (templates.get("en") or {}).get(key) or WORD_FALLBACK[key]


def _fill(template: str, **values: str) -> str:
    return " ".join(string.Formatter().vformat(template, (), values).split())


def service_label(names: Mapping[str, str], english: str, lang: str) -> str:
    """The service's name in `lang` from the pack (city.json services[].names), else in lower-case English."""
    return names.get(lang) or names.get("en") or english.lower()


def place_phrase(templates: Mapping[str, Mapping[str, str]], lang: str, place: str) -> str:
    """A place as the geocoder wrote it, its connecting words in `lang` (street names stay as they are)."""
    m = _BETWEEN_RE.match(place)
    if m:
        return _fill(word(templates, lang, "place_between"), street=m["street"], a=m["a"], b=m["b"])
    parts = place.split(" & ")
    if len(parts) >= 2:  # "A & B & C": the last two joined as a corner, the rest before them with commas
        corner = _fill(word(templates, lang, "place_corner"), a=parts[-2], b=parts[-1])
        return ", ".join([*parts[:-2], corner])
    return place


def format_when(
    templates: Mapping[str, Mapping[str, str]], lang: str, when: dt.datetime, timezone: str
) -> str:
    """A date and time in the city's zone, written the language's way ("vie 6 de dic, 14:13")."""
    local = when.astimezone(ZoneInfo(timezone))
    months = word(templates, lang, "months").split()
    weekdays = word(templates, lang, "weekdays").split()
    am_pm = [*word(templates, lang, "am_pm").split(), "", ""][:2]
    hour12 = local.hour % 12 or 12
    time = _fill(
        word(templates, lang, "time"),
        hour=str(local.hour),
        hour12=str(hour12),
        minute=f"{local.minute:02d}",
        ampm=am_pm[0] if local.hour < 12 else am_pm[1],
    )
    return _fill(
        word(templates, lang, "date"),
        weekday=weekdays[local.weekday()] if len(weekdays) == 7 else "",
        month=months[local.month - 1] if len(months) == 12 else str(local.month),
        day=str(local.day),
        time=time,
    )


def expected_sentence(
    templates: Mapping[str, Mapping[str, str]], lang: str, due: dt.datetime | None, timezone: str
) -> str:
    """ "Expected by Fri, Dec 6, 2:13 PM." in `lang`, from the ticket's SLA due time; "" without one."""
    if due is None:
        return ""
    return _fill(word(templates, lang, "expected_by"), date=format_when(templates, lang, due, timezone))
