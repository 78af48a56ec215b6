"""Writing a complete city pack from a city's street data (`flask civictracker new-city`), and checking it."""

from __future__ import annotations

import json
import random
import re
import shutil
import tempfile
import time
import unicodedata
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civictracker.citypack import CITY_MARK, DEFAULTS_DIR, CityPackError, default_replies
from civictracker.geo.gazetteer import Gazetteer
from civictracker.geo.geocode import distance_m, geocode_text
from civictracker.geo.lexicon import LANGUAGE_FILE
from civictracker.geo.pack_loader import build_from_pack, read_street_file
from civictracker.geo.types import PackError, SegmentRecord

# Street files by how their name ends; anything else is refused with the list.
_FORMATS = {
    ".osm": "osm",
    ".pbf": "osm",
    ".bz2": "osm",
    ".geojson": "geojson",
    ".json": "geojson",
    ".csv": "csv_wkt",
}
# A pack's bbox reaches this far past its outermost street (degrees, ~100 m): posts geotagged at the edge
# still land inside.
_BBOX_MARGIN = 0.001
# The round-trip check geocodes at most this many intersections ("A and B"), a fixed sample: a big city's
# pack is checked in seconds.
CHECK_SAMPLE = 2000
CHECK_RADIUS_M = 30.0


@dataclass(frozen=True)
class NewCity:
    """What an admin gives `new-city`: the name, the street file and what the data cannot tell."""

    name: str
    streets: Path
    timezone: str
    out_dir: Path
    languages: tuple[str, ...] = ("en", "es", "pt", "ht")
    boundary: Path | None = None
    emergency: str = "911"
    slug: str = ""
    name_field: str = "name"
    geometry_field: str = "wkt"


@dataclass
class PackReport:
    """What the written pack holds and what an admin must still add."""

    path: Path
    seconds: float
    streets: int
    segments: int
    intersections: int
    places: int
    addresses: int
    boundary: str
    languages: list[str]
    gazetteer: Gazetteer = field(repr=False)  # built from the written pack: what the round-trip check reads
    missing: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RoundTrip:
    """How many intersections geocode back to where they are when written "A and B"."""

    tried: int
    within: int
    misses: list[str]

    @property
    def share(self) -> float:
        return self.within / self.tried if self.tried else 0.0


def slug_of(name: str) -> str:
    """ "Oakland, CA" -> "oakland_ca": the pack's folder and jurisdiction id."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", ascii_name.lower()).strip("_")


def write_city_pack(spec: NewCity, *, force: bool = False) -> PackReport:
    """Write the pack into spec.out_dir (built in a temporary folder first: a failure changes nothing)."""
    started = time.perf_counter()
    fmt = _check_inputs(spec, force)
    segments = _read_streets(spec, fmt)
    spec.out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=spec.out_dir.parent, prefix=".new-city-"))
    try:
        city = _city_json(spec, fmt, segments)
        _copy_inputs(spec, tmp, city)
        (tmp / "city.json").write_text(json.dumps(city, ensure_ascii=False, indent=2) + "\n", "utf-8")
        languages = _write_templates(spec, tmp, str(city["short_name"]))
        # The street words of every language the product knows: the pack's to edit, extend or prune.
        shutil.copyfile(DEFAULTS_DIR / LANGUAGE_FILE, tmp / LANGUAGE_FILE)
        gz = build_from_pack(tmp)  # proves the pack loads, and counts what it found
    except PackError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise CityPackError(str(exc)) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if spec.out_dir.exists():
        shutil.rmtree(spec.out_dir)
    tmp.rename(spec.out_dir)
    return PackReport(
        path=spec.out_dir.resolve(),
        seconds=time.perf_counter() - started,
        streets=len(gz.streets),
        segments=len(gz.segments),
        intersections=len(gz.junctions),
        places=len(gz.places),
        addresses=sum(len(numbers) for numbers in gz.addresses.values()),
        boundary=gz.boundary_source or "none",
        languages=languages,
        gazetteer=gz,
        missing=_missing(spec, fmt, gz, languages),
    )


def check_round_trip(
    gz: Gazetteer, sample: int = CHECK_SAMPLE, radius_m: float = CHECK_RADIUS_M, form: str = "{a} and {b}"
) -> RoundTrip:
    """Geocode "A and B" (or another form: "Ecke {a} und {b}") for (a fixed sample of) the pack's
    intersections; count those within radius_m."""
    pairs = sorted(gz.junctions)
    if len(pairs) > sample:
        pairs = random.Random(0).sample(pairs, sample)  # a reproducible sample
    within, misses = 0, []
    for a, b in pairs:
        text = form.format(a=a, b=b)
        res = geocode_text(gz, text)
        near = (
            res.lat is not None
            and res.lon is not None
            and any(distance_m((res.lon, res.lat), (j.lon, j.lat)) <= radius_m for j in gz.junctions[(a, b)])
        )
        within += near
        if not near:
            misses.append(f"{text}: {res.matched or res.reason or 'not found'}")
    return RoundTrip(len(pairs), within, misses)


def _check_inputs(spec: NewCity, force: bool) -> str:
    if not spec.name.strip():
        raise CityPackError("The city needs a name.")
    if not spec.streets.is_file():
        raise CityPackError(f"{spec.streets} does not exist.")
    fmt = _FORMATS.get(spec.streets.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_FORMATS))
        raise CityPackError(f"{spec.streets.name}: unknown street file type; use one of {known}.")
    try:
        zoneinfo.ZoneInfo(spec.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CityPackError(
            f"--timezone {spec.timezone!r} is not a time zone; use an IANA name such as America/Los_Angeles."
        ) from None
    if spec.boundary is not None and not spec.boundary.is_file():
        raise CityPackError(f"{spec.boundary} does not exist.")
    if spec.out_dir.exists() and not force:
        raise CityPackError(f"{spec.out_dir} already exists; pass --force to replace it.")
    return fmt


def _read_streets(spec: NewCity, fmt: str) -> list[SegmentRecord]:
    fields = {"name": spec.name_field, "geometry": spec.geometry_field}
    try:
        segments = read_street_file(spec.streets, fmt, fields)[0]
    except PackError as exc:
        raise CityPackError(str(exc)) from None
    if not segments:
        raise CityPackError(
            f"{spec.streets.name} has no named streets (OSM: ways with highway=* and name=*); "
            "nothing was written."
        )
    return segments


def _city_json(spec: NewCity, fmt: str, segments: list[SegmentRecord]) -> dict[str, Any]:
    lons = [lon for seg in segments for lon, _ in seg.coords]
    lats = [lat for seg in segments for _, lat in seg.coords]
    margin = _BBOX_MARGIN
    bbox = [min(lons) - margin, min(lats) - margin, max(lons) + margin, max(lats) + margin]
    slug = spec.slug or slug_of(spec.name)
    streets: dict[str, Any] = {"file": spec.streets.name, "format": fmt}
    if fmt != "osm":
        streets["fields"] = {"name": spec.name_field, "geometry": spec.geometry_field}
    city: dict[str, Any] = {
        "slug": slug,
        "name": spec.name,
        "short_name": spec.name.split(",")[0].strip(),
        "jurisdiction_id": slug,
        "timezone": spec.timezone,
        "locale": spec.languages[0],
        "bbox": [round(v, 6) for v in bbox],
        "center": [round((bbox[1] + bbox[3]) / 2, 6), round((bbox[0] + bbox[2]) / 2, 6)],
        "account_handles": {},
        "license": "LICENSE.md",
        "streets": streets,
        "services": _default_services(),
        "inbox": {"first_response_minutes": 60},
        "geo": {"weak_names": [], "poi_not_names": [], "region_words": [], "aliases": {}},
    }
    if spec.boundary is not None:
        city["boundary"] = {"file": spec.boundary.name}
    return city


def _default_services() -> list[dict[str, Any]]:
    catalog = json.loads((DEFAULTS_DIR / "services.json").read_text(encoding="utf-8"))
    return list(catalog["services"])


def _copy_inputs(spec: NewCity, pack: Path, city: dict[str, Any]) -> None:
    shutil.copyfile(spec.streets, pack / spec.streets.name)
    if spec.boundary is not None:
        shutil.copyfile(spec.boundary, pack / spec.boundary.name)
    source = (
        "OpenStreetMap data, (c) OpenStreetMap contributors, Open Database License (ODbL) 1.0. Attribute "
        '"(c) OpenStreetMap contributors" wherever the map is shown.'
        if city["streets"]["format"] == "osm"
        else "ADD THE LICENSE OF THE STREET DATA HERE (its origin, its license, how to attribute it)."
    )
    (pack / "LICENSE.md").write_text(
        f"# {spec.name}: data in this pack\n\n- `{spec.streets.name}`: {source}\n"
        "- Service catalog, reply templates and street words (language.json): civictracker's defaults "
        "(same license as civictracker).\n",
        encoding="utf-8",
    )


def _write_templates(spec: NewCity, pack: Path, short_name: str) -> list[str]:
    """replies.json, canned_replies.json and safety.json for the languages the defaults have."""
    replies = default_replies(short_name)
    wanted = [lang for lang in spec.languages if lang in replies]
    if "en" not in wanted:
        wanted.insert(0, "en")  # English is every pack's last fallback
    _dump(pack / "replies.json", {lang: replies[lang] for lang in wanted})
    canned = json.loads((DEFAULTS_DIR / "canned_replies.json").read_text(encoding="utf-8"))
    _dump(pack / "canned_replies.json", {k: v for k, v in canned.items() if k.startswith("_") or k in wanted})
    safety = json.loads((DEFAULTS_DIR / "safety.json").read_text(encoding="utf-8"))
    safety["contacts"]["emergency"] = spec.emergency
    safety["lines"] = {lang: lines for lang, lines in safety["lines"].items() if lang in wanted}
    _dump(pack / "safety.json", safety)
    return wanted


def _dump(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    assert CITY_MARK not in text or path.name == "canned_replies.json"  # {city} is a canned placeholder
    path.write_text(text, encoding="utf-8")


def _missing(spec: NewCity, fmt: str, gz: Gazetteer, languages: list[str]) -> list[str]:
    missing = [
        "account_handles in city.json: the city's X and Mastodon accounts",
        "safety.json contacts: the gas and electric utilities' emergency numbers",
    ]
    if spec.boundary is None:
        missing.append("a boundary (--boundary FILE.geojson): the streets' outline stands in for the limits")
    if not gz.addresses:
        missing.append("addresses (addresses.csv): house numbers are placed by interpolation only, if at all")
    if not gz.places:
        missing.append("places (places_poi.csv or geo.places): no landmarks can be named")
    missing += [
        f"reply templates in {lang!r}: write them in replies.json"
        for lang in spec.languages
        if lang not in languages
    ]
    if fmt != "osm":
        missing.append("LICENSE.md: the street data's license")
    return missing
