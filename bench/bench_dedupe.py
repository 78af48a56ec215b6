"""The duplicate query (services/dedupe.py find_duplicate) with a big stored history: p50/p95, cold and warm.

Usage:
  .venv/bin/python bench/bench_dedupe.py --backend sqlite --history 0,100000,1000000
  .venv/bin/python bench/bench_dedupe.py --backend postgis --history 1000000 --runs 2000

Each history (bench/history.py: N tickets, half of them along Massachusetts Ave, one in ten open, ages over
a year) goes into a scratch database. The queries ask at points drawn like the history's (half on that
street), for every service in turn, with the city's radius. Cold: the first pass after the fill, on a new
connection; warm: the same points again. The target (issue #17): p95 <= 2 ms at 1M tickets on both.
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

from sqlalchemy import select

from bench.history import CITY_BOX, MAIN_FROM, MAIN_TO, fill_history
from tests.conftest import drop_app, make_app


def _points(n: int, seed: int = 11) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        if rng.random() < 0.5:
            f = rng.random()
            out.append(
                (
                    MAIN_FROM[0] + (MAIN_TO[0] - MAIN_FROM[0]) * f + rng.uniform(-0.00015, 0.00015),
                    MAIN_FROM[1] + (MAIN_TO[1] - MAIN_FROM[1]) * f + rng.uniform(-0.00015, 0.00015),
                )
            )
        else:
            out.append((rng.uniform(CITY_BOX[0], CITY_BOX[2]), rng.uniform(CITY_BOX[1], CITY_BOX[3])))
    return out


def _pass(session, services, points, rules) -> list[float]:  # type: ignore[no-untyped-def]
    from civictracker.geo.types import GeocodeResult
    from civictracker.services.dedupe import find_duplicate

    now = dt.datetime.now(dt.UTC)
    times = []
    for k, (lat, lon) in enumerate(points):
        service = services[k % len(services)]
        loc = GeocodeResult(lat=lat, lon=lon, precision="street", matched="x")
        t0 = time.perf_counter()
        find_duplicate(session, service, loc, rules=rules, now=now)
        times.append((time.perf_counter() - t0) * 1000)
    session.rollback()
    return times


def _line(label: str, times: list[float]) -> str:
    cuts = statistics.quantiles(times, n=100)
    return f"{label}: p50 {cuts[49]:.2f} ms, p95 {cuts[94]:.2f} ms, max {max(times):.1f} ms ({len(times)} queries)"


def run(backend: str, history: int, runs: int) -> None:
    from civictracker.extensions import db
    from civictracker.models import Service
    from civictracker.services.dedupe import DedupeRules

    with tempfile.TemporaryDirectory() as tmp:
        app, pg_db = make_app(backend, Path(tmp))
        try:
            with app.app_context():
                seconds = fill_history(db.session, history, quiet=True)
                services = [s for s in db.session.scalars(select(Service)) if not s.street_wide]
                db.session.remove()
                db.engine.dispose()  # cold: a new connection, nothing of the fill in its caches
                points = _points(runs)
                cold = _pass(db.session, services, points, DedupeRules())
                warm = _pass(db.session, services, points, DedupeRules())
            print(f"[{backend}] history {history:,} (filled in {seconds:.0f} s)")
            print("  " + _line("cold", cold))
            verdict = "ok" if statistics.quantiles(warm, n=100)[94] <= 2 else "ABOVE TARGET"
            print("  " + _line("warm", warm) + f"  target p95 <= 2 ms: {verdict}")
        finally:
            drop_app(app, pg_db)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgis", "both"], default="both")
    parser.add_argument("--history", default="0,100000,1000000", help="comma-separated ticket counts")
    parser.add_argument("--runs", type=int, default=1000, help="queries per pass")
    args = parser.parse_args()
    backends = ["sqlite", "postgis"] if args.backend == "both" else [args.backend]
    for history in (int(h.replace("_", "")) for h in args.history.split(",")):
        for backend in backends:
            run(backend, history, args.runs)


if __name__ == "__main__":
    main()
