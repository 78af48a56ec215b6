"""Open311 GET /requests with 100,000 open tickets on SQLite/SpatiaLite and PostgreSQL/PostGIS: bytes and ms.

Run: .venv/bin/python bench/bench_open311.py [--tickets 100000] [--runs 30] [--backends sqlite,postgis]
"""

from __future__ import annotations

import argparse
import datetime as dt
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


def run_backend(backend: str, n: int, runs: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench311-{backend}-"))
    app, pg_db = make_app(backend, tmp)
    try:
        with app.app_context():
            seconds = populate(n)
            print(f"[{backend}] inserted {n:,} open tickets (+ events) in {seconds:.1f} s")
            client = app.test_client()
            urls = [
                "/open311/v2/requests.json?page_size=500",
                "/open311/v2/requests.json",  # the spec's default: 90 days, first 1000
                "/open311/v2/requests.xml",
                "/open311/v2/requests.json?extensions=true",
                "/open311/v2/requests.json?status=open&service_code=pothole,trash&page=3&page_size=100",
            ]
            for url in urls:
                size, count, median, p95 = measure(client, url, runs)
                print(
                    f"[{backend}] GET {url:<90} {count:>5} results {size / 1024:8.1f} KB  "
                    f"median {median:6.1f} ms  p95 {p95:6.1f} ms"
                )
    finally:
        drop_app(app, pg_db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--backends", default="sqlite,postgis")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        run_backend(backend.strip(), args.tickets, args.runs)


if __name__ == "__main__":
    main()
