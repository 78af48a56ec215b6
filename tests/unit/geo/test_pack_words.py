"""Street types and corner, between and "and" words per language come from the pack's language.json."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from civictracker.citypack import CityPackError, load_city_pack
from civictracker.geo import GazetteerSpec, build_gazetteer, extract_locations, geocode_text, load_gazetteer
from civictracker.geo.lexicon import DEFAULT_FILE, LANGUAGE_FILE, load_lexicon
from civictracker.geo.phrasing import english_location_phrases
from civictracker.geo.types import PackError, SegmentRecord

# A French city's words: "à l'angle de A et B", "entre A et B", "Rue"-less types written after the name.
FRENCH = {
    "fr": {
        "corner_words": ["à l'angle de", "au coin de"],
        "between_words": ["entre"],
        "near_words": ["près de"],
        "and_words": ["et"],
        "hint_words": ["et", "angle"],
        "street_types": {"ave": ["av"], "blvd": ["bd"]},
    }
}
SEGMENTS = [
    SegmentRecord("1", "Elm St", [(-71.100, 42.370), (-71.090, 42.370)], 1, 99, 2, 100),
    SegmentRecord("2", "Oak St", [(-71.095, 42.365), (-71.095, 42.375)], 1, 99, 2, 100),
    SegmentRecord("3", "Pine St", [(-71.092, 42.365), (-71.092, 42.375)], 1, 99, 2, 100),
]


def _write_pack(folder: Path, words: dict[str, object] | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = ["name,wkt"] + [
        f'{s.street},"LINESTRING ({", ".join(f"{x} {y}" for x, y in s.coords)})"' for s in SEGMENTS
    ]
    (folder / "streets.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    city = {
        "slug": "testville",
        "name": "Testville",
        "timezone": "America/New_York",
        "bbox": [-71.11, 42.36, -71.08, 42.38],
        "services": [{"service_code": "pothole", "service_name": "Pothole"}],
        "streets": {
            "file": "streets.csv",
            "format": "csv_wkt",
            "fields": {"name": "name", "geometry": "wkt"},
        },
    }
    (folder / "city.json").write_text(json.dumps(city), encoding="utf-8")
    if words is not None:
        (folder / LANGUAGE_FILE).write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
    return folder


def test_a_pack_that_adds_a_language_reads_its_corner_words(tmp_path: Path) -> None:
    french = build_gazetteer(
        SEGMENTS, spec=GazetteerSpec(lexicon=load_lexicon(_write_pack(tmp_path, FRENCH)))
    )
    default = build_gazetteer(SEGMENTS)
    corner = "nid-de-poule à l'angle de Elm St et Oak St"
    assert [p.kind for p in extract_locations(corner, french)] == ["intersection"]
    assert [p.kind for p in extract_locations(corner, default)] == ["street", "street"]
    res = geocode_text(french, "nid-de-poule Elm St et Oak St")
    assert (res.precision, res.matched) == ("intersection", "Elm St & Oak St")
    span = extract_locations("trou sur Elm St entre Oak St et Pine St", french)
    assert [p.kind for p in span] == ["between"]
    assert [p.kind for p in extract_locations("trou sur Elm St entre Oak St et Pine St", default)] != [
        "between"
    ]
    assert english_location_phrases("trou pres de Elm St", french.lexicon) == "trou near Elm St"
    assert english_location_phrases("trou près de Elm St", default.lexicon) == "trou près de Elm St"
    # Its street types too: "Elm Av" is no street of the default words ("av" is an English spelling of
    # avenue there as well), but "Oak Bd" reads as Oak Blvd only in the French pack.
    assert french.lexicon.street_types["bd"] == "blvd" and "bd" not in default.lexicon.street_types


def test_language_json_is_read_through_the_gazetteer_cache(tmp_path: Path) -> None:
    pack = _write_pack(tmp_path / "pack", None)
    cache = tmp_path / "cache"
    text = "au coin de Elm St et Oak St"
    assert [p.kind for p in extract_locations(text, load_gazetteer(pack, cache))] == ["street", "street"]
    (pack / LANGUAGE_FILE).write_text(json.dumps(FRENCH, ensure_ascii=False), encoding="utf-8")
    gz = load_gazetteer(pack, cache)  # the new words change the cache key: no stale gazetteer
    assert [p.kind for p in extract_locations(text, gz)] == ["intersection"]


def test_a_pack_can_take_a_default_word_away(tmp_path: Path) -> None:
    # A pack's field replaces the default's: a Spanish city where "con" is no "and".
    gz = build_gazetteer(
        SEGMENTS,
        spec=GazetteerSpec(lexicon=load_lexicon(_write_pack(tmp_path, {"es": {"and_words": ["y"]}}))),
    )
    default = build_gazetteer(SEGMENTS)
    con, y = "bache en la esquina de Elm St con Oak St", "bache en la esquina de Elm St y Oak St"
    assert [p.kind for p in extract_locations(con, default)] == ["intersection"]
    assert [p.kind for p in extract_locations(con, gz)] != ["intersection"]
    assert [p.kind for p in extract_locations(y, gz)] == ["intersection"]


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ({"de": {"and_words": "und"}}, "de.and_words must be a list of words"),
        ({"fr": {"corner_words": ["angle de", " "]}}, "fr.corner_words[1] must be a word"),
        ({"xx": {"and_words": ["et"]}}, "'xx' is not a language code"),
        ({"french": {"and_words": ["et"]}}, "'french' is not a language code"),
        ({"fr": {"corner": ["angle de"]}}, "fr.corner is not a field"),
        ({"fr": {"street_types": {"st": "rue"}}}, "fr.street_types.st must be a list of words"),
        ({"fr": {"street_types": {"st": ["ave"]}}}, "'ave' is both 'ave' and 'st'"),
        ({"fr": {"compound_types": ["gasse"]}}, "compound_types 'gasse' is no spelling"),
        ({"fr": ["et"]}, "fr must be an object of word lists"),
        (["fr"], "must hold a JSON object of languages"),
    ],
)
def test_bad_language_data_is_refused_at_load_naming_file_and_field(
    tmp_path: Path, words: object, message: str
) -> None:
    pack = _write_pack(tmp_path, None)
    (pack / LANGUAGE_FILE).write_text(json.dumps(words), encoding="utf-8")
    with pytest.raises(PackError, match=r"language\.json") as err:
        load_lexicon(pack)
    assert message in str(err.value)
    with pytest.raises(CityPackError, match=re.escape(str(pack / LANGUAGE_FILE))):
        load_city_pack.__wrapped__(pack)  # the app refuses to start on it (no cached pack)
    with pytest.raises(PackError, match=r"language\.json"):
        load_gazetteer(pack, tmp_path / "cache")


def test_a_language_file_that_is_not_json_names_itself(tmp_path: Path) -> None:
    pack = _write_pack(tmp_path, None)
    (pack / LANGUAGE_FILE).write_text("{ not json", encoding="utf-8")
    with pytest.raises(PackError, match=r"language\.json is not valid JSON"):
        load_lexicon(pack)


def test_the_defaults_hold_the_five_languages() -> None:
    data = json.loads(DEFAULT_FILE.read_text(encoding="utf-8"))
    assert {"en", "es", "pt", "ht", "de"} <= set(data)
    lex = load_lexicon(None)
    assert lex.street_types["strasse"] == "st" and "strasse" in lex.compound_types
    assert {"esquina de", "kwen", "ecke"} <= lex.foreign["corner_words"]
