"""Places of a gazetteer: pack places defined by street references, points of interest, the name index."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .gazetteer import NEAR_RANGE_GAP, Gazetteer
from .importers import read_addresses_csv
from .normalize import name_tokens
from .types import AddressRecord, LonLat, PlaceRecord


def resolve_place_specs(gz: Gazetteer, specs: Sequence[dict[str, Any]]) -> list[PlaceRecord]:
    """Places defined in the pack by reference to street data (an intersection, an address, a street)."""
    out: list[PlaceRecord] = []
    for spec in specs:
        name = str(spec.get("name") or "").strip()
        if not name:
            continue
        pt: LonLat | None = None
        street: str | None = None
        try:
            if "at" in spec:
                a, b = (gz.lookup_name(x) for x in spec["at"][:2])
                if a and b:
                    js = gz.intersections_of(a[0], b[0])
                    if js:
                        pt = (js[0].lon, js[0].lat)
                        street = a[0]
            elif "address" in spec:
                m = re.match(r"\s*(\d+)\s+(.+)", str(spec["address"]))
                if m:
                    sts = gz.lookup_name(m.group(2))
                    if sts:
                        hit = gz.segment_for(sts[0], int(m.group(1)))
                        if hit:
                            pt = gz.point_along(hit[0], hit[1])
                            street = sts[0]
            elif "street" in spec:
                sts = gz.lookup_name(spec["street"])
                if sts:
                    line = gz.street_line(sts[0])
                    if line:
                        pt = gz.line_midpoint(line)
                        street = sts[0]
            elif "lonlat" in spec:
                pt = (float(spec["lonlat"][0]), float(spec["lonlat"][1]))
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            gz.warnings.append(f"place {name!r}: bad spec ({exc})")
            continue
        if pt is None:
            gz.warnings.append(f"place {name!r}: its reference is not in the street data")
            continue
        out.append(
            PlaceRecord(
                name=name,
                lon=pt[0],
                lat=pt[1],
                kind=str(spec.get("kind", "place")),
                aliases=[str(a) for a in spec.get("aliases", [])],
                street=street,
                radius_m=float(spec.get("radius_m", 150.0 if spec.get("kind") != "area" else 800.0)),
            )
        )
    return out


def build_places(gz: Gazetteer, places: Sequence[PlaceRecord]) -> None:
    index: dict[tuple[str, ...], list[int]] = defaultdict(list)
    first: dict[str, int] = {}
    context: dict[str, int] = {}
    # Curated places (landmarks, neighbourhoods) come after POIs in the list; give them priority in lookups.
    ordered = sorted(range(len(places)), key=lambda i: 0 if places[i].kind in ("landmark", "area") else 1)
    gz.places = [places[i] for i in ordered]
    for pi, p in enumerate(gz.places):
        for nm in [p.name, *p.aliases]:
            toks = name_tokens(nm, gz.lexicon)
            # "the Galleria mall" is also "Galleria mall"; but in "the Common", "the Port" the article is
            # what makes an ordinary word a name ("a common problem" is no place), so it stays.
            if toks and toks[0] == "the" and len(toks) > 2:
                toks = toks[1:]
            if not toks:
                continue
            if len(toks) == 1 and toks[0] in gz.weak_names:
                context.setdefault(toks[0], pi)  # "at Central": only with a word that makes it a place
                continue
            if pi not in index[toks]:
                index[toks].append(pi)
            first[toks[0]] = max(first.get(toks[0], 0), len(toks))
    gz.place_index = dict(index)
    gz.place_first = first
    gz.place_context = context


def add_pois(gz: Gazetteer, pois: list[tuple[str, str, str]], address_file: Path | None) -> None:
    """Points of interest get the interpolated point of their official address."""
    if address_file is None or not address_file.exists():
        return
    by_id: dict[str, AddressRecord] = {}
    for arec in read_addresses_csv(address_file):
        by_id.setdefault(arec.address_id, arec)
    extra: list[PlaceRecord] = []
    for name, addr_id, _ptype in pois:
        rec = by_id.get(addr_id)
        if rec is None:
            continue
        sts = gz.lookup_name(rec.street)
        if not sts:
            continue
        hit = gz.segment_for(sts[0], rec.number)
        if hit is not None:
            lon, lat = gz.point_along(hit[0], hit[1])
        else:  # Donnelly Field is 45 Berkshire St, one number past the last range: the range's end
            near = gz.nearest_range(sts[0], rec.number)
            if near is None or near[1] > NEAR_RANGE_GAP:
                continue
            lon, lat = gz.point_along(near[0], near[2])
        extra.append(PlaceRecord(name=name, lon=lon, lat=lat, kind="poi", street=sts[0]))
    build_places(gz, list(gz.places) + extra)
