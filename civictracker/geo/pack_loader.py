"""Load a city pack's gazetteer: read its files through the pack's field mapping, cache the result."""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .build import GazetteerSpec, build_gazetteer
from .gazetteer import CODE_VERSION, Gazetteer
from .importers import (
    read_addresses_csv,
    read_boundary_geojson,
    read_centerlines_csv,
    read_centerlines_geojson,
    read_osm,
    read_poi_csv,
)
from .lexicon import language_files, load_lexicon
from .places import add_pois
from .types import AddressRecord, LonLat, PackError, PlaceRecord, SegmentRecord, read_pack_json

log = logging.getLogger(__name__)


GENERIC_WEAK_NAMES = Path(__file__).resolve().parent / "data" / "weak_names.txt"


def _default_cache_dir() -> Path:
    env = os.environ.get("CIVICTRACKER_GEO_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "civictracker" / "geo"


def _read_city(pack_dir: Path) -> dict[str, Any]:
    path = pack_dir / "city.json"
    data = read_pack_json(path)
    if not isinstance(data, dict):
        raise PackError(f"{path} must hold a JSON object")
    return data


def _input_files(pack_dir: Path, city: dict[str, Any]) -> list[Path]:
    files = [pack_dir / "city.json", *language_files(pack_dir)]
    for key in ("streets", "addresses", "places", "boundary"):
        spec = city.get(key)
        if isinstance(spec, dict) and spec.get("file"):
            files.append(pack_dir / str(spec["file"]))
    return files


def _cache_key(files: Sequence[Path]) -> str:
    h = hashlib.sha256(CODE_VERSION.encode())
    for f in files:
        h.update(str(f.name).encode())
        try:
            h.update(f.read_bytes())
        except OSError:
            h.update(b"<missing>")
    return h.hexdigest()[:24]


def load_gazetteer(pack_dir: Path, cache_dir: Path | None = None) -> Gazetteer:
    """Gazetteer of a city pack, from the on-disk cache when the inputs and code are unchanged."""
    pack_dir = Path(pack_dir)
    city = _read_city(pack_dir)
    files = _input_files(pack_dir, city)
    # The generic weak-name list is built into the gazetteer too: a change to it must not read (or write)
    # the cached gazetteer of the old list.
    key = _cache_key([*files, GENERIC_WEAK_NAMES])
    cdir = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    cpath = cdir / f"{city.get('slug') or pack_dir.name}-{key}.pickle"
    if cpath.exists():
        try:
            with cpath.open("rb") as fh:
                # Our own cache file, written by this function into a private cache dir.
                gz = pickle.load(fh)  # noqa: S301
            if isinstance(gz, Gazetteer) and gz.version == CODE_VERSION:
                return gz
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError) as exc:
            log.warning("ignoring unreadable gazetteer cache %s: %s", cpath, exc)
    t0 = time.perf_counter()
    gz = build_from_pack(pack_dir, city)
    log.info("built gazetteer for %s in %.2fs", pack_dir, time.perf_counter() - t0)
    try:
        cdir.mkdir(parents=True, exist_ok=True)
        tmp = cpath.with_suffix(f".tmp{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump(gz, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, cpath)
    except OSError as exc:  # a read-only cache dir only costs speed
        log.warning("cannot write gazetteer cache %s: %s", cpath, exc)
    return gz


def read_street_file(
    path: Path, fmt: str, fields: Mapping[str, str]
) -> tuple[list[SegmentRecord], list[AddressRecord], list[PlaceRecord]]:
    """A pack's street file in its format (csv_wkt, geojson, osm): segments, and for OSM its addresses and
    places too; PackError for an unknown format."""
    if fmt == "csv_wkt":
        return read_centerlines_csv(path, fields), [], []
    if fmt == "geojson":
        return read_centerlines_geojson(path, fields), [], []
    if fmt == "osm":
        return read_osm(path)
    raise PackError(f"unknown streets.format {fmt!r}")


def build_from_pack(pack_dir: Path, city: dict[str, Any] | None = None) -> Gazetteer:
    """Read a pack's files through its field mapping and build the gazetteer (no cache)."""
    pack_dir = Path(pack_dir)
    city = city if city is not None else _read_city(pack_dir)
    streets = city.get("streets")
    if not isinstance(streets, dict) or not streets.get("file"):
        raise PackError(f"{pack_dir}/city.json lacks streets.file")
    geo = city.get("geo") if isinstance(city.get("geo"), dict) else {}
    assert isinstance(geo, dict)
    fields = dict(streets.get("fields") or {})
    fields.update(geo.get("street_fields") or {})
    spath = pack_dir / str(streets["file"])
    if not spath.exists():
        raise PackError(f"street file {spath} does not exist")
    segs, addresses, places = read_street_file(spath, str(streets.get("format") or "csv_wkt"), fields)
    addr_spec = city.get("addresses")
    if isinstance(addr_spec, dict) and addr_spec.get("file"):
        apath = pack_dir / str(addr_spec["file"])
        if apath.exists():
            addresses.extend(read_addresses_csv(apath))
        else:
            log.warning("address file %s missing; addresses will not be validated", apath)
    specs = list(geo.get("places") or []) + list(geo.get("areas") or [])
    aliases = {str(k): str(v) for k, v in (geo.get("aliases") or {}).items()}
    rings: list[list[LonLat]] | None = None
    bspec = city.get("boundary")
    bname = str(bspec["file"]) if isinstance(bspec, dict) and bspec.get("file") else ""
    if bname:
        rings = read_boundary_geojson(pack_dir / bname)
    spec = GazetteerSpec(
        name=str(city.get("name", "")),
        aliases=aliases,
        place_specs=specs,
        boundary=rings,
        boundary_name=bname,
        weak_names=[str(w) for w in geo.get("weak_names") or []],
        region_words=[str(w) for w in geo.get("region_words") or []],
        lexicon=load_lexicon(pack_dir),
    )
    gz = build_gazetteer(segs, addresses, places, spec)
    place_spec = city.get("places")
    if isinstance(place_spec, dict) and place_spec.get("file") and (pack_dir / place_spec["file"]).exists():
        # Rows whose "name" is a common noun ("New Construction", "Parking Lot") would match ordinary words.
        not_names = {str(n).casefold() for n in geo.get("poi_not_names") or []}
        add_pois(
            gz,
            [
                poi
                for poi in read_poi_csv(pack_dir / str(place_spec["file"]))
                if poi[0].casefold() not in not_names
            ],
            pack_dir / str(addr_spec["file"])
            if isinstance(addr_spec, dict) and addr_spec.get("file")
            else None,
        )
    return gz
