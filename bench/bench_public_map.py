"""Public map at scale: bytes and server time of GET / and of viewport queries with 100,000 open tickets.

Run: .venv/bin/python bench/bench_public_map.py [--backend sqlite|postgis|both] [--tickets 100000] [--runs 40]
Each backend gets a scratch database (SQLite file in a temp dir; PostGIS database created and dropped).
Server time is measured in-process through Flask's test client (routing, queries, JSON, templates),
so it excludes the network; bytes are the response bodies as sent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import math
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from civictracker.runtime import settings_of
from tests.conftest import drop_app, make_app  # the same app builder the tests use

BATCH = 5_000


def populate(app, n: int, seed: int = 7) -> None:  # type: ignore[no-untyped-def]
    """Bulk-insert n open tickets spread over the city, denser around a few squares (as real reports are)."""
    from civictracker.citypack import load_city_pack
    from civictracker.extensions import db
    from civictracker.geo import spatial
    from civictracker.models import Service, Ticket

    rng = random.Random(seed)
    city = load_city_pack(settings_of(app).city_pack_dir)
    min_lon, min_lat, max_lon, max_lat = city.bbox
    hubs = [(42.3736, -71.1190), (42.3655, -71.1040), (42.3626, -71.0843), (42.3967, -71.1220)]
    service_ids = [s.id for s in db.session.query(Service).all()]
    statuses = ["open"] * 6 + ["acknowledged", "assigned", "in_progress", "reopened"]
    now = dt.datetime.now(dt.UTC)
    table = Ticket.__table__
    rows = []
    for i in range(n):
        if rng.random() < 0.4:
            hlat, hlon = rng.choice(hubs)
            lat, lon = rng.gauss(hlat, 0.004), rng.gauss(hlon, 0.005)
        else:
            lat, lon = rng.uniform(min_lat, max_lat), rng.uniform(min_lon, max_lon)
        lat, lon = min(max(lat, min_lat), max_lat), min(max(lon, min_lon), max_lon)
        private = rng.random() < 0.1
        plat, plon = (round(lat, 3), round(lon, 3)) if private else (lat, lon)
        created = now - dt.timedelta(minutes=rng.randint(0, 365 * 24 * 60))
        rows.append(
            {
                "service_id": rng.choice(service_ids),
                "status": rng.choice(statuses),
                "priority": 0,
                "lat": lat,
                "lon": lon,
                "public_lat": plat,
                "public_lon": plon,
                "location": spatial.point(lat, lon),
                "public_location": spatial.point(plat, plon),
                "address": f"{rng.randint(1, 999)} Massachusetts Ave",
                "street": "Massachusetts Ave",
                "private_location": private,
                "summary": "Bench ticket.",
                "report_count": 1,
                "created_at": created,
                "updated_at": created,
                "geocode_status": "ok",
                "triage": {},
                "attributes": {},
            }
        )
        if len(rows) == BATCH or i == n - 1:
            db.session.execute(table.insert(), rows)
            db.session.commit()
            rows = []
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE tickets")
    else:
        db.session.execute(db.text("ANALYZE"))
        db.session.commit()


def timed(client, url: str, runs: int) -> tuple[list[float], int, int]:  # type: ignore[no-untyped-def]
    times, size, status = [], 0, 0
    client.get(url)  # warm caches (templates, statement cache) once
    for _ in range(runs):
        t0 = time.perf_counter()
        resp = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        size, status = len(resp.data), resp.status_code
    return times, size, status


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--backend", choices=["sqlite", "postgis", "both"], default="both")
    parser.add_argument("--backends", help="comma-separated list (older spelling of --backend)")
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)

    backends = ["sqlite", "postgis"] if args.backend == "both" else [args.backend]
    if args.backends:
        backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for backend in backends:
        tmp = Path(tempfile.mkdtemp(prefix=f"bench-map-{backend}-"))
        app, pg_db = make_app(backend, tmp)
        try:
            with app.app_context():
                t0 = time.perf_counter()
                populate(app, args.tickets)
                load_s = time.perf_counter() - t0
                from civictracker.citypack import load_city_pack

                city = load_city_pack(settings_of(app).city_pack_dir)
                lat, lon = city.center
                # A 1280x800 px viewport at zoom 17 (street level) around the centre.
                dlon = 1280 * 360 / (256 * 2**17) / 2
                dlat = 800 * 360 / (256 * 2**17) * math.cos(math.radians(lat)) / 2
                street = f"{lon - dlon:.5f},{lat - dlat:.5f},{lon + dlon:.5f},{lat + dlat:.5f}"
                cb = ",".join(f"{v:.5f}" for v in city.bbox)
                client = app.test_client()
                static = sum(
                    len(client.get(f"/static/public/vendor/leaflet/{f}").data)
                    for f in ("leaflet.js", "leaflet.css")
                )
                cases = [
                    ("GET / (map page HTML)", "/", 300_000, 200),
                    ("viewport, city zoom 13", f"/api/map.geojson?bbox={cb}&zoom=13", 150_000, 100),
                    ("viewport, zoom 15", f"/api/map.geojson?bbox={cb}&zoom=15", 150_000, 100),
                    ("viewport, street zoom 17", f"/api/map.geojson?bbox={street}&zoom=17", 150_000, 100),
                    ("viewport, street zoom 17, potholes", f"/api/map.geojson?bbox={street}&zoom=17&service=pothole",
                     150_000, 100),
                    ("viewport, globe bbox zoom 3 (clipped)", "/api/map.geojson?bbox=-180,-85,180,85&zoom=3",
                     150_000, 100),
                    ("GET /tickets/50000", "/tickets/50000", 300_000, 200),
                ]  # fmt: skip
                print(
                    f"\n== {backend}: {args.tickets:,} open tickets (bulk load {load_s:.1f} s), {args.runs} runs each"
                )
                print(f"{'case':42} {'status':>6} {'bytes':>9} {'median ms':>10} {'p95 ms':>8}  target")
                for label, url, max_bytes, max_ms in cases:
                    times, size, status = timed(client, url, args.runs)
                    med, hi = statistics.median(times), p95(times)
                    # A fast error page is not a result: anything but 200 is a failure whatever its speed.
                    ok = "ok" if status == 200 and size <= max_bytes and hi <= max_ms else "MISSED"
                    print(
                        f"{label:42} {status:>6} {size:>9,} {med:>10.1f} {hi:>8.1f}  "
                        f"<= {max_bytes // 1000} KB, <= {max_ms} ms: {ok}"
                    )
                page = len(client.get("/").data)
                print(f"first load incl. vendored Leaflet JS+CSS (tiles excluded): {page + static:,} bytes")
        finally:
            drop_app(app, pg_db)


if __name__ == "__main__":
    main()
