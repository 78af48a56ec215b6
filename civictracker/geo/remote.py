"""Optional remote geocoder (Nominatim, Photon, Pelias through geopy): city-bounded, rate-limited, cached."""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .types import GeocodeResult, not_found

log = logging.getLogger(__name__)

BACKENDS = ("nominatim", "photon", "pelias")
NOMINATIM_MIN_DELAY_S = 1.0  # Nominatim's usage policy: at most one request per second
CONFIDENCE = 0.6  # a remote answer to a phrase our own street data could not place: usable, not certain
MEMORY_CACHE_SIZE = 5000  # answers kept in memory per process (all of them stay in the SQLite file)
# Answer types (Nominatim addresstype/type, Photon/Pelias layers) too coarse to send a crew to.
COARSE_TYPES = frozenset(
    {"city", "town", "village", "municipality", "county", "state", "region", "country", "postcode",
     "suburb", "district", "borough", "administrative", "boundary", "locality", "localadmin",
     "macrocounty", "macroregion", "neighbourhood", "quarter", "city_district"}
)  # fmt: skip


@dataclass(frozen=True)
class RemoteConfig:
    """How to reach the remote service. url: empty for the public host, or [scheme://]host[:port][/path]."""

    backend: str
    url: str = ""
    user_agent: str = "civictracker"
    min_delay_s: float = 1.0
    timeout_s: float = 5.0
    cache_path: Path | None = None


def _domain_scheme(url: str) -> tuple[str | None, str | None]:
    if not url:
        return None, None
    parts = urlsplit(url if "://" in url else f"https://{url}")
    domain = parts.netloc + parts.path.rstrip("/")
    return domain, parts.scheme


def build_geopy(config: RemoteConfig) -> Any:
    """The geopy geocoder object of a config (no request is made here)."""
    from geopy.geocoders import Nominatim, Pelias, Photon

    domain, scheme = _domain_scheme(config.url)
    common: dict[str, Any] = {"user_agent": config.user_agent, "timeout": config.timeout_s}
    if scheme:
        common["scheme"] = scheme
    if config.backend == "nominatim":
        return Nominatim(domain=domain or "nominatim.openstreetmap.org", **common)
    if config.backend == "photon":
        return Photon(domain=domain or "photon.komoot.io", **common)
    if config.backend == "pelias":
        if not domain:
            raise ValueError("pelias needs a url (there is no public default host)")
        return Pelias(domain, **common)
    raise ValueError(f"unknown remote geocoder {config.backend!r}; use one of {', '.join(BACKENDS)}")


class _Cache:
    """query -> answer (None: nothing found) in a small SQLite file; kept forever (addresses don't move)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        # Recent answers in memory, bounded: a long-lived worker must not grow without end.
        self._mem: OrderedDict[str, dict[str, Any] | None] = OrderedDict()
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            with self._connect() as con:
                con.execute("CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT, at REAL)")

    def _connect(self) -> sqlite3.Connection:
        assert self.path is not None
        return sqlite3.connect(self.path, timeout=5.0)

    def get(self, key: str) -> tuple[bool, dict[str, Any] | None]:
        with self._lock:
            if key in self._mem:
                self._mem.move_to_end(key)
                return True, self._mem[key]
        if self.path is None:
            return False, None
        with self._connect() as con:
            row = con.execute("SELECT value FROM answers WHERE key = ?", (key,)).fetchone()
        if row is None:
            return False, None
        value = json.loads(row[0])
        self._remember(key, value)
        return True, value

    def _remember(self, key: str, value: dict[str, Any] | None) -> None:
        with self._lock:
            self._mem[key] = value
            self._mem.move_to_end(key)
            while len(self._mem) > MEMORY_CACHE_SIZE:
                self._mem.popitem(last=False)

    def put(self, key: str, value: dict[str, Any] | None) -> None:
        self._remember(key, value)
        if self.path is None:
            return
        with self._connect() as con:
            con.execute(
                "INSERT OR REPLACE INTO answers (key, value, at) VALUES (?, ?, ?)",
                (key, json.dumps(value), time.time()),
            )


class RemoteGeocoder:
    """Free text -> a point inside the city, from a remote service, at most one request per min_delay_s."""

    def __init__(
        self,
        config: RemoteConfig,
        bbox: tuple[float, float, float, float],
        contains: Callable[[float, float], bool],
        city_suffix: str = "",
        geocoder: Any = None,
    ) -> None:
        from geopy.extra.rate_limiter import RateLimiter

        self.config = config
        self.bbox = bbox  # min lon, min lat, max lon, max lat
        self.contains = contains  # (lat, lon) -> inside the city
        self.city_suffix = city_suffix
        self.geocoder = geocoder if geocoder is not None else build_geopy(config)
        delay = config.min_delay_s
        if config.backend == "nominatim":
            delay = max(delay, NOMINATIM_MIN_DELAY_S)
        # geopy's RateLimiter spaces calls and retries once on a transient error; it is not thread-safe
        # across instances, so calls go through one lock.
        self._call = RateLimiter(
            self._lookup,
            min_delay_seconds=delay,
            max_retries=1,
            error_wait_seconds=delay,
            swallow_exceptions=False,
        )
        self._lock = threading.Lock()
        self.cache = _Cache(config.cache_path)
        self.requests = 0  # requests actually sent (for tests and logs)

    def _bounds(self) -> dict[str, Any]:
        min_lon, min_lat, max_lon, max_lat = self.bbox
        corners = [(min_lat, min_lon), (max_lat, max_lon)]
        if self.config.backend == "nominatim":
            return {"viewbox": corners, "bounded": True}
        if self.config.backend == "photon":
            return {"bbox": corners}
        return {"boundary_rect": corners}

    def _lookup(self, query: str) -> Any:
        self.requests += 1
        return self.geocoder.geocode(query, exactly_one=True, **self._bounds())

    def geocode(self, text: str) -> GeocodeResult:
        """The remote answer for a phrase, only inside the city; a network error is a reason, not a raise."""
        query = " ".join((text or "").split())[:200]
        if not query:
            return not_found("remote geocoder: empty query", kind="remote")
        if self.city_suffix and self.city_suffix.lower() not in query.lower():
            query = f"{query}, {self.city_suffix}"
        key = f"{self.config.backend}|{self.config.url}|{query.lower()}"
        hit, answer = self.cache.get(key)
        if not hit:
            from geopy.exc import GeopyError

            try:
                with self._lock:
                    loc = self._call(query)
            except (GeopyError, OSError, ValueError) as exc:
                log.warning("remote geocoder %s failed for %r: %s", self.config.backend, query, exc)
                return not_found(f"remote geocoder failed: {exc.__class__.__name__}", kind="remote")
            answer = None
            if loc is not None:
                raw = loc.raw if isinstance(loc.raw, dict) else {}
                answer = {
                    "lat": float(loc.latitude),
                    "lon": float(loc.longitude),
                    "address": str(loc.address or ""),
                    "type": str(raw.get("addresstype") or raw.get("type") or ""),
                }
            self.cache.put(key, answer)  # "nothing found" is cached too: the same post is not re-asked
        name = self.config.backend
        if answer is None:
            return not_found(f"{name} found nothing for {query!r}", kind="remote")
        lat, lon = answer["lat"], answer["lon"]
        if not self.contains(lat, lon):
            return not_found(f"{name} answer {answer['address']!r} is outside the city", kind="remote")
        kind = answer.get("type", "")
        if kind in COARSE_TYPES:
            # "Cambridge" the city (or its postcode, county, a suburb) answers every vague query: a point
            # at its centroid would send a crew nowhere in particular.
            return not_found(
                f"{name} answer {answer['address']!r} is only a {kind}, not a place", kind="remote"
            )
        precision = "rooftop" if kind in ("house", "building") else ("street" if kind == "road" else "place")
        return GeocodeResult(
            lat=lat,
            lon=lon,
            precision=precision,
            confidence=CONFIDENCE if precision != "street" else 0.45,
            matched=answer["address"] or query,
            reason=f"from the remote geocoder ({name}); the city's street data did not place it",
            kind="remote",
        )
