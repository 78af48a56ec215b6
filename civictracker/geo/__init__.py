"""Offline geocoding of informal text against a city's own streets (pure Python, no web/db imports)."""

from .extract import extract_locations
from .gazetteer import Gazetteer, build_from_pack, build_gazetteer, load_gazetteer
from .geocode import geocode_phrase, geocode_text
from .types import GeocodeResult, LocationPhrase, PackError

__all__ = [
    "Gazetteer",
    "GeocodeResult",
    "LocationPhrase",
    "PackError",
    "build_from_pack",
    "build_gazetteer",
    "extract_locations",
    "geocode_phrase",
    "geocode_text",
    "load_gazetteer",
]
