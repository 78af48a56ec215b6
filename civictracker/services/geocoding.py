"""The city's gazetteer, loaded once per process and pack, and locating free text against it."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from civictracker.config import Settings
from civictracker.geo.extract import extract_locations
from civictracker.geo.gazetteer import Gazetteer
from civictracker.geo.geocode import geocode_text
from civictracker.geo.normalize import clean_text
from civictracker.geo.pack_loader import load_gazetteer
from civictracker.geo.remote import BACKENDS, RemoteConfig, RemoteGeocoder
from civictracker.geo.types import GeocodeResult

_lock = threading.Lock()
_cache: dict[tuple[Path, Path | None], Gazetteer] = {}  # by pack and cache folder: the same data, read once

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


def remote_geocoder(
    gazetteer: Gazetteer,
    backend: str,
    url: str = "",
    user_agent: str = "civictracker",
    min_delay_s: float = 1.0,
    cache_dir: Path | None = None,
    city_suffix: str = "",
) -> RemoteGeocoder | None:
    """A remote fallback bounded to this city (None when backend is empty); the city runtime keeps it."""
    if not backend:
        return None
    if backend not in BACKENDS:
        raise ValueError(f"unknown remote geocoder {backend!r}; use one of {', '.join(BACKENDS)}")
    config = RemoteConfig(
        backend=backend,
        url=url,
        user_agent=user_agent,
        min_delay_s=min_delay_s,
        cache_path=None if cache_dir is None else cache_dir / f"geocoder_{backend}.sqlite",
    )
    return RemoteGeocoder(config, gazetteer.bbox, gazetteer.contains, city_suffix=city_suffix)


def configure_remote(gazetteer: Gazetteer, settings: Settings, city_name: str = "") -> RemoteGeocoder | None:
    """The remote fallback the settings ask for (None when CIVICTRACKER_GEOCODER_REMOTE is empty)."""
    agent = settings.geocoder_remote_user_agent or f"civictracker ({settings.public_url})"
    return remote_geocoder(
        gazetteer,
        settings.geocoder_remote,
        url=settings.geocoder_remote_url,
        user_agent=agent,
        min_delay_s=settings.geocoder_remote_min_delay_s,
        cache_dir=settings.resolved_instance_path / "cache",
        city_suffix=city_name.removeprefix("City of ").strip(),
    )


def city_gazetteer(pack_dir: Path, settings: Settings) -> Gazetteer:
    """The city's gazetteer, cached in the instance folder (the remote fallback is configure_remote's)."""
    return get_gazetteer(pack_dir, settings.resolved_instance_path / "cache")


# Words that introduce a place ("outside the corner bakery"): without one, a post names no place the remote
# service could find, and asking would spend a rate-limited second per post on a vague answer.
_PLACE_CUE = re.compile(
    r"\b(?:at|near|outside|behind|beside|by|across from|in front of|next to|opposite|corner of|on|in)\s+\S",
    re.IGNORECASE,
)


def _remote_query(gazetteer: Gazetteer, text: str, result: GeocodeResult) -> str | None:
    """What to ask the remote service, or None: the phrase the offline geocoder saw (a street pair that
    never meets, an unknown number) if any, else the post only when it introduces a place."""
    phrases = extract_locations(text, gazetteer) if text.strip() else []
    if phrases:
        return phrases[0].text
    if result.matched:
        return result.matched
    cleaned = clean_text(text, gazetteer.lexicon)
    return cleaned if _PLACE_CUE.search(cleaned) else None


def locate_text(
    gazetteer: Gazetteer,
    text: str,
    geotag: tuple[float, float] | None = None,
    remote: RemoteGeocoder | None = None,
    *,
    private: bool = False,
) -> tuple[GeocodeResult, bool]:
    """The best location of a post, and whether it is good enough to act on.

    Offline first; the remote geocoder (the city runtime's, when one is configured) only when the offline one
    found nothing, and its answer counts only inside the city. Private text (a DM) never leaves the
    server: the remote service would receive the resident's words, often a home address.
    """
    result = geocode_text(gazetteer, text, geotag)
    remote = None if private else remote
    if not result.found and remote is not None and text and text.strip():
        query = _remote_query(gazetteer, text, result)
        answer = remote.geocode(query) if query else None
        if answer is not None and answer.found:
            result = answer
        elif answer is not None:
            result.reason = f"{result.reason}; {answer.reason}"
    usable = result.found and result.confidence >= MIN_CONFIDENCE
    return result, usable
