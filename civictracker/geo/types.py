"""Plain dataclasses shared by the geo modules (import records, phrases, results), and the pack's error."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LonLat = tuple[float, float]

PRECISIONS = ("rooftop", "interpolated", "intersection", "segment", "street", "place", "area")
KINDS = ("address", "intersection", "between", "street", "place", "area", "geotag", "remote")


class PackError(ValueError):
    """A city pack that cannot be loaded (missing file, missing field, unusable geometry)."""


def read_pack_json(path: Path, what: str = "") -> Any:
    """A pack file's JSON; a file that cannot be read or parsed is a PackError naming it (`what`: a word
    before the path, e.g. "boundary ")."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PackError(f"cannot read {what}{path}: {exc}") from exc
    except ValueError as exc:
        raise PackError(f"{what}{path} is not valid JSON: {exc}") from exc


@dataclass(slots=True)
class SegmentRecord:
    """One street centerline piece as read from a pack or an OSM extract."""

    id: str
    street: str
    coords: list[LonLat]
    l_from: int | None = None
    l_to: int | None = None
    r_from: int | None = None
    r_to: int | None = None
    zip: str | None = None
    aliases: list[str] = field(default_factory=list)


@dataclass(slots=True)
class AddressRecord:
    """One official address; lon/lat only when the source has points (OSM addr:*)."""

    number: int
    suffix: str
    street: str
    full: str = ""
    address_id: str = ""
    lon: float | None = None
    lat: float | None = None


@dataclass(slots=True)
class PlaceRecord:
    """A named place (landmark, POI, neighbourhood) with a point computed from street data."""

    name: str
    lon: float
    lat: float
    kind: str = "place"  # place | area
    aliases: list[str] = field(default_factory=list)
    street: str | None = None
    radius_m: float = 100.0


@dataclass(slots=True)
class LocationPhrase:
    """One location phrase found in a post."""

    kind: str  # address | intersection | between | street | place | area | geotag
    text: str  # the surface text of the phrase
    start: int
    end: int
    streets: list[list[str]] = field(default_factory=list)  # candidate streets per street mention
    number: str | None = None  # house number as written ("12-14", "150a")
    place: str | None = None  # place/area canonical name
    fuzzy: bool = False  # a street name needed fuzzy matching
    typed: bool = True  # every street mention carried a street type
    strength: float = 1.0  # how sure we are that this is a location phrase at all
    # Per street mention: how many leading candidates the words name exactly ("Gore St" is Gore St, and
    # only contains the name of Gore Street Pl); 0 when every candidate needed a type the text lacks.
    exact: list[int] = field(default_factory=list)
    # Per street mention: a bare common word ("day", "water") that names a street only in a clear pattern.
    weak: list[bool] = field(default_factory=list)


@dataclass(slots=True)
class GeocodeResult:
    """The best location of a phrase or post; lat/lon None (with a reason) when not found."""

    lat: float | None = None
    lon: float | None = None
    precision: str | None = None
    confidence: float = 0.0
    matched: str | None = None
    reason: str | None = None
    street: str | None = None
    segment_id: str | None = None
    line: list[LonLat] | None = None
    kind: str | None = None

    @property
    def found(self) -> bool:
        return self.lat is not None and self.lon is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict; the first six keys are the CLI/Open311 contract."""
        return {
            "lat": None if self.lat is None else round(self.lat, 7),
            "lon": None if self.lon is None else round(self.lon, 7),
            "precision": self.precision,
            "confidence": round(float(self.confidence), 3),
            "matched": self.matched,
            "reason": self.reason,
            "street": self.street,
            "segment_id": self.segment_id,
            "kind": self.kind,
            "line": None if self.line is None else [[round(x, 7), round(y, 7)] for x, y in self.line],
        }


def not_found(reason: str, kind: str | None = None, matched: str | None = None) -> GeocodeResult:
    """A result with no point and the reason why."""
    return GeocodeResult(reason=reason, kind=kind, matched=matched)
