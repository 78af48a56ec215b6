"""Informal hints: common words vs fuzzy places, exact full names, "near the X", "at Central", cross streets."""

from __future__ import annotations

import pytest

from civictracker.geo import Gazetteer, GazetteerSpec, build_gazetteer, extract_locations, geocode_text
from civictracker.geo.mentions import correct
from civictracker.geo.normalize import english_location_phrases
from civictracker.geo.types import SegmentRecord


# --- fuzzy matching and common words -----------------------------------------------------------------
@pytest.mark.parametrize("word", ["sofa", "casa", "calle", "rua", "lixo", "matla", "fatra", "semana"])
def test_common_words_of_the_citys_languages_are_never_corrected(gz: Gazetteer, word: str) -> None:
    assert correct(gz, word) is None


@pytest.mark.parametrize(
    ("text", "street"),
    [
        ("deixaram um sofá velho na calçada da Berkshire St", "Berkshire St"),
        ("alguien dejó un sofá roto en Magee St", "Magee St"),
        ("yo kite yon sofa kase sou Berkshire St", "Berkshire St"),
    ],
)
def test_a_common_word_does_not_become_a_place_over_a_named_street(
    gz: Gazetteer, text: str, street: str
) -> None:
    res = geocode_text(gz, text)
    assert res.kind == "street" and res.street == street, res


def test_a_short_place_name_needs_an_exact_match(gz: Gazetteer) -> None:
    # "leob" is one transposition from the POI "Loeb": the word is corrected, but four letters are too few
    # to name a place on a correction alone; the exact name still works.
    assert correct(gz, "leob") == "loeb"
    assert not geocode_text(gz, "trash piling up outside Leob").found
    assert geocode_text(gz, "trash piling up outside Loeb").matched == "Loeb"


def test_a_long_place_name_still_matches_misspelt_with_less_confidence(gz: Gazetteer) -> None:
    exact = geocode_text(gz, "couch dumped at Danehy")
    fuzzy = geocode_text(gz, "couch dumped at Danehey")
    assert exact.matched == fuzzy.matched == "Danehy Park"
    assert fuzzy.confidence < exact.confidence
    assert extract_locations("couch dumped at Danehey", gz)[0].fuzzy


def test_a_misspelt_place_loses_to_a_street_named_exactly(gz: Gazetteer) -> None:
    res = geocode_text(gz, "couch dumped by Danehey, on Hurley St")
    assert res.kind == "street" and res.street == "Hurley St", res
    assert geocode_text(gz, "couch dumped by Danehey").matched == "Danehy Park"


# --- exact full names --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "street"),
    [("streetlight out on Gore St", "Gore St"), ("streetlight out on Broadway", "Broadway")],
)
def test_an_exact_full_name_is_not_ambiguous_with_longer_names_containing_it(
    gz: Gazetteer, text: str, street: str
) -> None:
    # "Gore Street Pl" and "Broadway Ter" contain the words but need their own type to be meant.
    res = geocode_text(gz, text)
    plain = geocode_text(gz, "streetlight out on Hurley St")
    assert res.street == street and res.confidence == plain.confidence, res
    assert "also matches" not in (res.reason or "")


def test_longer_names_still_serve_corners_and_bare_names_stay_ambiguous(gz: Gazetteer) -> None:
    assert geocode_text(gz, "Gore St & Fifth St").matched == "Gore St & Fifth St"
    assert not geocode_text(gz, "pothole on Clifton").found  # Clifton St, Cir or Pl: nothing decides


# --- "near the X" and streets that never meet --------------------------------------------------------
def test_near_the_generic_noun_is_not_a_street(gz: Gazetteer) -> None:
    phrases = extract_locations("smell of gas on Hampshire St near the school", gz)
    assert [p.kind for p in phrases] == ["street"]
    res = geocode_text(gz, "smell of gas on Hampshire St near the school")
    assert res.street == "Hampshire St" and res.precision == "street", res


def test_near_a_street_that_never_meets_falls_back_to_the_street(gz: Gazetteer) -> None:
    res = geocode_text(gz, "pothole on Hurley St near Oxford St")
    assert res.found and res.precision == "street" and res.street == "Hurley St", res
    assert "never meet" in (res.reason or "")
    # "A & B" that never meet is a contradiction, not a hint: still no point.
    assert not geocode_text(gz, "Hurley St & Oxford St").found


# --- one-word place names that are common words ------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("bus shelter glass broken at Porter", "Porter Square"),
        ("streetlight out in Kendall", "Kendall Square"),
        ("bench smashed near central this morning", "Central Square"),
        ("needles everywhere at inman", "Inman Square"),
    ],
)
def test_one_word_place_alias_after_at_or_in(gz: Gazetteer, text: str, place: str) -> None:
    res = geocode_text(gz, text)
    assert res.kind == "place" and res.matched == place, res


@pytest.mark.parametrize("text", ["central air broken again", "pothole on Porter", "porter needed"])
def test_one_word_place_alias_alone_is_a_word(gz: Gazetteer, text: str) -> None:
    assert geocode_text(gz, text).kind != "place"


def test_an_alias_written_with_the_needs_its_article(gz: Gazetteer) -> None:
    # "the Common" names Cambridge Common; "a common problem" is an ordinary word.
    assert geocode_text(gz, "streetlight out, walking back from the Common").matched == "Cambridge Common"
    res = geocode_text(gz, "this is a common problem on Hampshire St")
    assert res.kind == "street" and res.street == "Hampshire St", res


def test_weak_one_word_aliases_from_a_pack_are_context_only() -> None:
    segs = [
        SegmentRecord("1", "Elm St", [(-71.10, 42.37), (-71.09, 42.37)], 1, 99, 2, 100),
        SegmentRecord("2", "Oak St", [(-71.095, 42.365), (-71.095, 42.375)], 1, 99, 2, 100),
    ]
    gz = build_gazetteer(
        segs,
        spec=GazetteerSpec(
            place_specs=[{"name": "Elm Square", "kind": "landmark", "aliases": ["Elm"], "at": ["Elm", "Oak"]}]
        ),
    )
    assert ("elm",) not in gz.place_index and gz.places[gz.place_context["elm"]].name == "Elm Square"
    assert geocode_text(gz, "graffiti at Elm").matched == "Elm Square"
    assert geocode_text(gz, "graffiti on Elm St").street == "Elm St"


# --- cross-street hints ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "my car was towed on Hampshire St, cross street is Windsor",
        "cross st: Windsor, on Hampshire St",
        "cross street - Windsor St. on Hampshire",
        "cross streets are Windsor and Hampshire",
    ],
)
def test_cross_street_phrasing_is_an_intersection_hint(gz: Gazetteer, text: str) -> None:
    res = geocode_text(gz, text)
    assert res.kind == "intersection" and set(res.matched.split(" & ")) == {"Hampshire St", "Windsor St"}, res


def test_the_real_cross_st_still_matches(gz: Gazetteer) -> None:
    assert geocode_text(gz, "Cross St is flooded again").street == "Cross St"
    assert geocode_text(gz, "Cross St & Hampshire St").matched == "Cross St & Hampshire St"


# --- Spanish, Portuguese and Haitian Creole corners (in the geocoder itself) ------------------------
@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("hay un hoyo en la esquina de Hampshire St y Windsor St", {"Hampshire St", "Windsor St"}),
        ("buraco na esquina da Cambridge St com Prospect St", {"Cambridge St", "Prospect St"}),
        ("gwo twou nan kwen Cambridge St ak Prospect St", {"Cambridge St", "Prospect St"}),
        ("accidente en el cruce de Hampshire St y Windsor St", {"Hampshire St", "Windsor St"}),
    ],
)
def test_foreign_corner_phrases_geocode(gz: Gazetteer, text: str, want: set[str]) -> None:
    res = geocode_text(gz, text)
    assert res.kind == "intersection" and set(res.matched.split(" & ")) == want, res


def test_foreign_between_and_house_number_phrases_geocode(gz: Gazetteer) -> None:
    span = geocode_text(gz, "bache en Hampshire St entre Windsor y Prospect")
    assert span.kind == "between" and span.street == "Hampshire St", span
    addr = geocode_text(gz, "picharam o muro no 150 Hampshire St")
    assert addr.kind == "address" and addr.matched == "150 Hampshire St", addr


def test_english_location_phrases_rewrites_only_what_it_knows() -> None:
    assert (
        english_location_phrases("kwen Harvard St ak Prospect St") == "corner of Harvard St and Prospect St"
    )
    assert english_location_phrases("entre Elm y Oak") == "between Elm and Oak"
    assert english_location_phrases("ant Elm St ak Oak St") == "between Elm St and Oak St"
    plain = "an ant colony on Elm St, and a con artist"
    assert english_location_phrases(plain) == plain
