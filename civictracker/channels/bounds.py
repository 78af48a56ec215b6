"""Bounds an inbound post's fields meet before storage: the columns' sizes and what both databases take;
and the bound on what an adapter remembers of the ids it has seen."""

from __future__ import annotations

import datetime as dt
from typing import Any

MAX_ID_CHARS = 200  # inbound_posts' id columns are String(200)
MAX_LANG_CHARS = 8  # inbound_posts.lang is String(8)
MAX_RAW_CHARS = 20_000  # how much of a rejected input is kept for a person to read
# A post dated outside these is an error in the feed, not a post: dates near year 1 or 9999 overflow once
# moved to UTC, and neither database nor any platform has posts from then.
EARLIEST = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def _printable_id(value: str) -> bool:
    # NUL is refused by PostgreSQL; other control characters in an id are a sign of a broken producer.
    return value.isprintable() and "\x00" not in value


def check_id(value: object, field: str) -> str | None:
    """A platform or thread id as stored (str or int, printable, at most 200 characters); else ValueError."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(f"{field} must be a string or an integer")
    text = str(value)
    if len(text) > MAX_ID_CHARS:
        raise ValueError(f"{field} is longer than {MAX_ID_CHARS} characters")
    if not _printable_id(text):
        raise ValueError(f"{field} contains control characters")
    return text


def check_lang(value: object) -> str | None:
    """A language tag ("en", "pt-BR"): a string of 1-8 letters, digits or '-'; ValueError if not."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError("lang must be a string")
    if len(value) > MAX_LANG_CHARS or not all(c.isascii() and (c.isalnum() or c == "-") for c in value):
        raise ValueError(f"lang must be a language code of at most {MAX_LANG_CHARS} letters")
    return value


def lang_or_none(value: object) -> str | None:
    """A platform's language tag if it is one; anything else is dropped (a guess, never worth a lost post)."""
    try:
        return check_lang(value)
    except ValueError:
        return None


def id_or_none(value: object) -> str | None:
    """A platform's thread reference as stored, or None when it cannot be one (too long, control chars)."""
    try:
        return check_id(value, "id")
    except ValueError:
        return None


def check_time(value: dt.datetime, field: str) -> dt.datetime:
    """An aware UTC time within EARLIEST..LATEST; ValueError if not."""
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"{field} must be between {EARLIEST.year} and {LATEST.year}")
    return value


def time_or_now(value: object) -> dt.datetime:
    """A platform's ISO 8601 time in UTC; one that is missing, malformed or out of range is "now" (when we
    received it), so an odd date never costs the post."""
    try:
        if isinstance(value, dt.datetime):
            parsed = value
        elif isinstance(value, str) and value and len(value) <= 64:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        else:
            return dt.datetime.now(dt.UTC)
        parsed = parsed.astimezone(dt.UTC) if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
        return check_time(parsed, "time")
    except (ValueError, OverflowError):
        return dt.datetime.now(dt.UTC)


# Ids an adapter remembers per kind (engaged tweets, DMs it sent, authors): workers run for months.
ID_MEMORY = 10_000


def remember(memory: dict[str, Any], key: str, value: Any) -> None:
    """Keep key -> value in an insertion-ordered memory of at most ID_MEMORY entries, dropping the oldest."""
    memory[key] = value
    if len(memory) > ID_MEMORY:
        memory.pop(next(iter(memory)), None)
