"""Offline geocoding of informal text against a city's own streets (pure Python, no web/db imports)."""

from .build import GazetteerSpec, build_gazetteer
from .extract import extract_locations
from .gazetteer import Gazetteer
from .geocode import geocode_phrase, geocode_text
from .pack_loader import build_from_pack, load_gazetteer
from .types import GeocodeResult, LocationPhrase, PackError

__all__ = [
    "Gazetteer",
    "GazetteerSpec",
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
