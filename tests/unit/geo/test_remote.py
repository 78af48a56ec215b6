"""The optional remote geocoder, through geopy's Nominatim, against a local fake Nominatim (no internet)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from civictracker.config import ConfigError, Settings, validate
from civictracker.geo import Gazetteer
from civictracker.geo.remote import RemoteConfig, RemoteGeocoder
from civictracker.services.geocoding import locate_text, remote_geocoder

INMAN_SQ = (42.3733, -71.1003)  # lat, lon: inside Cambridge
SOMERVILLE = (42.3795, -71.0950)  # Union Square, Somerville: inside Cambridge's bbox, outside the city


class FakeNominatim:
    """Answers /search like Nominatim's jsonv2 (a list of places, lat/lon as strings); records requests."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, list[str]], str]] = []
        self.answers: dict[str, tuple[float, float, str]] = {}
        self.fail = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                params = parse_qs(parts.query)
                fake.requests.append((params, self.headers.get("User-Agent", "")))
                if fake.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                q = params.get("q", [""])[0].lower()
                body: list[dict[str, Any]] = []
                for key, (lat, lon, kind) in fake.answers.items():
                    if parts.path == "/search" and key in q:
                        body.append(
                            {
                                "place_id": 1,
                                "licence": "Data (c) OpenStreetMap contributors, ODbL 1.0",
                                "osm_type": "node",
                                "osm_id": 1,
                                "lat": str(lat),
                                "lon": str(lon),
                                "class": "shop",
                                "type": kind,
                                "addresstype": kind,
                                "importance": 0.3,
                                "display_name": f"{key.title()}, Cambridge, Massachusetts",
                                "boundingbox": [
                                    str(lat - 1e-4),
                                    str(lat + 1e-4),
                                    str(lon - 1e-4),
                                    str(lon + 1e-4),
                                ],
                            }
                        )
                data = json.dumps(body[:1]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake() -> Iterator[FakeNominatim]:
    server = FakeNominatim()
    server.answers["corner bakery"] = (*INMAN_SQ, "building")
    server.answers["sparrow stall"] = (*SOMERVILLE, "building")
    yield server
    server.close()


def _remote(gz: Gazetteer, fake: FakeNominatim, cache: Path | None, delay: float = 0.0) -> RemoteGeocoder:
    config = RemoteConfig(
        backend="nominatim",
        url=f"http://127.0.0.1:{fake.port}",
        user_agent="civictracker-test (+http://127.0.0.1)",
        min_delay_s=delay,
        cache_path=cache,
    )
    return RemoteGeocoder(config, gz.bbox, gz.contains, city_suffix="Cambridge, Massachusetts")


def test_answer_inside_city_is_bounded_and_cached_on_disk(
    gz: Gazetteer, fake: FakeNominatim, tmp_path: Path
) -> None:
    cache = tmp_path / "remote.sqlite"
    remote = _remote(gz, fake, cache)
    res = remote.geocode("corner bakery")
    assert res.found and res.kind == "remote" and res.precision == "rooftop"
    assert abs(res.lat - INMAN_SQ[0]) < 1e-6 and abs(res.lon - INMAN_SQ[1]) < 1e-6  # type: ignore[operator]
    params, agent = fake.requests[0]
    assert params["q"] == ["corner bakery, Cambridge, Massachusetts"]
    assert params["bounded"] == ["1"]
    lon1, lat1, lon2, lat2 = (float(v) for v in params["viewbox"][0].split(","))
    assert (min(lon1, lon2), min(lat1, lat2), max(lon1, lon2), max(lat1, lat2)) == pytest.approx(gz.bbox)
    assert agent == "civictracker-test (+http://127.0.0.1)"
    assert remote.geocode("corner bakery").found and len(fake.requests) == 1  # memory cache
    again = _remote(gz, fake, cache)  # a new process: the on-disk cache answers
    assert again.geocode("Corner Bakery").found and len(fake.requests) == 1


def test_answer_outside_city_is_refused(gz: Gazetteer, fake: FakeNominatim) -> None:
    res = _remote(gz, fake, None).geocode("sparrow stall")
    assert not res.found and "outside the city" in (res.reason or "")


def test_nothing_found_and_server_errors_are_not_exceptions(gz: Gazetteer, fake: FakeNominatim) -> None:
    remote = _remote(gz, fake, None)
    assert "found nothing" in (remote.geocode("no such shop").reason or "")
    fake.fail = True
    res = remote.geocode("another shop")
    assert not res.found and "remote geocoder failed" in (res.reason or "")


def test_nominatim_is_rate_limited_to_one_request_per_second(gz: Gazetteer, fake: FakeNominatim) -> None:
    remote = _remote(gz, fake, None, delay=0.0)  # the usage policy floor applies even when asked for 0
    t0 = time.perf_counter()
    remote.geocode("first shop")
    remote.geocode("second shop")
    assert time.perf_counter() - t0 >= 0.95 and len(fake.requests) == 2


def test_locate_text_asks_remote_only_when_offline_fails(gz: Gazetteer, fake: FakeNominatim) -> None:
    remote = _remote(gz, fake, None)
    res, usable = locate_text(gz, "pothole at Hampshire St & Windsor St", remote=remote)
    assert res.kind == "intersection" and usable and fake.requests == []
    res, usable = locate_text(gz, "huge pothole outside the corner bakery", remote=remote)
    assert res.kind == "remote" and usable and len(fake.requests) == 1


def test_private_text_never_reaches_the_remote(gz: Gazetteer, fake: FakeNominatim, tmp_path: Path) -> None:
    from civictracker.intake.analysis import analyze_post

    remote = remote_geocoder(gz, "nominatim", url=f"http://127.0.0.1:{fake.port}", cache_dir=tmp_path)
    try:
        assert remote is not None
        res, _ = locate_text(gz, "rats behind the corner bakery", remote=remote, private=True)
        assert not res.found and fake.requests == []
        # A DM through the pipeline's analysis: the resident's words stay on the server.
        dm = analyze_post(
            "rats behind the corner bakery near my place", channel_kind="dm", gazetteer=gz, remote=remote
        )
        assert (dm.location is None or not dm.location.found) and fake.requests == []
        mention = analyze_post(
            "rats behind the corner bakery", channel_kind="mention", gazetteer=gz, remote=remote
        )
        assert mention.location is not None and len(fake.requests) == 1
    finally:
        remote_geocoder(gz, "")


def test_configured_remote_is_used_by_locate_text(gz: Gazetteer, fake: FakeNominatim, tmp_path: Path) -> None:
    remote = remote_geocoder(gz, "nominatim", url=f"http://127.0.0.1:{fake.port}", cache_dir=tmp_path)
    try:
        assert remote is not None and remote.config.cache_path == tmp_path / "geocoder_nominatim.sqlite"
        res, _ = locate_text(gz, "trash all over the lot behind the sparrow stall", remote=remote)
        assert not res.found and "outside the city" in (res.reason or "")
    finally:
        assert remote_geocoder(gz, "") is None  # no backend: offline only
    assert locate_text(gz, "corner bakery")[0].kind != "remote"


def test_remote_is_not_asked_without_a_place_and_refuses_a_city_sized_answer(
    gz: Gazetteer, fake: FakeNominatim
) -> None:
    remote = _remote(gz, fake, None)
    # No place named and no word introducing one: nothing worth a rate-limited request.
    res, usable = locate_text(gz, "streetlight has been out for a week, please fix", remote=remote)
    assert not usable and fake.requests == []
    # A vague query answered with the city itself is not a place to send a crew to.
    fake.answers["library"] = (*INMAN_SQ, "city")
    res, usable = locate_text(gz, "broken bench near the library", remote=remote)
    assert not usable and "only a city" in (res.reason or "") and len(fake.requests) == 1


def test_settings_validate_the_backend(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="GEOCODER_REMOTE"):
        validate(Settings(instance_path=str(tmp_path), geocoder_remote="google"))
    with pytest.raises(ConfigError, match="pelias needs"):
        validate(Settings(instance_path=str(tmp_path), geocoder_remote="pelias"))
    validate(Settings(instance_path=str(tmp_path), geocoder_remote="nominatim"))
