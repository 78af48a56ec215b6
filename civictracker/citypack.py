"""Reading a city pack folder: its metadata, service catalog and reply templates, validated."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from civictracker.geo.lexicon import load_lexicon
from civictracker.geo.types import PackError

# The product's defaults a new pack is written from (`flask civictracker new-city`), and what a pack
# that lacks replies.json (or a language or a message in it) falls back to: a Spanish post in a city
# whose pack only has English templates is still answered in Spanish.
DEFAULTS_DIR = Path(__file__).with_name("citypack_defaults")
# The city's name in the default templates ("Thank you for helping keep {city} in good shape"); filled
# when a pack is written or loaded, never left for the reply composer (whose fields it is not one of).
CITY_MARK = "{city}"


class CityPackError(Exception):
    """The city pack is unusable; the message names the file and the field."""


@dataclass(frozen=True)
class CityPack:
    path: Path
    slug: str
    name: str
    short_name: str
    jurisdiction_id: str
    timezone: str
    bbox: tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat
    center: tuple[float, float]  # lat, lon
    services: list[dict[str, Any]]
    replies: dict[str, dict[str, str]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    # safety.json: {"contacts": {name: number}, "lines": {lang: {hazard kind: text}}}; {} when absent
    safety: dict[str, Any] = field(default_factory=dict)

    def file(self, name: str) -> Path:
        return self.path / name

    @property
    def demo_feed(self) -> Path:
        return self.path / "demo_feed.jsonl"


_REQUIRED = ("slug", "name", "timezone", "bbox", "services")
_SERVICE_REQUIRED = ("service_code", "service_name")


@lru_cache(maxsize=8)
def load_city_pack(path: Path) -> CityPack:
    meta_path = path / "city.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CityPackError(f"{meta_path} is missing; a city pack needs city.json.") from None
    except json.JSONDecodeError as exc:
        raise CityPackError(f"{meta_path} is not valid JSON: {exc}") from None
    missing = [k for k in _REQUIRED if k not in meta]
    if missing:
        raise CityPackError(f"{meta_path} lacks {', '.join(missing)}.")
    for i, svc in enumerate(meta["services"]):
        lacking = [k for k in _SERVICE_REQUIRED if not svc.get(k)]
        if lacking:
            raise CityPackError(f"{meta_path}: services[{i}] lacks {', '.join(lacking)}.")
    bbox = tuple(float(v) for v in meta["bbox"])
    if len(bbox) != 4 or bbox[0] >= bbox[2] or bbox[1] >= bbox[3]:
        raise CityPackError(f"{meta_path}: bbox must be [min_lon, min_lat, max_lon, max_lat].")
    replies: dict[str, dict[str, str]] = {}
    replies_path = path / "replies.json"
    if replies_path.is_file():
        try:
            replies = json.loads(replies_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise CityPackError(f"{replies_path} is not valid JSON: {exc}") from None
        if not isinstance(replies, dict) or not all(isinstance(v, dict) for v in replies.values()):
            raise CityPackError(f"{replies_path} must map a language to {{message kind: template}}.")
    replies = with_default_replies(replies, str(meta.get("short_name") or meta["name"]))
    safety = _load_safety(path / "safety.json")
    try:
        load_lexicon(path)  # language.json: checked at startup, not first at a post's geocode
    except PackError as exc:
        raise CityPackError(str(exc)) from None
    center = meta.get("center") or [(bbox[1] + bbox[3]) / 2, (bbox[0] + bbox[2]) / 2]
    return CityPack(
        path=path,
        slug=meta["slug"],
        name=meta["name"],
        short_name=meta.get("short_name", meta["name"]),
        jurisdiction_id=meta.get("jurisdiction_id", meta["slug"]),
        timezone=meta["timezone"],
        bbox=(bbox[0], bbox[1], bbox[2], bbox[3]),
        center=(float(center[0]), float(center[1])),
        services=list(meta["services"]),
        replies=replies,
        meta=meta,
        safety=safety,
    )


def default_replies(city_name: str) -> dict[str, dict[str, Any]]:
    """The product's reply templates per language, with the city's name written in."""
    raw = (DEFAULTS_DIR / "replies.json").read_text(encoding="utf-8").replace(CITY_MARK, city_name)
    return {lang: texts for lang, texts in json.loads(raw).items() if not lang.startswith("_")}


def with_default_replies(replies: dict[str, Any], city_name: str) -> dict[str, Any]:
    """The pack's templates, each language and message it lacks taken from the defaults (the pack's win)."""
    merged = {lang: dict(texts) for lang, texts in replies.items()}
    for lang, texts in default_replies(city_name).items():
        merged[lang] = {**texts, **merged.get(lang, {})}
    return merged


def _load_safety(path: Path) -> dict[str, Any]:
    """The pack's safety lines and emergency numbers, checked for shape; {} when the pack has none."""
    if not path.is_file():
        return {}
    try:
        safety = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise CityPackError(f"{path} is not valid JSON: {exc}") from None
    contacts, lines = safety.get("contacts", {}), safety.get("lines", {})
    if not isinstance(contacts, dict) or not all(isinstance(v, str) for v in contacts.values()):
        raise CityPackError(f"{path}: contacts must map names to phone numbers (text).")
    texts_by_kind = lines.values() if isinstance(lines, dict) else [None]
    if not all(
        isinstance(by_kind, dict) and all(isinstance(t, str) for t in by_kind.values())
        for by_kind in texts_by_kind
    ):
        raise CityPackError(f"{path}: lines must map a language to {{hazard kind: text}}.")
    return {"contacts": contacts, "lines": lines}
