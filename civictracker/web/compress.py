"""gzip for the app's own static files (Leaflet, the map's and console's scripts and styles), made once.

The embedded default serves the site itself, with no proxy in front to compress: a resident's first map
on a phone downloaded 183 KB of scripts and styles that gzip to 53 KB. Each file is compressed once per
version (its path and ETag) and kept in memory; they are few and small. The ETag becomes weak, as it
must when one resource is sent in two encodings, and `Vary: Accept-Encoding` tells caches to keep both;
revalidation still answers 304 (If-None-Match compares weakly). Dynamic answers (the viewport, Open311)
are left alone: they are cached per data version, and compressing each would cost every request CPU.
"""

from __future__ import annotations

import gzip
import threading

from flask import Flask, Response, request

COMPRESSIBLE = frozenset({"text/css", "text/javascript", "application/javascript", "image/svg+xml"})
MIN_BYTES = 512  # below this gzip's header and checksum eat the gain
_packed: dict[tuple[str, str], bytes] = {}
_lock = threading.Lock()


def _static(response: Response) -> bool:
    endpoint = request.endpoint or ""
    return (
        request.method in ("GET", "HEAD")
        and (endpoint == "static" or endpoint.endswith(".static"))
        and response.status_code == 200
        and response.mimetype in COMPRESSIBLE
    )


def gzip_static(response: Response) -> Response:
    """The static answer gzipped when the client takes gzip (after_request)."""
    if not _static(response):
        return response
    response.vary.add("Accept-Encoding")
    if not request.accept_encodings["gzip"] or "Content-Encoding" in response.headers:
        return response
    etag, _ = response.get_etag()
    key = (request.path, etag or "")
    packed = _packed.get(key)
    response.direct_passthrough = False  # send_file streams the file: read it, or drop it for the copy
    if packed is None:
        body = response.get_data()
        if len(body) < MIN_BYTES:
            return response
        packed = gzip.compress(body, compresslevel=9, mtime=0)  # mtime 0: the same bytes every time
        with _lock:
            _packed[key] = packed
    stream = response.response
    if hasattr(stream, "close"):
        stream.close()  # the file send_file opened
    response.set_data(packed)
    response.headers["Content-Encoding"] = "gzip"
    if etag:
        response.set_etag(etag, weak=True)
    return response


def register(app: Flask) -> None:
    app.after_request(gzip_static)
