"""The city's gazetteer, loaded once per process, and locating free text against it."""

from __future__ import annotations

import threading
from pathlib import Path

from civictracker.geo.gazetteer import Gazetteer, load_gazetteer
from civictracker.geo.geocode import geocode_text
from civictracker.geo.types import GeocodeResult

_lock = threading.Lock()
_cache: dict[tuple[Path, Path | None], Gazetteer] = {}

# Below this the location is not trusted enough to send a crew: the resident is asked instead.
MIN_CONFIDENCE = 0.5


def get_gazetteer(pack_dir: Path, cache_dir: Path | None = None) -> Gazetteer:
    key = (pack_dir, cache_dir)
    gz = _cache.get(key)
    if gz is None:
        with _lock:
            gz = _cache.get(key)
            if gz is None:
                gz = load_gazetteer(pack_dir, cache_dir)
                _cache[key] = gz
    return gz


def locate_text(
    gazetteer: Gazetteer, text: str, geotag: tuple[float, float] | None = None
) -> tuple[GeocodeResult, bool]:
    """The best location of a post, and whether it is good enough to act on."""
    result = geocode_text(gazetteer, text, geotag)
    usable = result.found and result.confidence >= MIN_CONFIDENCE
    return result, usable
