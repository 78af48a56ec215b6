"""Text real residents write: counts and times are no streets, no invented place, real location phrasing."""

from __future__ import annotations

import time

import pytest

from civictracker.geo import Gazetteer, extract_locations, geocode_text
from civictracker.geo.mentions import quantity_tokens
from civictracker.geo.normalize import clean_text, tokenize

# --- 1. numbers and ordinals are not streets -----------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "3rd day and Hampshire St is STILL not plowed",
        "2nd week and Hampshire St has not been plowed",
        "plowed at 5am and Hampshire St is a mess",
        "4 inches of water at Hampshire St",
        "6 hours and Hampshire St still dark",
        "3rd time and Hampshire St is still not fixed",
        "10 min and Hampshire St is blocked",
        "2 weeks and Hampshire St is still not plowed",
        "third day and Hampshire St is STILL not plowed",
        "since March 3rd and Hampshire St still has no lights",
        "10min wait at Hampshire St",
    ],
)
def test_count_before_a_street_leaves_the_exact_street(gz: Gazetteer, text: str) -> None:
    res = geocode_text(gz, text)
    assert res.found and res.street == "Hampshire St", res
    assert "Day St" not in (res.matched or "") and "Third St" not in (res.matched or "")


@pytest.mark.parametrize(
    "text", ["3rd day", "2nd week", "5am", "4 inches", "6 hours", "3rd time", "10 min", "2 weeks"]
)
def test_count_alone_is_no_place(gz: Gazetteer, text: str) -> None:
    assert not geocode_text(gz, text).found
    assert extract_locations(text, gz) == []


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("3rd St", "Third St"),
        ("Third Street pothole", "Third St"),
        ("pothole on second st", "Second St"),
        ("Sixth St is not plowed", "Sixth St"),
    ],
)
def test_numbered_streets_still_streets(gz: Gazetteer, text: str, want: str) -> None:
    res = geocode_text(gz, text)
    assert res.found and res.street == want, res


@pytest.mark.parametrize(
    ("text", "streets"),
    [
        ("3rd and Cambridge", {"Third St", "Cambridge St"}),
        ("corner of 3rd and cambridge", {"Third St", "Cambridge St"}),
        ("Sixth St and Otis", {"Sixth St", "Otis St"}),
        ("1st St & Binney", {"First St", "Binney St"}),
    ],
)
def test_numbered_street_corners_still_corners(gz: Gazetteer, text: str, streets: set[str]) -> None:
    res = geocode_text(gz, text)
    assert res.precision == "intersection" and set((res.matched or "").split(" & ")) == streets, res


def test_a_unit_word_with_a_street_type_is_a_street(gz: Gazetteer) -> None:
    res = geocode_text(gz, "10 Day St")
    assert res.kind == "address" and res.street == "Day St", res


def test_ordinal_is_one_token(gz: Gazetteer) -> None:
    # "21st" was read as house 2 on 1st (First St): a made-up address.
    assert [t.text for t in tokenize(clean_text("on the 21st"))] == ["on", "the", "21st"]
    assert not geocode_text(gz, "party on the 21st").found


def test_quantity_tokens_mark_count_and_unit_only() -> None:
    toks = tokenize(clean_text("3rd day, 4 inches of water on Elm St"))
    counted, counted_of = quantity_tokens(toks)
    assert [toks[i].raw for i in sorted(counted)] == ["3rd", "day", "4", "inches"]
    assert [toks[i].raw for i in sorted(counted_of)] == ["water"]


def test_two_real_streets_that_never_meet_are_not_guessed(gz: Gazetteer) -> None:
    # Both names are exact streets: the post is asked about, not pinned on one of them.
    res = geocode_text(gz, "Day St and Hampshire St")
    assert not res.found and "never meet" in (res.reason or "")


# --- 2. no invented place -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\U0001f600\U0001f600\U0001f624\u2744\ufe0f",
        "https://t.co/abc123",
        "https://www.cambridgema.gov/streets?id=3rd-st",
        "@CambridgeMA @CambridgeDPW",
        "@CambridgeMA https://t.co/x @ThirdSt",
        "so much snow omg",
        "lost cat",
        "they skipped us again this week",
        "power's been out in my apartment for 6 hours now",
        "third time this month!!!",
        "it's been 2 weeks since the 3rd storm",
    ],
)
def test_no_location_no_point(gz: Gazetteer, text: str) -> None:
    res = geocode_text(gz, text)
    assert not res.found and res.reason, res


def test_very_long_text_is_quick_and_invents_nothing(gz: Gazetteer) -> None:
    text = ("so much snow omg the 3rd day 6 hours 10 min " * 250)[:10_000]
    t0 = time.perf_counter()
    res = geocode_text(gz, text)
    assert time.perf_counter() - t0 < 2.0
    assert not res.found


def test_neighbourhood_is_an_area_not_a_street(gz: Gazetteer) -> None:
    res = geocode_text(gz, "potholes all over east cambridge")
    assert res.found and res.precision == "area" and res.kind == "area", res
    assert res.street is None and res.confidence <= 0.4
    assert "neighbourhood" in (res.reason or "")


# --- 3. how residents write places ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "street", "number"),
    [
        ("trash piled in front of 12 Inman St", "Inman St", 12),
        ("car parked outside 45 Inman for 2 weeks", "Inman St", 45),
        ("streetlight out across from 150 hampshire st.", "Hampshire St", 150),
        (
            "Bike rack request. \nThe user entered the address: 150 Hampshire St, Cambridge, MA 02139 to see "
            "more details visit: http://seeclickfix.com/issues/1",
            "Hampshire St",
            150,
        ),
        (
            "Emergency condition: fire | Specific location: 150 Hampshire St, Cambridge, MA, 02139 | Details: x",
            "Hampshire St",
            150,
        ),
        ("Specific location: 150Hampshire St, Cambridge | Details: smoke", "Hampshire St", 150),
        ("12A Inman St", "Inman St", 12),
        ("12-14 Inman St, Cambridge MA", "Inman St", 12),
        ("150 Hampshire St #3", "Hampshire St", 150),
    ],
)
def test_resident_address_phrasing(gz: Gazetteer, text: str, street: str, number: int) -> None:
    res = geocode_text(gz, text)
    assert res.kind == "address" and res.street == street, res
    assert (res.matched or "").split()[0].startswith(str(number))


def test_number_parted_by_punctuation_is_no_address(gz: Gazetteer) -> None:
    res = geocode_text(gz, "Expired sticker, year 2019. Massachusetts plates 7PP965")
    assert res.kind != "address", res


def test_unit_after_a_street_is_no_house_number(gz: Gazetteer) -> None:
    res = geocode_text(gz, "leak in Inman St #3")
    assert res.kind == "street" and res.street == "Inman St", res


@pytest.mark.parametrize(
    ("text", "streets"),
    [
        ("corner of Prospect and Harvard", {"Prospect St", "Harvard St"}),
        ("prospect st/harvard st", {"Prospect St", "Harvard St"}),
        (
            "Wires hanging from pole, corner of Mass ave Ellery st Cambridge",
            {"Massachusetts Ave", "Ellery St"},
        ),
        ("corner of Monsignor OBrien hwy Winter st", {"Monsignor OBrien Hwy", "Winter St"}),
    ],
)
def test_resident_corner_phrasing(gz: Gazetteer, text: str, streets: set[str]) -> None:
    res = geocode_text(gz, text)
    assert res.precision == "intersection" and set((res.matched or "").split(" & ")) == streets, res


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("dog waste all over Sennott Park", "Sennott Park"),
        ("ice on the path at Fresh Pond", "Fresh Pond"),
        ("needles near the Harvard Sq T", "Harvard Square"),
        ("barricade discarded in the park. Sullivan Square", "Sullivan Square"),
    ],
)
def test_resident_place_phrasing(gz: Gazetteer, text: str, place: str) -> None:
    res = geocode_text(gz, text)
    assert res.precision == "place" and res.matched == place, res


def test_exact_street_wins_over_a_common_word_corner(gz: Gazetteer) -> None:
    # "along Lambert and Lambert St": both names are one street; the post is still on it.
    res = geocode_text(gz, "Sidewalk not shoveled along Lambert and Lambert St in Cambridge")
    assert res.found and res.street == "Lambert St" and res.precision == "street", res


# --- common nouns are neither places nor misspelt streets -----------------------------------------


@pytest.mark.parametrize(
    ("text", "street"),
    [
        ("big puddle by the new construction on Cambridge St", "Cambridge St"),
        ("cars block the parking lot exit on Hampshire St", "Hampshire St"),
        ("Down wire, crossing concord avenue", "Concord Ave"),
        ("wires hanging low over Hampshire St", "Hampshire St"),
    ],
)
def test_common_nouns_do_not_name_a_place(gz: Gazetteer, text: str, street: str) -> None:
    res = geocode_text(gz, text)
    assert res.found and res.street == street and res.precision != "place", res
    said = f"{res.matched} {res.reason}"
    assert "Ware St" not in said and "Construction" not in said and "Parking Lot" not in said


# --- a street and, further on, the street it meets ------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "pothole on Cambridge St in front of the bakery, near Prospect St",
        "hay un bache enorme en Cambridge St frente a la panadería, cerca de Prospect St",
        "buraco na Cambridge St perto da Prospect St",
    ],
)
def test_a_street_and_a_street_it_meets_named_apart_locate_where_they_meet(gz: Gazetteer, text: str) -> None:
    res = geocode_text(gz, text)
    assert res.precision == "intersection"
    assert res.matched == "Cambridge St & Prospect St"
    assert "both named" in (res.reason or "")


def test_two_streets_that_never_meet_keep_the_street_alone(gz: Gazetteer) -> None:
    # Hampshire St and Brattle St do not meet: no corner is invented from the two names.
    res = geocode_text(gz, "trash all over Hampshire St, I live on Brattle St")
    assert res.precision == "street"


# --- plural types, cross-street fields, common-word streets that meet the named one ---------------
def _corner(res: object) -> set[str]:
    """The two streets of an intersection result (either order), empty for any other result."""
    if getattr(res, "precision", None) != "intersection":
        return set()
    return set((getattr(res, "matched", "") or "").split(" & "))


def test_plural_type_after_two_names_types_both(gz: Gazetteer) -> None:
    # "Spring and Fifth Streets": one plural type for both names; a corner, as "Spring St & Fifth St" is.
    res = geocode_text(gz, "the alley between Spring and Fifth Streets is flooded again")
    assert _corner(res) == {"Spring St", "Fifth St"}, res
    # An unknown first name (a street of another town) leaves the typed one standing.
    res = geocode_text(gz, "graffiti on the fence between Zzyzx and Spring Streets")
    assert res.found and res.street == "Spring St", res


def test_plural_type_alone_names_no_street(gz: Gazetteer) -> None:
    # A plural type with no "A and" before it is the common noun: "Cambridge streets" is not Cambridge St.
    assert not geocode_text(gz, "Cambridge streets are a mess after the storm").found


@pytest.mark.parametrize(
    ("text", "street"),
    [
        ("Car blocking a driveway | The closest intersecting street: Spring | Color: Red", "Spring St"),
        ("the nearest cross street is Market, the sidewalk is iced over", "Market St"),
        ("Cross street - Union. Tree limb down across the sidewalk", "Union St"),
    ],
)
def test_common_word_street_in_a_cross_street_field(gz: Gazetteer, text: str, street: str) -> None:
    # A form's cross-street field names a street, even a common word; "cross street" itself is no Cross St.
    res = geocode_text(gz, text)
    assert res.found and res.street == street, res


def test_cross_street_field_value_that_is_a_neighbourhood_reads_as_the_street(gz: Gazetteer) -> None:
    res = geocode_text(gz, "closest intersecting street: Riverside | cars parked all day on Memorial")
    assert _corner(res) == {"Memorial Dr", "Riverside Rd"}, res


def test_common_word_street_after_on_meets_the_named_street(gz: Gazetteer) -> None:
    # "of Grove" alone is too weak to place a post, but it says which corner of Huron Ave is meant.
    res = geocode_text(gz, "crash again today at the intersection of Grove, Zzyzx and Huron, need a light")
    assert _corner(res) == {"Grove St", "Huron Ave"}, res
    # Without a street the named one meets, the street alone stands.
    res = geocode_text(gz, "speeding on Huron Ave all day, my kids walk to the park on Memorial")
    assert res.precision == "street" and res.street == "Huron Ave", res


@pytest.mark.parametrize(
    ("text", "street", "noun"),
    [
        ("the park at Western Ave is full of broken glass", "Western Ave", "Park"),
        ("icy path between the water and Western Ave", "Western Ave", "Water St"),
        ("I walked from Broadway to the park and slipped twice, on Prospect St too", "Broadway", "Park"),
    ],
)
def test_a_common_word_after_an_article_is_the_noun(gz: Gazetteer, text: str, street: str, noun: str) -> None:
    # "the park", "the water": no Park Ave or Water St in a corner or span with the street named.
    res = geocode_text(gz, text)
    assert res.found and street in (res.matched or ""), res
    assert noun not in (res.matched or "") + (res.reason or ""), res


def test_span_with_one_end_that_never_meets_the_street_keeps_the_end_that_does(gz: Gazetteer) -> None:
    # Brattle St never meets Hampshire St (a misread or another town's street): the block still starts at
    # the corner with Windsor St, as a "near" corner whose reason says what was not found.
    res = geocode_text(gz, "repaint the bike lane on Hampshire St from Brattle St to Windsor St please")
    assert _corner(res) == {"Hampshire St", "Windsor St"}, res
    assert "does not meet Brattle St" in (res.reason or ""), res
    # Neither end meets it: nothing sure about the block, no corner is made up.
    res = geocode_text(gz, "repaint the bike lane on Hampshire St from Brattle St to Garden St please")
    assert res.precision != "intersection", res


def test_common_adjectives_are_weak_names(gz: Gazetteer) -> None:
    # "common" is also an alias of Scouting Way ("Common St"), "commercial" a street's name: as adjectives
    # they name no street.
    res = geocode_text(gz, "cars speed down Fairmont St, a common problem near the commercial lots")
    assert res.found and res.street == "Fairmont St", res
    assert not geocode_text(gz, "this is a common problem with commercial trucks").found


@pytest.mark.parametrize(
    ("text", "street"),
    [
        ("the walk light to cross Putnam never comes on", "Putnam Ave"),
        ("drivers turning onto Pearl never stop for the crosswalk", "Pearl St"),
    ],
)
def test_common_word_street_after_cross_or_onto(gz: Gazetteer, text: str, street: str) -> None:
    res = geocode_text(gz, text)
    assert res.found and res.street == street, res


def test_common_word_name_without_such_a_word_stays_no_street(gz: Gazetteer) -> None:
    assert not geocode_text(gz, "Jackson called the city twice about the walk light").found


@pytest.mark.parametrize(
    "text",
    ["cars run the stop sign at Putnam and Zzyzx every morning", "paint the crosswalk at Zzyzx and Putnam"],
)
def test_common_word_street_at_a_corner_with_a_name_the_city_lacks(gz: Gazetteer, text: str) -> None:
    # The other name is a typo past correcting or another town's street: the corner says Putnam is a street.
    res = geocode_text(gz, text)
    assert res.found and res.street == "Putnam Ave", res


@pytest.mark.parametrize("text", ["the kids are at school and work all day", "meet at Putnam and then lunch"])
def test_at_a_and_an_ordinary_word_is_no_corner(gz: Gazetteer, text: str) -> None:
    assert not geocode_text(gz, text).found


def test_bare_name_whose_other_readings_branch_off_it_places_the_post(gz: Gazetteer) -> None:
    # Boardman Pl meets Boardman St: whichever one the resident meant, the spot is on or just off the St.
    res = geocode_text(gz, "Two large trees on either side of Boardman with many dead branches")
    assert res.found and res.street == "Boardman St" and res.precision == "street", res
    assert "Boardman Pl" in (res.reason or ""), res
    # Amherst St and Amherst Aly lie apart: the bare name still asks instead of picking one.
    res = geocode_text(gz, "The sprinkler in front of Hernandez amherst sprays people")
    assert not res.found and "could be" in (res.reason or ""), res


def test_street_the_post_is_on_outranks_a_cross_street_field(gz: Gazetteer) -> None:
    # The field names a street beside the spot; "parked on Bent St" says where the post is.
    text = "The closest intersecting street: Mass Ave | Details: vehicles parked on Bent St, next to the food bank"
    res = geocode_text(gz, text)
    assert res.found and res.street == "Bent St", res
    # Alone, the field's street still places the post.
    res = geocode_text(gz, "The closest intersecting street: Mass Ave | Details: no parking sign")
    assert res.found and res.street == "Massachusetts Ave", res


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("car parked in between 710 and 712 Main for 2 months", "710-712"),
        ("icy sidewalk at 12 & 14 Elm St", "12-14"),
        ("trash bags in front of 115 or 119 Amory St", "115-119"),
    ],
)
def test_two_house_numbers_joined_by_and_are_one_frontage(gz: Gazetteer, text: str, number: str) -> None:
    # Read as "12-14 Elm St" is read: the point between both houses, not the second one alone.
    addr = [ph for ph in extract_locations(text, gz) if ph.kind == "address"]
    assert [ph.number for ph in addr] == [number], addr
    assert geocode_text(gz, text).precision == "interpolated"


@pytest.mark.parametrize("text", ["2 and 40 Elm St is icy", "12, and 14 Elm St", "3 and 3 Elm St"])
def test_numbers_too_far_apart_or_parted_are_no_pair(gz: Gazetteer, text: str) -> None:
    addr = [ph for ph in extract_locations(text, gz) if ph.kind == "address"]
    assert addr and "-" not in (addr[0].number or ""), addr


@pytest.mark.parametrize(
    "text",
    [
        "A small portion of 2nd street in front of the Hurley school allowed resident parking",
        "2nd street by the Hurley playground, parking signs changed overnight",
    ],
)
def test_name_before_a_facility_noun_is_the_facility_not_a_street(gz: Gazetteer, text: str) -> None:
    # "the Hurley school" names a school, which need not stand on Hurley St: no corner with Second St.
    res = geocode_text(gz, text)
    assert res.found and res.street == "Second St" and res.precision == "street", res
    assert not geocode_text(gz, "broken swing at the Hurley school").found
    # Without the article and the noun the name is the street again.
    assert geocode_text(gz, "pothole on Hurley near the school").street == "Hurley St"
