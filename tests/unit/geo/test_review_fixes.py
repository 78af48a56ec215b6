"""Review fixes: a number after a street, "no 5 X" and one-letter joiners in English text (Cambridge pack)."""

from __future__ import annotations

import pytest

from civictracker.geo import Gazetteer, extract_locations, geocode_text
from civictracker.geo.normalize import english_location_phrases


# --- a number written after a street ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("Pothole on Cambridge St 3 potholes actually", "Pothole on Cambridge St"),
        ("Streetlight out on Elm St 2 nights in a row", "Streetlight out on Elm St"),
        ("Hampshire St 12 noon", "Hampshire St"),
        ("Hampshire St 24/7", "Hampshire St"),
        ("Crash on Broadway 2 vehicles", "Crash on Broadway"),
        ("Tree down on Broadway 3 houses without power", "Tree down on Broadway"),
        ("Rats on Inman St 5 kids saw them", "Rats on Inman St"),
        ("Hampshire St 12:30 every night", "Hampshire St"),
        ("Elm St 3.5 miles of cracks", "Elm St"),
        ("Elm St 2 - 3 cars every night", "Elm St"),
    ],
)
def test_a_count_or_time_after_a_street_leaves_the_street(gz: Gazetteer, text: str, plain: str) -> None:
    res, want = geocode_text(gz, text), geocode_text(gz, plain)
    assert want.found and want.kind == "street"
    assert res.kind == "street" and res.street == want.street and res.confidence == want.confidence, res


@pytest.mark.parametrize(
    "text",
    [
        "Hampshire St 150",
        "pothole at Hampshire St 150.",
        "Hampshire St 150, deep pothole",
        "Hampshire St 150! please fix",
        "Hampshire St 150 - deep pothole",
        "Hampshire St 150 (the bakery)",
        "Hampshire St 150 Cambridge MA",
        "Hampshire St 150 MA 02139",
        "Hampshire St 150 02139",
        "Hampshire St 150 Massachusetts",
        "Hampshire St 150 apt 2",
    ],
)
def test_a_number_after_a_street_ending_the_address_is_a_house_number(gz: Gazetteer, text: str) -> None:
    res = geocode_text(gz, text)
    assert res.kind == "address" and res.matched == "150 Hampshire St", res


def test_a_number_after_a_street_that_is_no_address_falls_back_to_the_street(gz: Gazetteer) -> None:
    # 12 is in no address range of Hampshire St: the street the post names still stands.
    res = geocode_text(gz, "pothole on Hampshire St 12.")
    plain = geocode_text(gz, "pothole on Hampshire St")
    assert res.kind == "street" and res.street == "Hampshire St", res
    assert res.confidence == plain.confidence and "12" in (res.reason or "")
    # Written before the street, the number is the resident's address: still no guess.
    assert not geocode_text(gz, "12 Hampshire St").found


def test_a_number_after_an_exact_name_never_picks_another_street(gz: Gazetteer) -> None:
    # 2 is on Broadway Ter, not on Broadway: "Broadway 2" names Broadway.
    res = geocode_text(gz, "crash on Broadway 2.")
    assert res.kind == "street" and res.street == "Broadway", res
    assert geocode_text(gz, "crash on Broadway 205.").matched == "205 Broadway"
    # The variant is still found when the resident writes its type.
    assert geocode_text(gz, "crash on Broadway Ter 2.").street == "Broadway Ter"


def test_number_after_phrase_spans_only_the_address(gz: Gazetteer) -> None:
    phrases = extract_locations("Hampshire St 150, Cambridge", gz)
    assert [(p.kind, p.number, p.streets[0]) for p in phrases] == [("address", "150", ["Hampshire St"])]


# --- "no 5 X": Portuguese "at", English "no" ----------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "trash everywhere, no 5 Church volunteers showed up",
        "no 5 Church St volunteers showed up",  # English: no foreign evidence
        "picharam o prédio no 205 Broadway",  # no street type to confirm the number is a house
        "na esquina, no 3 dogs",  # foreign evidence, but no street after the number
    ],
)
def test_no_and_a_number_is_rewritten_only_with_evidence_and_a_typed_street(text: str) -> None:
    assert english_location_phrases(text) == text


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("picharam o muro da rua no 150 Hampshire St", "picharam o muro da rua at 150 Hampshire St"),
        ("buraco perto da esquina, na 12 Inman St.", "buraco perto da esquina, at 12 Inman St."),
        ("hola, en el 25 Lee St los vecinos", "hola, at 25 Lee St los vecinos"),
    ],
)
def test_foreign_at_number_is_still_rewritten(text: str, want: str) -> None:
    assert english_location_phrases(text) == want


def test_no_and_a_number_in_english_is_no_address(gz: Gazetteer) -> None:
    res = geocode_text(gz, "trash everywhere, no 5 Church volunteers showed up")
    assert res.kind != "address", res


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("bom dia, picharam toda a parede do prédio no 205 Broadway essa noite", "205 Broadway"),
        ("picharam o muro no 150 Hampshire St", "150 Hampshire St"),
        ("hola, en el 25 Lee St los vecinos tienen fiesta", "25 Lee St"),
    ],
)
def test_foreign_house_numbers_still_geocode(gz: Gazetteer, text: str, want: str) -> None:
    res = geocode_text(gz, text)
    assert res.kind == "address" and res.matched == want, res


# --- one-letter and English joiners after a street type -----------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "Cambridge St e of Inman St",
        "Mass Ave con artist again",
        "Elm St y Oak St",  # no other Spanish word: not enough to read "y" as "and"
        "see example.com or Elm St com Oak St",
        "buraco na rua Cambridge St com muita agua perto da escola",  # foreign, but no street after "com"
        "calle Cambridge St y of the bridge",
    ],
)
def test_english_joiners_after_a_street_type_are_left_alone(text: str) -> None:
    assert english_location_phrases(text) == text


def test_east_of_is_not_a_corner(gz: Gazetteer) -> None:
    assert geocode_text(gz, "Cambridge St e of Inman St").kind != "intersection"
    assert [p.kind for p in extract_locations("Mass Ave con artist", gz)] == ["street"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("bache en la calle Cambridge St y Prospect St", "bache en la calle Cambridge St and Prospect St"),
        ("buraco na rua Cambridge St com Prospect", "buraco na rua Cambridge St and Prospect"),
        (
            "twou sou lari Harvard St ak Prospect St, li fon",
            "twou sou lari Harvard St and Prospect St, li fon",
        ),
        ("na esquina da Cambridge St com Third St", "corner of Cambridge St and Third St"),
    ],
)
def test_foreign_joiners_between_streets_still_become_and(text: str, want: str) -> None:
    assert english_location_phrases(text) == want


def test_foreign_corner_without_a_corner_word_geocodes(gz: Gazetteer) -> None:
    res = geocode_text(gz, "bache en la calle Cambridge St y Prospect St")
    assert res.kind == "intersection" and set((res.matched or "").split(" & ")) == {
        "Cambridge St",
        "Prospect St",
    }, res
