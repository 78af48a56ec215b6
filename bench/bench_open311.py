"""Open311 GET /requests with 100,000 open tickets on SQLite/SpatiaLite and PostgreSQL/PostGIS: bytes and ms.

Run: .venv/bin/python bench/bench_open311.py [--backend sqlite|postgis|both] [--tickets 100000] [--runs 30]
     [--no-gc-freeze]
Each backend gets a scratch database (SQLite file in a temp dir; PostGIS database created and dropped).
Server time: in-process through Flask's test client (routing, query, serializer), no network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import logging
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select

from civictracker.extensions import db
from civictracker.geo import spatial
from civictracker.models import Service, Ticket, TicketEvent
from civictracker.models.types import utcnow
from tests.conftest import drop_app, make_app

BATCH = 5000
TARGET_MS = 150  # the figure for 1,000 results
BBOX = (-71.1605, 42.3525, -71.064, 42.4045)


def populate(n: int) -> float:
    """n open tickets spread over the last 80 days, each with its public 'created' event; bulk inserts."""
    started = time.perf_counter()
    rng = random.Random(311)
    services = list(db.session.execute(select(Service.id, Service.sla_hours)))
    now = utcnow()
    next_id = 1
    for offset in range(0, n, BATCH):
        tickets, events = [], []
        for i in range(offset, min(n, offset + BATCH)):
            lat = rng.uniform(BBOX[1], BBOX[3])
            lon = rng.uniform(BBOX[0], BBOX[2])
            at = now - dt.timedelta(seconds=rng.uniform(0, 80 * 86400))
            service_id, sla = services[i % len(services)]
            wkt = spatial.point(lat, lon)
            tickets.append(
                {
                    "id": next_id,
                    "service_id": service_id,
                    "status": "open",
                    "lat": lat,
                    "lon": lon,
                    "public_lat": lat,
                    "public_lon": lon,
                    "location": wkt,
                    "public_location": wkt,
                    "summary": f"Reported problem {i} near a Cambridge street",
                    "address": f"{i % 900 + 1} Main St",
                    "source_channel": "x_mention",
                    "geocode_status": "ok",
                    "report_count": 1,
                    "created_at": at,
                    "updated_at": at,
                    "sla_due_at": at + dt.timedelta(hours=sla),
                }
            )
            events.append(
                {
                    "ticket_id": next_id,
                    "kind": "created",
                    "to_status": "open",
                    "public_note": "Report received.",
                    "is_public": True,
                    "actor_label": "intake",
                    "created_at": at,
                }
            )
            next_id += 1
        db.session.execute(insert(Ticket), tickets)
        db.session.execute(insert(TicketEvent), events)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect() as conn:
            conn.exec_driver_sql("SELECT setval('tickets_id_seq', (SELECT max(id) FROM tickets))")
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    else:
        with db.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()
    return time.perf_counter() - started


class FullCollections:
    """Counts the garbage collector's full (generation 2) passes and their time: the p95 tail's usual cause."""

    def __init__(self) -> None:
        self.count, self.ms, self._t0 = 0, 0.0, 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.count += 1
            self.ms += (time.perf_counter() - self._t0) * 1000

    def take(self) -> tuple[int, float]:
        out = (self.count, self.ms)
        self.count, self.ms = 0, 0.0
        return out


def measure(client, url: str, runs: int) -> tuple[int, int, float, float]:
    client.get(url)  # warm caches (city pack, statement cache)
    times, size, count = [], 0, 0
    for _ in range(runs):
        t0 = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.data[:200]
        size = len(response.data)
        count = response.data.count(b'"service_request_id"') or response.data.count(b"<service_request_id>")
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return size, count, statistics.median(times), p95


def run_backend(backend: str, n: int, runs: int, *, freeze: bool = False) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench311-{backend}-"))
    app, pg_db = make_app(backend, tmp)
    try:
        with app.app_context():
            seconds = populate(n)
            print(f"[{backend}] inserted {n:,} open tickets (+ events) in {seconds:.1f} s")
            client = app.test_client()
            if freeze:
                # What wsgi.py does after create_app() (gc.freeze()): startup objects leave the
                # collector's full passes (each ~100 ms on the bench machine with a 150k-object heap).
                gc.collect()
                gc.freeze()
            collections = FullCollections()
            urls = [
                "/open311/v2/requests.json?page_size=500",
                "/open311/v2/requests.json",  # the spec's default: 90 days, first 1000
                "/open311/v2/requests.xml",
                "/open311/v2/requests.json?extensions=true",
                "/open311/v2/requests.xml?extensions=true",
                "/open311/v2/requests.json?status=open&service_code=pothole,trash&page=3&page_size=100",
            ]
            tag = f"{backend}{', gc frozen' if freeze else ''}"
            for url in urls:
                collections.take()
                size, count, median, p95 = measure(client, url, runs)
                full_n, full_ms = collections.take()
                verdict = "ok" if p95 <= TARGET_MS else "MISSED"
                print(
                    f"[{tag}] GET {url.removeprefix('/open311/v2'):<80} {count:>5} results {size / 1024:6.1f} KB"
                    f"  median {median:6.1f} ms  p95 {p95:6.1f} ms  (target p95 <= {TARGET_MS} ms: {verdict})"
                    f"  full GC passes: {full_n} ({full_ms:.0f} ms)",
                    flush=True,
                )
    finally:
        drop_app(app, pg_db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--backend", choices=["sqlite", "postgis", "both"], default="both")
    parser.add_argument("--backends", help="comma-separated list (older spelling of --backend)")
    parser.add_argument(
        "--no-gc-freeze",
        dest="gc_freeze",
        action="store_false",
        help="skip the gc.freeze() that wsgi.py does after startup (to see the collector's pauses)",
    )
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    backends = ["sqlite", "postgis"] if args.backend == "both" else [args.backend]
    if args.backends:
        backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    for backend in backends:
        run_backend(backend, args.tickets, args.runs, freeze=args.gc_freeze)


if __name__ == "__main__":
    main()
