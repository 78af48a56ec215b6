"""Street-name normalization and text cleaning."""

from __future__ import annotations

from civictracker.geo.normalize import clean_text, name_tokens, split_type, tokenize


def test_types_ordinals_and_saints_normalize_to_one_form() -> None:
    assert (
        name_tokens("Massachusetts Avenue") == name_tokens("massachusetts ave.") == ("massachusetts", "ave")
    )
    assert name_tokens("Third Street") == name_tokens("3rd St") == ("3rd", "st")
    assert name_tokens("Mount Auburn St") == ("mt", "auburn", "st")
    assert name_tokens("Monsignor O'Brien Hwy") == ("msgr", "obrien", "hwy")


def test_split_type() -> None:
    assert split_type(("hampshire", "st")) == (("hampshire",), "st")
    assert split_type(("elm", "st", "n")) == (("elm",), "st")
    assert split_type(("broadway",)) == (("broadway",), None)


def test_clean_text_drops_urls_mentions_and_unfolds_hashtags() -> None:
    out = clean_text("@CambridgeMA pothole https://t.co/xyz #CentralSq b/w")
    assert "cambridgema" not in out and "t.co" not in out
    assert "central sq" in out and "between" in out


def test_house_number_forms() -> None:
    words = [t.text for t in tokenize(clean_text("12-14 Elm, 16-B Antrim, 6 1/2 Acacia, 150a Hampshire"))]
    assert "12-14" in words and "16b" in words and "6h" in words and "150a" in words


def test_surrogates_do_not_crash() -> None:
    assert isinstance(clean_text("bad \udcff text"), str)
