"""Console latency: p50/p95 of the queue page and a ticket page with 1,000,000 tickets stored, 10,000 open.

Run: .venv/bin/python bench/bench_console.py [--backend sqlite|postgis|both] [--total N] [--open N] [--runs N]
Each backend gets a scratch database (SQLite file in a temp dir; PostGIS database created and dropped).
Times are server-side (Flask test client, in process: no network), on a fresh migrated database.
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

from sqlalchemy import insert, select, text

from tests.conftest import drop_app, make_app

BATCH = 20_000
CENTER = (42.3736, -71.1097)
OPEN_STATES = ["open", "acknowledged", "assigned", "in_progress", "reopened", "new", "needs_location"]


def _fill(app, total: int, n_open: int) -> float:
    from civictracker.extensions import db
    from civictracker.geo import spatial
    from civictracker.models import Crew, InboundPost, Service, Ticket, TicketEvent
    from civictracker.services.users import create_user

    rng = random.Random(7)
    start = time.perf_counter()
    with app.app_context():
        s = db.session
        services = [(sid, hours) for sid, hours in s.execute(select(Service.id, Service.sla_hours))]
        crews = []
        for i in range(12):
            lat, lon = CENTER[0] + rng.uniform(-0.02, 0.02), CENTER[1] + rng.uniform(-0.03, 0.03)
            crews.append(Crew(name=f"Crew {i}", lat=lat, lon=lon, location=spatial.point(lat, lon)))
        s.add_all(crews)
        create_user(s, "bench@city.example", "bench-password-123", role="dispatcher")
        s.commit()
        crew_ids = [c.id for c in crews]
        now = dt.datetime.now(dt.UTC)
        open_ids = set(rng.sample(range(1, total + 1), n_open))
        conn = s.connection()
        rows = []
        for i in range(1, total + 1):
            sid, hours = services[i % len(services)]
            created = now - dt.timedelta(minutes=rng.randint(1, 3 * 365 * 24 * 60))
            lat, lon = CENTER[0] + rng.uniform(-0.025, 0.025), CENTER[1] + rng.uniform(-0.035, 0.035)
            is_open = i in open_ids
            status = rng.choice(OPEN_STATES) if is_open else rng.choice(["closed", "resolved", "duplicate"])
            rows.append(
                {
                    "id": i,
                    "service_id": sid,
                    "status": status,
                    "priority": 1 if rng.random() < 0.05 else 0,
                    "location": spatial.point(lat, lon),
                    "public_location": None,
                    "lat": lat,
                    "lon": lon,
                    "public_lat": round(lat, 4),
                    "public_lon": round(lon, 4),
                    "summary": f"Bench ticket {i}",
                    "address": f"{rng.randint(1, 999)} Massachusetts Ave",
                    "crew_id": rng.choice(crew_ids) if status in ("assigned", "in_progress") else None,
                    "report_count": 1,
                    "triage": {"bench": True},
                    "sla_due_at": created + dt.timedelta(hours=hours),
                    "created_at": created,
                    "updated_at": created,
                    "closed_at": None if is_open else created + dt.timedelta(hours=rng.randint(1, 400)),
                    "first_public_reply_at": created + dt.timedelta(minutes=rng.randint(1, 600)),
                }
            )
            if len(rows) == BATCH:
                conn.execute(insert(Ticket.__table__), rows)
                rows = []
        if rows:
            conn.execute(insert(Ticket.__table__), rows)
        events, posts = [], []
        for i in sorted(open_ids):
            base = {
                "ticket_id": i,
                "from_status": None,
                "public_note": "",
                "internal_note": "",
                "is_public": False,
                "data": {},
                "created_at": now,
            }
            events.append(
                base
                | {
                    "kind": "created",
                    "to_status": "open",
                    "public_note": "Report received.",
                    "is_public": True,
                    "actor_label": "intake",
                }
            )
            events.append(
                base
                | {
                    "kind": "note",
                    "to_status": "open",
                    "internal_note": "bench note",
                    "actor_label": "system",
                }
            )
            posts.append(
                {
                    "channel": "replay",
                    "external_id": f"b{i}",
                    "kind": "mention",
                    "author_id": str(i),
                    "author_handle": f"user{i}",
                    "text": "there is a pothole here",
                    "ticket_id": i,
                    "raw": {},
                    "stages": {},
                    "received_at": now,
                }
            )
        conn.execute(insert(TicketEvent.__table__), events)
        conn.execute(insert(InboundPost.__table__), posts)
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT setval('tickets_id_seq', :n)"), {"n": total})
        s.commit()
        # VACUUM too on PostGIS: autovacuum would have run after a load this size in production, and without
        # it every count(*) visits the heap for visibility (what the public-map bench does as well).
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c2:
            c2.execute(text("VACUUM ANALYZE" if c2.dialect.name == "postgresql" else "ANALYZE"))
    return time.perf_counter() - start


def _p(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def _time(client, paths: list[str]) -> list[float]:
    out = []
    for path in paths:
        t0 = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (path, r.status_code)
    return out


def run(backend: str, total: int, n_open: int, runs: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix=f"bench-console-{backend}-"))
    app, pg_db = make_app(backend, tmp, log_level="WARNING")
    try:
        fill_s = _fill(app, total, n_open)
        from civictracker.extensions import db
        from civictracker.models import Ticket

        with app.app_context():
            open_ids = list(db.session.scalars(select(Ticket.id).where(Ticket.status.in_(OPEN_STATES))))
        client = app.test_client()
        r = client.post("/auth/login", data={"email": "bench@city.example", "password": "bench-password-123"})
        assert r.status_code == 302
        rng = random.Random(1)
        pages = max(1, len(open_ids) // 50)
        queue_paths = (
            ["/console/queue"] * (runs // 2)
            + [f"/console/queue?page={rng.randint(1, pages)}" for _ in range(runs // 4)]
            + [
                f"/console/queue?service=pothole&page={rng.randint(1, 5)}"
                for _ in range(runs - runs // 2 - runs // 4)
            ]
        )
        ticket_paths = [f"/console/tickets/{rng.choice(open_ids)}" for _ in range(runs)]
        _time(client, queue_paths[:5] + ticket_paths[:5])  # warm caches and templates
        q = _time(client, queue_paths)
        t = _time(client, ticket_paths)
        size_q = len(client.get("/console/queue").data)
        print(
            f"{backend:8s} tickets={total:,} open={len(open_ids):,} insert={fill_s:.1f}s | "
            f"queue p50={statistics.median(q):.1f} ms p95={_p(q, 0.95):.1f} ms ({size_q / 1024:.0f} KB) | "
            f"ticket p50={statistics.median(t):.1f} ms p95={_p(t, 0.95):.1f} ms  (runs={runs}, target p95 <= 200 ms: "
            f"{'ok' if max(_p(q, 0.95), _p(t, 0.95)) <= 200 else 'MISSED'})",
            flush=True,
        )
    finally:
        drop_app(app, pg_db)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--backend", choices=["sqlite", "postgis", "both"], default="both")
    ap.add_argument("--total", type=int, default=1_000_000)
    ap.add_argument("--open", type=int, default=10_000)
    ap.add_argument("--runs", type=int, default=200)
    args = ap.parse_args()
    for backend in ["sqlite", "postgis"] if args.backend == "both" else [args.backend]:
        run(backend, args.total, args.open, args.runs)


if __name__ == "__main__":
    main()
