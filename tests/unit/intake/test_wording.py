"""Replies' filled-in words in the resident's language: dates in the city's zone, places, service names."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from civictracker.services.wording import expected_sentence, format_when, place_phrase, service_label

PACK = Path(__file__).resolve().parents[3] / "civictracker" / "cities" / "cambridge_ma"
TEMPLATES = json.loads((PACK / "replies.json").read_text(encoding="utf-8"))
DUE = dt.datetime(2026, 12, 6, 19, 13, tzinfo=dt.UTC)  # 2:13 PM on Sunday Dec 6 in Cambridge (EST)


def test_dates_in_each_language_and_the_city_zone() -> None:
    tz = "America/New_York"
    assert format_when(TEMPLATES, "en", DUE, tz) == "Sun, Dec 6, 2:13 PM"
    assert format_when(TEMPLATES, "es", DUE, tz) == "dom 6 de dic, 14:13"
    assert format_when(TEMPLATES, "pt", DUE, tz) == "dom, 6 de dez, 14h13"
    assert format_when(TEMPLATES, "ht", DUE, tz) == "dimanch 6 desanm, 14:13"
    assert expected_sentence(TEMPLATES, "es", DUE, tz) == "Previsto para el dom 6 de dic, 14:13."
    assert expected_sentence(TEMPLATES, "es", None, tz) == ""
    # a language the pack lacks speaks the pack's English
    assert format_when(TEMPLATES, "fr", DUE, "Europe/Paris") == "Sun, Dec 6, 8:13 PM"


def test_places_connecting_words_in_each_language() -> None:
    assert place_phrase(TEMPLATES, "es", "Hampshire St & Prospect St") == "Hampshire St y Prospect St"
    assert place_phrase(TEMPLATES, "pt", "Cardinal Medeiros Ave between Bristol St and Hampshire St") == (
        "Cardinal Medeiros Ave entre Bristol St e Hampshire St"
    )
    assert place_phrase(TEMPLATES, "ht", "A St & B St & C St") == "A St, B St ak C St"
    assert place_phrase(TEMPLATES, "en", "Hampshire St & Prospect St") == "Hampshire St & Prospect St"
    assert place_phrase(TEMPLATES, "es", "12 Main St") == "12 Main St"


def test_service_names_from_the_pack() -> None:
    services = json.loads((PACK / "city.json").read_text(encoding="utf-8"))["services"]
    for svc in services:
        assert {"en", "es", "pt", "ht"} <= set(svc["names"]), svc["service_code"]
    signal = next(s for s in services if s["service_code"] == "traffic_signal")
    assert service_label(signal["names"], signal["service_name"], "es") == "problema de semáforo"
    assert service_label({}, "Traffic signal problem", "es") == "traffic signal problem"
