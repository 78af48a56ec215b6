"""The app's static files go gzipped to a client that takes gzip, once compressed, and revalidate."""

from __future__ import annotations

import gzip
from pathlib import Path

import civictracker

STATIC = Path(civictracker.__file__).parent / "web" / "public" / "static"


def test_static_scripts_and_styles_are_gzipped_for_clients_that_take_it(app, client) -> None:  # type: ignore[no-untyped-def]
    url, path = "/static/public/vendor/leaflet/leaflet.js", STATIC / "vendor" / "leaflet" / "leaflet.js"
    plain = client.get(url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    assert plain.data == path.read_bytes() and "Accept-Encoding" in plain.headers["Vary"]
    for _ in range(2):  # compressed once, then served from memory: the same answer
        packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert packed.status_code == 200 and packed.headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(packed.data) == path.read_bytes()
        assert int(packed.headers["Content-Length"]) == len(packed.data) < len(path.read_bytes()) // 2
        assert packed.headers["ETag"].startswith('W/"')
    again = client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304


def test_pages_data_and_ranges_are_left_alone(app, client) -> None:  # type: ignore[no-untyped-def]
    gz = {"Accept-Encoding": "gzip"}
    assert "Content-Encoding" not in client.get("/", headers=gz).headers  # pages and data: not here
    assert "Content-Encoding" not in client.get("/open311/v2/services.json", headers=gz).headers
    part = client.get("/static/public/maps/maps.js", headers={**gz, "Range": "bytes=0-9"})
    assert part.status_code == 206 and "Content-Encoding" not in part.headers and len(part.data) == 10
