"""Readers that turn city-pack files and OpenStreetMap extracts into plain segment/address/place records."""

from __future__ import annotations

import csv
import json
import logging
import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from .types import AddressRecord, LonLat, PackError, PlaceRecord, SegmentRecord, read_pack_json

log = logging.getLogger(__name__)

REQUIRED_STREET_FIELDS = ("name", "geometry")
MAX_BAD_FRACTION = 0.05


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    try:
        return int(float(text))
    except ValueError:
        return None


def _valid_coords(coords: Iterable[Iterable[float]]) -> list[LonLat]:
    out: list[LonLat] = []
    for pt in coords:
        vals = list(pt)
        if len(vals) < 2:
            raise ValueError("coordinate with fewer than 2 values")
        lon, lat = float(vals[0]), float(vals[1])
        if not (math.isfinite(lon) and math.isfinite(lat)) or abs(lon) > 180 or abs(lat) > 90:
            raise ValueError(f"coordinate out of range: {lon},{lat}")
        if not out or out[-1] != (lon, lat):
            out.append((lon, lat))
    if len(out) < 2:
        raise ValueError("line with fewer than 2 distinct points")
    return out


def parse_wkt_lines(wkt: str) -> list[list[LonLat]]:
    """LINESTRING / MULTILINESTRING WKT -> list of coordinate lists; raises ValueError when unusable."""
    from shapely import wkt as shapely_wkt  # shapely is only needed at import time, not for lookups
    from shapely.errors import ShapelyError

    try:
        geom = shapely_wkt.loads(wkt)
    except (ShapelyError, ValueError, TypeError) as exc:
        raise ValueError(f"bad WKT: {exc}") from exc
    return _lines_of(geom.geom_type, geom)


def _lines_of(gtype: str, geom: Any) -> list[list[LonLat]]:
    if gtype == "LineString":
        return [_valid_coords(geom.coords)]
    if gtype == "MultiLineString":
        return [_valid_coords(g.coords) for g in geom.geoms]
    raise ValueError(f"unsupported geometry type {gtype}")


def _geojson_lines(geometry: Mapping[str, Any]) -> list[list[LonLat]]:
    gtype = geometry.get("type")
    coords = geometry.get("coordinates")
    if gtype == "LineString":
        return [_valid_coords(coords or [])]
    if gtype == "MultiLineString":
        return [_valid_coords(part) for part in coords or []]
    raise ValueError(f"unsupported geometry type {gtype}")


def _split_aliases(text: str) -> list[str]:
    out = []
    for raw in text.replace(";", ",").split(","):
        part = raw.strip().strip("?").strip()
        if part:
            out.append(part)
    return out


def _record_from_props(
    props: Mapping[str, Any], fields: Mapping[str, str], lines: list[list[LonLat]], row_no: int
) -> list[SegmentRecord]:
    def get(key: str) -> Any:
        col = fields.get(key)
        return props.get(col) if col else None

    name = str(get("name") or "").strip()
    if not name and fields.get("base_name"):
        # Some official rows leave the full name empty but carry base name + type.
        name = " ".join(str(x).strip() for x in (get("base_name"), get("type")) if x and str(x).strip())
    if not name:
        raise ValueError("no street name")
    seg_id = str(get("id") or f"row{row_no}")
    aliases = _split_aliases(str(get("alias") or ""))
    zip_code = str(get("zip_left") or get("zip_right") or "").strip() or None
    recs = []
    for i, coords in enumerate(lines):
        recs.append(
            SegmentRecord(
                id=seg_id if len(lines) == 1 else f"{seg_id}#{i}",
                street=name,
                coords=coords,
                l_from=_int_or_none(get("l_from")),
                l_to=_int_or_none(get("l_to")),
                r_from=_int_or_none(get("r_from")),
                r_to=_int_or_none(get("r_to")),
                zip=zip_code,
                aliases=aliases,
            )
        )
    return recs


def _check_bad(bad: int, total: int, path: Path) -> None:
    if total == 0:
        raise PackError(f"{path}: no street segments")
    if bad:
        log.warning("%s: skipped %s of %s rows with unusable geometry or name", path, bad, total)
    if bad > max(1, int(total * MAX_BAD_FRACTION)):
        raise PackError(f"{path}: {bad} of {total} rows have unusable geometry or name")


def read_centerlines_csv(path: Path, fields: Mapping[str, str]) -> list[SegmentRecord]:
    """CSV with a WKT geometry column, mapped through the pack's field mapping."""
    for key in REQUIRED_STREET_FIELDS:
        if key not in fields:
            raise PackError(f"street field mapping lacks '{key}'")
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise PackError(f"cannot read {path}: {exc}") from exc
    out: list[SegmentRecord] = []
    bad = total = 0
    with fh:
        reader = csv.DictReader(fh)
        header = set(reader.fieldnames or [])
        missing = [
            f"{k} -> {c}"
            for k, c in fields.items()
            if c and c not in header and k not in {"base_name", "type"}
        ]
        needed_missing = [m for m in missing if m.split(" ->")[0] in REQUIRED_STREET_FIELDS]
        if needed_missing:
            raise PackError(f"{path}: missing column(s) {', '.join(needed_missing)}")
        if missing:
            log.warning("%s: optional column(s) missing: %s", path, ", ".join(missing))
        for row_no, row in enumerate(reader, start=2):
            total += 1
            try:
                lines = parse_wkt_lines(row.get(fields["geometry"]) or "")
                out.extend(_record_from_props(row, fields, lines, row_no))
            except ValueError as exc:
                bad += 1
                log.debug("%s row %s skipped: %s", path, row_no, exc)
    _check_bad(bad, total, path)
    return out


def read_centerlines_geojson(path: Path, fields: Mapping[str, str]) -> list[SegmentRecord]:
    """GeoJSON FeatureCollection of (Multi)LineStrings, properties mapped through the field mapping."""
    if "name" not in fields:
        raise PackError("street field mapping lacks 'name'")
    try:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise PackError(f"cannot read {path}: {exc}") from exc
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        raise PackError(f"{path}: not a GeoJSON FeatureCollection")
    out: list[SegmentRecord] = []
    bad = 0
    for i, feat in enumerate(features):
        try:
            props = feat.get("properties") or {}
            lines = _geojson_lines(feat.get("geometry") or {})
            out.extend(_record_from_props(props, fields, lines, i))
        except (ValueError, AttributeError, TypeError) as exc:
            bad += 1
            log.debug("%s feature %s skipped: %s", path, i, exc)
    _check_bad(bad, len(features), path)
    return out


def read_addresses_csv(path: Path) -> list[AddressRecord]:
    """The master address list (street_number, street_number_suffix, street_name, street_type...)."""
    out: list[AddressRecord] = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        header = set(reader.fieldnames or [])
        # Two layouts: the master address database (street_number, street_name, street_type...) and the
        # official address points list (StNm "11-A", StName "Jay St", lon, lat: doorway points).
        points_layout = "street_number" not in header and {"StNm", "StName"} <= header
        if not points_layout:
            for col in ("street_number", "street_name"):
                if col not in header:
                    raise PackError(f"{path}: missing column {col}")
        for row in reader:
            if points_layout:
                m = _STNM_RE.match((row.get("StNm") or "").strip())
                num = int(m.group(1)) if m else None
                suffix = (m.group(2) or "").upper() if m else ""
                street = (row.get("StName") or "").strip()
                full = (row.get("Full_Addr") or "").strip()
            else:
                num = _int_or_none(row.get("street_number"))
                suffix = (row.get("street_number_suffix") or "").strip().upper()
                base = (row.get("street_name") or "").strip()
                street = " ".join(x for x in (base, (row.get("street_type") or "").strip()) if x)
                direction = (row.get("street_direction") or "").strip()
                if direction and base:
                    street = f"{street} {direction}"
                full = (row.get("full_address") or "").strip()
            if num is None or not street:
                continue
            lon, lat = _float_or_none(row.get("lon")), _float_or_none(row.get("lat"))
            if (
                lon is None
                or lat is None
                or not (abs(lon) <= 180 and abs(lat) <= 90)
                or (lon == 0 and lat == 0)
            ):
                lon = lat = None
            out.append(
                AddressRecord(
                    number=num,
                    suffix=suffix,
                    street=street,
                    full=full,
                    address_id=(row.get("address_id") or "").strip(),
                    lon=lon,
                    lat=lat,
                )
            )
    return out


_STNM_RE = re.compile(r"^(\d{1,5})(?:\s*-?\s*([A-Za-z0-9]{1,3}))?")


def _float_or_none(value: Any) -> float | None:
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return f if math.isfinite(f) else None


def read_boundary_geojson(path: Path) -> list[list[LonLat]]:
    """Outer rings (lon/lat) of the Polygon/MultiPolygon features of a city boundary GeoJSON file."""
    data = read_pack_json(path, "boundary ")
    feats = data.get("features") if isinstance(data, dict) and "features" in data else [data]
    rings: list[list[LonLat]] = []
    for feat in feats or []:
        geom = feat.get("geometry", feat) if isinstance(feat, dict) else None
        if not isinstance(geom, dict):
            continue
        polys: list[Any] = [geom.get("coordinates")] if geom.get("type") == "Polygon" else []
        if geom.get("type") == "MultiPolygon":
            polys = list(geom.get("coordinates") or [])
        for poly in polys:
            try:
                rings.append(_valid_coords(poly[0]))
            except (TypeError, ValueError, IndexError) as exc:
                raise PackError(f"boundary {path}: bad polygon ({exc})") from exc
    if not rings:
        raise PackError(f"boundary {path} holds no Polygon or MultiPolygon")
    return rings


def read_poi_csv(path: Path) -> list[tuple[str, str, str]]:
    """Points of interest as (name, address_id, type); coordinates come later from their address."""
    out = []
    with path.open(newline="", encoding="utf-8-sig") as fh:
        for row in csv.DictReader(fh):
            name = (row.get("Point_of_interest_name") or row.get("name") or "").strip()
            addr = (row.get("address_id") or "").strip()
            if name and addr:
                out.append((name, addr, (row.get("poi_type_desc") or "").strip()))
    return out


# --- OpenStreetMap -------------------------------------------------------------------------------------

HIGHWAY_SKIP = frozenset({"proposed", "construction", "abandoned", "platform", "raceway", "bus_stop"})


def read_osm(path: Path) -> tuple[list[SegmentRecord], list[AddressRecord], list[PlaceRecord]]:
    """OSM XML/PBF: named highway ways -> segments split at shared nodes; addr:* -> address points."""
    import osmium  # imported lazily: only OSM packs need it

    ways: list[tuple[int, str, list[int], list[LonLat], dict[str, str]]] = []
    addresses: list[AddressRecord] = []
    places: list[PlaceRecord] = []
    node_use: Counter[int] = Counter()
    try:
        proc = osmium.FileProcessor(str(path)).with_locations()
        for obj in proc:
            tags = {t.k: t.v for t in obj.tags}
            if isinstance(obj, osmium.osm.Node):
                loc = obj.location
                if not loc.valid():
                    continue
                _osm_address(tags, loc.lon, loc.lat, addresses)
                if tags.get("name") and (
                    tags.get("amenity")
                    or tags.get("place")
                    or tags.get("railway") == "station"
                    or tags.get("public_transport") == "station"
                ):
                    places.append(PlaceRecord(name=tags["name"], lon=loc.lon, lat=loc.lat))
            elif isinstance(obj, osmium.osm.Way):
                try:
                    refs = [n.ref for n in obj.nodes]
                    coords = [(n.lon, n.lat) for n in obj.nodes]
                except osmium.InvalidLocationError:
                    continue
                hw = tags.get("highway")
                if hw and hw not in HIGHWAY_SKIP and tags.get("name") and len(refs) >= 2:
                    ways.append((obj.id, tags["name"], refs, coords, tags))
                    node_use.update(set(refs))
                if "addr:housenumber" in tags and coords:
                    lon = sum(c[0] for c in coords) / len(coords)
                    lat = sum(c[1] for c in coords) / len(coords)
                    _osm_address(tags, lon, lat, addresses)
    except RuntimeError as exc:
        raise PackError(f"cannot read OSM file {path}: {exc}") from exc
    segments: list[SegmentRecord] = []
    for way_id, name, refs, coords, tags in ways:
        aliases = [tags[k] for k in ("alt_name", "old_name", "short_name", "official_name") if tags.get(k)]
        # Split at nodes other named ways use, so every junction is a segment end (as in official data).
        start = 0
        part = 0
        for i in range(1, len(refs)):
            if i == len(refs) - 1 or node_use[refs[i]] > 1:
                piece = coords[start : i + 1]
                try:
                    piece = _valid_coords(piece)
                except ValueError:
                    start = i
                    continue
                segments.append(
                    SegmentRecord(id=f"w{way_id}_{part}", street=name, coords=piece, aliases=aliases)
                )
                part += 1
                start = i
    log.info("OSM %s: %s segments, %s addresses, %s places", path, len(segments), len(addresses), len(places))
    return segments, addresses, places


def _osm_address(tags: Mapping[str, str], lon: float, lat: float, out: list[AddressRecord]) -> None:
    hn = tags.get("addr:housenumber")
    street = tags.get("addr:street")
    if not hn or not street:
        return
    digits = ""
    for ch in hn:
        if ch.isdigit():
            digits += ch
        else:
            break
    if not digits:
        return
    suffix = hn[len(digits) :].strip().upper()
    out.append(
        AddressRecord(
            number=int(digits), suffix=suffix, street=street, full=f"{hn} {street}", lon=lon, lat=lat
        )
    )


def group_by(items: Iterable[Any], key: Any) -> dict[Any, list[Any]]:
    """Small helper: dict of lists keyed by key(item)."""
    out: dict[Any, list[Any]] = defaultdict(list)
    for it in items:
        out[key(it)].append(it)
    return out


def iter_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """JSON lines reader used by the eval tools."""
    with path.open(encoding="utf-8") as fh:
        for raw in fh:
            line = raw.strip()
            if line:
                yield json.loads(line)
