"""The one schema a replay feed line must meet: JSON, typed, bounded; else a ValueError saying why."""

from __future__ import annotations

import datetime as dt
import json
import math
from typing import Any

from civictracker.channels.base import IncomingPost
from civictracker.channels.bounds import check_id, check_lang, check_time

KINDS = ("mention", "dm", "reply")
MAX_LINE_CHARS = 100_000  # a post is at most a few thousand characters; the rest is a broken producer
MAX_DEPTH = 16  # the format is flat ({"geo": {...}} is depth 2); deep nesting only exhausts the parser
MAX_OFFSET_S = 10 * 365 * 86400  # a living demo longer than ten years is a typo
MAX_TEXT_CHARS = MAX_LINE_CHARS  # longer texts are kept, truncated and flagged, when stored


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _finite(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ValueError(f"number {literal[:20]} is out of range")
    return value


def _depth(value: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        stack.extend((child, depth + 1) for child in children)
    return deepest


def load_object(line: str) -> dict[str, Any]:
    """The line as a JSON object, refusing what would exhaust or poison what follows (NaN, 1e999, depth)."""
    if len(line) > MAX_LINE_CHARS:
        raise ValueError(f"line longer than {MAX_LINE_CHARS} characters")
    # Nesting deeper than MAX_DEPTH is refused before parsing: it is what exhausts the parser's stack.
    if line.count("[") + line.count("{") > MAX_DEPTH and _bracket_depth(line) > MAX_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        data = json.loads(line, parse_constant=_no_constant, parse_float=_finite)
    except RecursionError as exc:  # pragma: no cover - _bracket_depth refuses these first
        raise ValueError("JSON nested too deeply") from exc
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if _depth(data) > MAX_DEPTH:
        raise ValueError(f"JSON nested deeper than {MAX_DEPTH} levels")
    return data


def _bracket_depth(line: str) -> int:
    """Deepest bracket nesting outside JSON strings (a scan, so a hostile line cannot recurse)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in line:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _string(
    data: dict[str, Any], key: str, *, required: bool = False, max_chars: int = 200, nul_ok: bool = False
) -> str | None:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise ValueError(f"missing {key!r}")
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string")
    if len(value) > max_chars:
        raise ValueError(f"{key} is longer than {max_chars} characters")
    if "\x00" in value and not nul_ok:  # a text's NUL is replaced when stored; a name's is an error
        raise ValueError(f"{key} contains a NUL character")
    return value


def _offset(data: dict[str, Any]) -> float:
    offset = data.get("offset_s", 0) or 0
    if isinstance(offset, bool) or not isinstance(offset, int | float):
        raise ValueError("offset_s must be a number >= 0")
    # an int is compared before any float conversion: a 400-digit one would overflow it
    if not 0 <= offset <= MAX_OFFSET_S:
        raise ValueError(f"offset_s must be between 0 and {MAX_OFFSET_S}")
    return float(offset)


def _geo(data: dict[str, Any]) -> tuple[float | None, float | None]:
    geo = data.get("geo")
    if geo is None:
        return None, None
    if not isinstance(geo, dict):
        raise ValueError("geo must be {lat, lon} or null")
    lat, lon = geo.get("lat"), geo.get("lon")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)):
        raise ValueError("geo.lat and geo.lon must be numbers")
    assert isinstance(lat, int | float) and isinstance(lon, int | float)  # narrowed by the check above
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValueError("geo out of range")
    return float(lat), float(lon)


def _created(data: dict[str, Any], offset: float, base_time: float | None) -> dt.datetime:
    if base_time is not None:
        return check_time(dt.datetime.fromtimestamp(base_time + offset, dt.UTC), "offset_s")
    raw = data.get("created_at")
    if raw is None or raw == "":
        return dt.datetime.now(dt.UTC)
    if not isinstance(raw, str) or len(raw) > 64:
        raise ValueError("created_at must be an ISO 8601 string")
    try:
        created = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
        created = created.astimezone(dt.UTC) if created.tzinfo else created.replace(tzinfo=dt.UTC)
    except (ValueError, OverflowError) as exc:  # 9999-12-31T23:59:59-05:00 overflows once in UTC
        raise ValueError(f"created_at: {exc}") from exc
    return check_time(created, "created_at")


def parse_line(line: str, *, base_time: float | None) -> IncomingPost:
    """One feed line to an IncomingPost; ValueError says what is wrong with it (docs/replay-format.md)."""
    data = load_object(line)
    external_id = check_id(data.get("id"), "id")
    if external_id is None:
        raise ValueError("missing 'id'")
    kind = data.get("kind")
    if kind in (None, ""):
        raise ValueError("missing 'kind'")
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {str(kind)[:40]!r}")
    text = _string(data, "text", required=True, max_chars=MAX_TEXT_CHARS, nul_ok=True)
    assert text is not None  # required
    author_id = check_id(data.get("author_id"), "author_id")
    handle = _string(data, "author_handle")
    if not (author_id or handle):
        raise ValueError("needs author_id or author_handle")
    if handle is not None and not handle.isprintable():
        raise ValueError("author_handle contains control characters")
    offset = _offset(data)
    lat, lon = _geo(data)
    return IncomingPost(
        channel="replay",
        external_id=external_id,
        kind=kind,
        author_id=author_id or str(handle),
        author_handle=handle or str(author_id),
        text=text,
        created_at=_created(data, offset, base_time),
        conversation_id=check_id(data.get("conversation_id"), "conversation_id"),
        in_reply_to_id=check_id(data.get("in_reply_to"), "in_reply_to"),
        lat=lat,
        lon=lon,
        lang=check_lang(data.get("lang")),
        raw=data,
    )
