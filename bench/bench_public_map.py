"""Public map and Open311 reads at scale: cold and warm, cached and not, on an empty and a big history.

Run: .venv/bin/python bench/bench_public_map.py [--backend sqlite|postgis|both] [--history 0,100000,1000000]
                                               [--runs 30] [--no-gc-freeze]
Each (backend, history) gets a scratch database (SQLite file in a temp dir; PostGIS database created and
dropped), filled with bulk inserts by bench/public_history.py (10% open, half on one street). The
requests are then timed in a NEW process (so "cold" is the first request for that URL after process
start: no warm-up, no in-process cache), through Flask's test client (routing, queries, JSON,
templates; no network), started as wsgi.py starts a gunicorn worker (the geocoder loaded, then
gc.freeze(): without it, a full pass of the collector over the startup objects, 80-150 ms here, lands on
every few large answers; --no-gc-freeze shows that). Per case:
  cold      the first request for the URL in the fresh process
  uncached  the in-process caches (cells, built answers) cleared before each request (the database's
            own page cache stays warm)
  cached    the same request again (ETag not sent): the answer a busy map serves
  304       the same request with If-None-Match: what a revalidating browser or proxy costs
"map first load" is cold GET / plus the cold first viewport (zoom 13), the first two requests made.
The "(clock)" cases show recently closed tickets (status=closed or all): the city at zooms 11-15 and the
busy street at 15-17.
Targets (issue 17, 1M tickets with 100k open): viewport uncached <= 100 ms and cached <= 10 ms at every
zoom, first load <= 200 ms. The figures are noisy on a shared machine: re-run on a quiet one.
"""

from __future__ import annotations

import argparse
import gzip
import json
import logging
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HERE = Path(__file__).resolve()


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def cases(city_bbox: tuple[float, float, float, float], center: tuple[float, float]) -> list[tuple[str, str]]:
    lat, lon = center

    def view(zoom: int, clat: float, clon: float) -> str:
        # A 1280x800 px window at this zoom around (clat, clon).
        dlon = 1280 * 360 / (256 * 2**zoom) / 2
        dlat = 800 * 360 / (256 * 2**zoom) * math.cos(math.radians(clat)) / 2
        return f"{clon - dlon:.5f},{clat - dlat:.5f},{clon + dlon:.5f},{clat + dlat:.5f}"

    cb = ",".join(f"{v:.5f}" for v in city_bbox)
    hot = (42.3700, -71.0935)  # the middle of Hampshire St, where half the history lies
    return [
        ("GET / (map page)", "/"),
        ("viewport city z13", f"/api/map.geojson?bbox={cb}&zoom=13"),
        ("viewport city z11", f"/api/map.geojson?bbox={cb}&zoom=11"),
        ("viewport city z15", f"/api/map.geojson?bbox={cb}&zoom=15"),
        ("viewport hot street z15", f"/api/map.geojson?bbox={view(15, *hot)}&zoom=15"),
        ("viewport hot street z16", f"/api/map.geojson?bbox={view(16, *hot)}&zoom=16"),
        ("viewport hot street z17", f"/api/map.geojson?bbox={view(17, *hot)}&zoom=17"),
        ("viewport centre z17", f"/api/map.geojson?bbox={view(17, lat, lon)}&zoom=17"),
        ("viewport z13 potholes", f"/api/map.geojson?bbox={cb}&zoom=13&service=pothole"),
        ("viewport z13 status=all (clock)", f"/api/map.geojson?bbox={cb}&zoom=13&status=all"),
        ("viewport city z11 closed (clock)", f"/api/map.geojson?bbox={cb}&zoom=11&status=closed"),
        ("viewport city z13 closed (clock)", f"/api/map.geojson?bbox={cb}&zoom=13&status=closed"),
        ("viewport city z15 all (clock)", f"/api/map.geojson?bbox={cb}&zoom=15&status=all"),
        ("viewport hot z15 all (clock)", f"/api/map.geojson?bbox={view(15, *hot)}&zoom=15&status=all"),
        ("viewport hot z16 all (clock)", f"/api/map.geojson?bbox={view(16, *hot)}&zoom=16&status=all"),
        ("viewport hot z17 closed (clock)", f"/api/map.geojson?bbox={view(17, *hot)}&zoom=17&status=closed"),
        ("viewport globe z3 (clipped)", "/api/map.geojson?bbox=-180,-85,180,85&zoom=3"),
        ("list in view city z13", f"/api/reports.json?bbox={cb}&zoom=13"),
        ("list in view hot street z17", f"/api/reports.json?bbox={view(17, *hot)}&zoom=17"),
        ("list in view closed z13 (clock)", f"/api/reports.json?bbox={cb}&zoom=13&status=closed"),
        ("search a corner", "/api/search?q=Hampshire+St+and+Prospect+St"),
        ("open311 requests.json default", "/open311/v2/requests.json"),
        ("open311 requests.json open p2", "/open311/v2/requests.json?status=open&page=2"),
    ]


def measure(url: str, instance: str, runs: int, *, freeze: bool = True) -> None:
    """In a fresh process: time every case cold, uncached, cached and 304; print one JSON line each."""
    import gc

    from cachetools import TTLCache

    from civictracker.app import create_app
    from civictracker.citypack import load_city_pack
    from civictracker.runtime import runtime_of, settings_of
    from civictracker.services import map_cells, map_open_cells
    from civictracker.services.map_cells import CELL_CACHE_LOCK
    from civictracker.web.http_cache import ANSWERS, ANSWERS_LOCK

    config = {
        "database_url": url,
        "instance_path": instance,
        "secret_key": "bench",
        "open311_rate_limit": "",
        "open311_post_rate_limit": "",
    }
    app = create_app(config)
    city = load_city_pack(settings_of(app).city_pack_dir)
    client = app.test_client()
    if freeze:  # what wsgi.py does after create_app()
        runtime_of(app).gazetteer()
        gc.collect()
        gc.freeze()

    # every in-process cache of cells or clusters, whatever its name (the script also times older code)
    caches = [v for m in (map_cells, map_open_cells) for v in vars(m).values() if isinstance(v, TTLCache)]

    def clear() -> None:
        with CELL_CACHE_LOCK:
            for cache in caches:
                cache.clear()
        with ANSWERS_LOCK:
            ANSWERS.clear()

    def timed(path: str, headers: dict[str, str] | None = None) -> tuple[float, object]:
        t0 = time.perf_counter()
        resp = client.get(path, headers=headers or {})
        return (time.perf_counter() - t0) * 1000, resp

    for label, path in cases(city.bbox, city.center):
        cold, resp = timed(path)
        status, size, etag = resp.status_code, len(resp.data), resp.headers.get("ETag", "")  # type: ignore[attr-defined]
        uncached = []
        for _ in range(runs):
            clear()
            uncached.append(timed(path)[0])
        cached = [timed(path)[0] for _ in range(runs)]
        revalidated = [timed(path, {"If-None-Match": etag})[0] for _ in range(runs)] if etag else []
        codes = {timed(path, {"If-None-Match": etag})[1].status_code} if etag else set()  # type: ignore[attr-defined]
        print(
            json.dumps(
                {
                    "case": label,
                    "status": status,
                    "bytes": size,
                    "cold": cold,
                    "uncached": [statistics.median(uncached), p95(uncached)],
                    "cached": [statistics.median(cached), p95(cached)],
                    "304": [statistics.median(revalidated), p95(revalidated)] if revalidated else None,
                    "304_ok": codes == {304},
                }
            ),
            flush=True,
        )


def report(lines: list[dict[str, object]]) -> None:
    print(
        f"{'case':34} {'st':>3} {'bytes':>8} {'cold':>7} {'uncached med/p95':>17} {'cached med/p95':>15} "
        f"{'304 med':>8}  verdict"
    )
    first_load = 0.0
    for i, r in enumerate(lines):
        un, ca, nm = r["uncached"], r["cached"], r["304"]
        if i < 2:
            first_load += float(r["cold"])  # type: ignore[arg-type]
        verdict = ""
        if str(r["case"]).startswith(("viewport", "list")):
            ok = r["status"] == 200 and un[1] <= 100 and ca[1] <= 10  # type: ignore[index]
            verdict = "ok" if ok else "MISSED (<=100 / <=10 ms)"
        elif str(r["case"]).startswith("search"):
            verdict = "ok" if r["status"] == 200 and un[1] <= 50 else "MISSED (<= 50 ms)"  # type: ignore[index]
        elif str(r["case"]).startswith("open311"):
            verdict = "ok" if r["status"] == 200 and int(r["bytes"]) <= 64 * 1024 else "MISSED (<= 64 KiB)"  # type: ignore[call-overload]
        nm_s = f"{nm[0]:8.2f}" if nm else "       -"  # type: ignore[index]
        print(
            f"{r['case']!s:34} {r['status']!s:>3} {r['bytes']!s:>8} {float(r['cold']):7.1f} "  # type: ignore[arg-type]
            f"{un[0]:8.1f}/{un[1]:7.1f} {ca[0]:7.2f}/{ca[1]:6.2f} {nm_s}  {verdict}"  # type: ignore[index]
        )
    verdict = "ok" if first_load <= 200 else "MISSED (<= 200 ms)"
    print(f"map first load (cold GET / + cold viewport z13): {first_load:.1f} ms  {verdict}")
    by_case = {str(r["case"]): int(r["bytes"]) for r in lines}  # type: ignore[call-overload]
    static = HERE.parent.parent / "civictracker" / "web" / "public" / "static"
    files = [
        "vendor/leaflet/leaflet.js",
        "vendor/leaflet/leaflet.css",
        "maps/maps.js",
        "maps/maps.css",
        "favicon.svg",
    ]
    assets = [static / f for f in files if (static / f).is_file()]
    raw = sum(len(a.read_bytes()) for a in assets)
    packed = sum(len(gzip.compress(a.read_bytes())) for a in assets)
    data = by_case.get("viewport city z13", 0) + by_case.get("list in view city z13", 0)
    page = by_case.get("GET / (map page)", 0)
    # The app gzips its static files for a client that takes gzip (web/compress.py), as every browser does.
    print(
        f"map first-load bytes sent: page {page:,} + scripts, styles and icon {packed:,} gzipped "
        f"({raw:,} plain) + viewport and list at z13 {data:,} = {page + packed + data:,} "
        f"({page + raw + data:,} uncompressed)"
    )


def run(backend: str, history: int, runs: int, *, freeze: bool = True) -> None:
    from civictracker.extensions import db
    from civictracker.runtime import settings_of
    from tests.conftest import drop_app, make_app

    sys.path.insert(0, str(HERE.parent))
    from public_history import fill

    tmp = Path(tempfile.mkdtemp(prefix=f"bench-map-{backend}-"))
    app, pg_db = make_app(backend, tmp, open311_rate_limit="", open311_post_rate_limit="")
    try:
        with app.app_context():
            took = fill(app, history) if history else {"insert_s": 0.0, "cells_s": 0.0}
            url = db.engine.url.render_as_string(hide_password=False)
            instance = str(settings_of(app).resolved_instance_path)
            db.session.remove()
            db.engine.dispose()
        print(
            f"\n== {backend}: {history:,} tickets (bulk insert {took['insert_s']:.1f} s, map cells built in "
            f"{took['cells_s']:.2f} s), {runs} runs each; times in ms, measured in a fresh process",
            flush=True,
        )
        env = dict(os.environ, PYTHONPATH=str(HERE.parent.parent))
        command = [sys.executable, str(HERE), "--measure", url, "--instance", instance, "--runs", str(runs)]
        out = subprocess.run(
            [*command, *([] if freeze else ["--no-gc-freeze"])],
            check=True,
            capture_output=True,
            text=True,
            env=env,
        ).stdout
        report([json.loads(line) for line in out.splitlines() if line.startswith("{")])
    finally:
        drop_app(app, pg_db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgis", "both"], default="both")
    parser.add_argument(
        "--history", default="0,100000", help="comma-separated ticket counts, e.g. 0,100000,1000000"
    )
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="skip what wsgi.py does after startup (geocoder loaded, gc.freeze()), to see the collector's pauses",
    )
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child process: a database URL
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.measure:
        measure(args.measure, args.instance, args.runs, freeze=args.gc_freeze)
        return
    backends = ["sqlite", "postgis"] if args.backend == "both" else [args.backend]
    for history in [int(h) for h in args.history.split(",") if h.strip()]:
        for backend in backends:
            run(backend, history, args.runs, freeze=args.gc_freeze)


if __name__ == "__main__":
    main()
