"""`flask civictracker new-city`: a pack from an OSM extract that the product then serves, on both databases."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from civictracker.citypack import CityPackError, load_city_pack
from civictracker.cli.city import new_city_command
from civictracker.extensions import db
from civictracker.geo.extract import extract_locations
from civictracker.geo.geocode import geocode_text
from civictracker.geo.pack_loader import build_from_pack
from civictracker.models import OutboundMessage, Ticket
from civictracker.newcity import NewCity, check_round_trip, slug_of, write_city_pack
from tests.conftest import BACKENDS, drop_app, make_app
from tests.intake.helpers import deliver

OSM_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm_samples"
OAKLAND = OSM_DIR / "West-Oakland.osm.bz2"
MUNICH = OSM_DIR / "planet_munich_small.osm"


def _oakland(tmp_path: Path, **kw: object) -> NewCity:
    spec = NewCity(
        name="Oakland, CA", streets=OAKLAND, timezone="America/Los_Angeles", out_dir=tmp_path / "oakland"
    )
    return dataclasses.replace(spec, **kw)  # type: ignore[arg-type]


def test_the_shared_osm_samples_are_here() -> None:
    # The tests below read them; CI runs beside ../shared, so a missing sample is a failure, not a skip.
    assert OAKLAND.is_file() and MUNICH.is_file()


def test_osm_extract_becomes_a_complete_pack(tmp_path: Path) -> None:
    report = write_city_pack(_oakland(tmp_path))
    assert (report.streets, report.intersections, report.places) == (9, 13, 3)
    assert report.boundary == "street hull" and any("boundary" in m for m in report.missing)
    pack = load_city_pack(report.path)
    assert pack.slug == "oakland_ca" and pack.timezone == "America/Los_Angeles"
    assert pack.short_name == "Oakland" and len(pack.services) == 16
    assert all(s["description"] and "City of" not in s["description"] for s in pack.services)
    assert set(pack.replies) == {"en", "es", "pt", "ht"}
    assert "Oakland" in pack.replies["es"]["closed"] and "{city}" not in json.dumps(pack.replies)
    assert "OpenStreetMap contributors" in (report.path / "LICENSE.md").read_text()
    lon_min, lat_min, lon_max, lat_max = pack.bbox
    assert lon_min < -122.3 < lon_max and lat_min < 37.807 < lat_max
    trip = check_round_trip(build_from_pack(report.path))
    assert trip.tried == 13 and trip.share == 1.0


def test_german_street_forms_in_a_munich_pack(tmp_path: Path) -> None:
    report = write_city_pack(
        NewCity(
            name="München", streets=MUNICH, timezone="Europe/Berlin", out_dir=tmp_path / "m", emergency="112"
        )
    )
    gz = build_from_pack(report.path)
    expected = {
        "Goethestr. 13": ("rooftop", "13 Goethestraße"),
        "Goethestrasse 13": ("rooftop", "13 Goethestraße"),
        "Schlagloch Haydnstr. 5": ("rooftop", "5 Haydnstraße"),
        "Ecke Goethestraße und Haydnstraße": ("intersection", "Goethestraße & Haydnstraße"),
        "Kreuzung Goethestr./Haydnstr.": ("intersection", "Goethestraße & Haydnstraße"),
        "an der Ecke Goethestr. und Richard-Wagner-Str.": (
            "intersection",
            "Goethestraße & Richard-Wagner-Straße",
        ),
    }
    for text, (precision, matched) in expected.items():
        res = geocode_text(gz, text)
        assert (res.precision, res.matched) == (precision, matched), text
    assert json.loads((report.path / "safety.json").read_text())["contacts"]["emergency"] == "112"
    # The German words are the pack's: new-city wrote them, and a pack without them reads no German.
    words = json.loads((report.path / "language.json").read_text(encoding="utf-8"))
    assert "ecke" in words["de"]["corner_words"] and "und" in words["de"]["and_words"]
    words["de"] = {"street_types": {}, "compound_types": [], "corner_words": [], "and_words": []}
    (report.path / "language.json").write_text(json.dumps(words), encoding="utf-8")
    bare = build_from_pack(report.path)
    assert geocode_text(bare, "Goethestr. 13").precision != "rooftop"
    corner = "Ecke Goethestraße und Haydnstraße"  # read as a corner phrase only with the German words
    assert [p.kind for p in extract_locations(corner, gz)] == ["intersection"]
    assert [p.kind for p in extract_locations(corner, bare)] != ["intersection"]
    assert geocode_text(bare, "Goethestraße & Haydnstraße").precision == "intersection"


def test_bad_inputs_write_nothing(tmp_path: Path) -> None:
    empty = tmp_path / "empty.osm"
    empty.write_text(
        '<?xml version="1.0"?><osm version="0.6"><node id="1" lat="1" lon="1"/></osm>', encoding="utf-8"
    )
    cases = {
        "no named streets": _oakland(tmp_path, streets=empty),
        "not a time zone": _oakland(tmp_path, timezone="Mars/Base"),
        "does not exist": _oakland(tmp_path, streets=tmp_path / "nope.osm"),
        "unknown street file type": _oakland(tmp_path, streets=tmp_path / "empty.txt"),
    }
    (tmp_path / "empty.txt").write_text("x")
    for message, spec in cases.items():
        with pytest.raises(CityPackError, match=message):
            write_city_pack(spec)
        assert not spec.out_dir.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".new-city-")]
    write_city_pack(_oakland(tmp_path))
    with pytest.raises(CityPackError, match="--force"):
        write_city_pack(_oakland(tmp_path))
    write_city_pack(_oakland(tmp_path), force=True)


def test_a_pack_without_templates_answers_in_the_residents_language(tmp_path: Path) -> None:
    report = write_city_pack(_oakland(tmp_path, languages=("en",)))
    assert set(json.loads((report.path / "replies.json").read_text())) == {"en"}
    (report.path / "replies.json").unlink()
    pack = load_city_pack.__wrapped__(report.path)
    assert pack.replies["es"]["ask_location"].startswith("¡Gracias")
    assert "Oakland" in pack.replies["pt"]["closed"]


def test_cli_prints_what_it_found_and_what_is_missing(tmp_path: Path) -> None:
    out = tmp_path / "pack"
    result = CliRunner().invoke(
        new_city_command,
        ["Oakland, CA", "--osm", str(OAKLAND), "--timezone", "America/Los_Angeles", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    assert "9 named streets" in result.output and "intersections: 13" in result.output
    assert "13 of 13 intersections (100.0%)" in result.output and "account_handles" in result.output
    again = CliRunner().invoke(new_city_command, ["X", "--timezone", "UTC"])
    assert again.exit_code == 2 and "exactly one of --osm or --centerlines" in again.output
    assert slug_of("São Paulo, SP") == "sao_paulo_sp"


@pytest.mark.parametrize("backend", BACKENDS)
def test_the_product_serves_the_new_city(backend: str, tmp_path: Path) -> None:
    report = write_city_pack(_oakland(tmp_path))
    app, pg_db = make_app(backend, tmp_path / "app", city=str(report.path))
    try:
        with app.app_context():
            services = app.test_client().get("/open311/v2/services.json").get_json()
            assert len(services) == 16 and services[0]["description"]
            post = deliver("huge pothole at 7th St and Wood St, please fix", author="r1")
            assert post.outcome == "created", post.reason
            ticket = db.session.get(Ticket, post.ticket_id)
            assert ticket.service.code == "pothole" and ticket.precision == "intersection"
            ack = db.session.scalars(select(OutboundMessage)).one()
            assert ticket.ref in ack.text
            spanish = deliver("hay un bache enorme", author="r2")
            asked = db.session.scalars(
                select(OutboundMessage).where(OutboundMessage.in_reply_to_id == spanish.external_id)
            ).one()
            assert "calle" in asked.text.lower(), asked.text
    finally:
        drop_app(app, pg_db)
