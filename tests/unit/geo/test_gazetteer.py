"""Gazetteer building, caching, spatial queries and bad packs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from civictracker.geo import Gazetteer, PackError, load_gazetteer
from civictracker.geo.pack_loader import build_from_pack

PACK = Path(__file__).resolve().parents[3] / "civictracker" / "cities" / "cambridge_ma"


def test_bbox_and_contains(gz: Gazetteer) -> None:
    min_lon, min_lat, max_lon, max_lat = gz.bbox
    assert -71.17 < min_lon < max_lon < -71.06 and 42.35 < min_lat < max_lat < 42.41
    assert gz.contains(42.3736, -71.1097)
    assert not gz.contains(42.36, -71.06)  # Boston, outside the box
    assert not gz.contains(0.0, 0.0) and not gz.contains(100.0, 0.0)


def test_nearest_segment_snaps_to_street(gz: Gazetteer) -> None:
    hit = gz.nearest_segment(42.3688, -71.0948)
    assert hit is not None
    seg, dist, _pt = hit
    assert dist < 15 and seg.street in {"Hampshire St", "Windsor St", "Plymouth St"}
    assert gz.nearest_segment(42.50, -71.30) is None


def test_intersections_computed_from_geometry(gz: Gazetteer) -> None:
    js = gz.intersections_of("Hampshire St", "Windsor St")
    assert js and not js[0].crossing
    assert gz.intersections_of("Hampshire St", "Garden St") == []


def test_segment_for_uses_ranges(gz: Gazetteer) -> None:
    hit = gz.segment_for("Hampshire St", 150)
    assert hit is not None and 0.0 <= hit[1] <= 1.0
    assert gz.segment_for("Hampshire St", 99999) is None


def test_a_second_load_comes_from_the_cache(cache_dir: Path, gz: Gazetteer, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Building takes seconds and the cache a fraction of that (bench/bench_geocode.py prints both): a
    second start must read the cache, never build again."""
    import civictracker.geo.pack_loader as gazetteer

    def no_build(*_args: object) -> Gazetteer:
        raise AssertionError("built again instead of read from the cache")

    monkeypatch.setattr(gazetteer, "build_from_pack", no_build)
    again = load_gazetteer(PACK, cache_dir)
    assert len(again.segments) == len(gz.segments) and again.junctions.keys() == gz.junctions.keys()


def test_a_changed_generic_weak_name_list_is_not_read_from_the_old_cache(
    cache_dir: Path, gz: Gazetteer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The weak names are built into the gazetteer: another list must build again, not reuse the cache."""
    import civictracker.geo.pack_loader as loader

    other = tmp_path / "weak_names.txt"
    other.write_text(loader.GENERIC_WEAK_NAMES.read_text(encoding="utf-8") + "\nzzyzx\n", encoding="utf-8")

    class Built(Exception):
        pass

    def build(*_args: object) -> Gazetteer:
        raise Built

    monkeypatch.setattr(loader, "build_from_pack", build)
    monkeypatch.setattr(loader, "GENERIC_WEAK_NAMES", other)
    with pytest.raises(Built):
        load_gazetteer(PACK, cache_dir)


def _copy_pack(tmp_path: Path) -> Path:
    dst = tmp_path / "pack"
    shutil.copytree(PACK, dst)
    return dst


def test_broken_geometry_row_is_skipped(tmp_path: Path) -> None:
    pack = _copy_pack(tmp_path)
    streets = pack / "streets.csv"
    lines = streets.read_text().splitlines()
    lines.append('Broken_1,Broken St,Broken,St,,1,9,2,10,02139,02139,,,0,,F,F,"LINESTRING (nonsense)"')
    streets.write_text("\n".join(lines) + "\n")
    gz = build_from_pack(pack)
    assert "Broken St" not in gz.streets and "Hampshire St" in gz.streets


def test_missing_field_is_a_clear_error(tmp_path: Path) -> None:
    pack = _copy_pack(tmp_path)
    city = json.loads((pack / "city.json").read_text())
    city["streets"]["fields"]["geometry"] = "no_such_column"
    (pack / "city.json").write_text(json.dumps(city))
    with pytest.raises(PackError, match="no_such_column"):
        build_from_pack(pack)


def test_missing_street_file_is_a_clear_error(tmp_path: Path) -> None:
    pack = _copy_pack(tmp_path)
    (pack / "streets.csv").unlink()
    with pytest.raises(PackError):
        load_gazetteer(pack, tmp_path / "cache")


def test_mostly_broken_file_is_rejected(tmp_path: Path) -> None:
    pack = _copy_pack(tmp_path)
    (pack / "streets.csv").write_text('id,street,wkt\n1,A St,"POINT (1 2)"\n2,B St,"LINESTRING (0 0)"\n')
    with pytest.raises(PackError):
        build_from_pack(pack)


def test_a_street_named_alone_is_pinned_where_its_addresses_are() -> None:
    """A 1.6 km street whose houses are all at its east end: the pin goes among them, not halfway."""
    from civictracker.geo import build_gazetteer, geocode_text
    from civictracker.geo.types import AddressRecord, SegmentRecord

    segs = [
        SegmentRecord("1", "Long St", [(-71.12, 42.37), (-71.11, 42.37)], None, None, None, None),
        SegmentRecord("2", "Long St", [(-71.11, 42.37), (-71.10, 42.37)], 1, 99, 2, 100),
    ]
    addresses = [AddressRecord(n, "", "Long St") for n in range(1, 100, 2)]
    gz = build_gazetteer(segs, addresses)
    res = geocode_text(gz, "trash was skipped on Long St again")
    assert res.precision == "street" and res.street == "Long St"
    assert res.lon is not None and -71.108 < res.lon < -71.10  # among the houses, not at their edge
    middle = gz.line_midpoint(gz.street_line("Long St"))
    assert abs(middle[0] - -71.11) < 1e-3  # the old pin: where no one lives
    # A street with no addresses still has a pin: its line's middle.
    bare = build_gazetteer(segs[:1])
    assert bare.street_point("Long St", bare.street_line("Long St")) == bare.line_midpoint(
        bare.street_line("Long St")
    )
