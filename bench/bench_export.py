"""The staff CSV export of a big history: streamed through the real route, with its memory measured.

Run: .venv/bin/python bench/bench_export.py [--backend sqlite|postgis] [--history 1000000]
A scratch database is filled by bench/public_history.py; an admin logs in through the real form and
GETs /console/export/tickets.csv with the test client, reading the answer chunk by chunk as a browser
download would. Printed: rows, bytes, seconds, time to the first chunk, and memory: the Python heap's peak
while streaming (tracemalloc, above what was allocated before the request) and the process's peak RSS
growth. Target (issue 15): bounded memory, i.e. the peak does not grow with the number of tickets; run
with --history 100000 and 1000000 and compare.
"""

from __future__ import annotations

import argparse
import logging
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from public_history import fill

from tests.conftest import drop_app, make_app
from tests.web.auth.auth_helpers import login, make_user


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def run(backend: str, history: int) -> None:
    from civictracker.extensions import db

    with tempfile.TemporaryDirectory() as tmp:
        app, pg = make_app(backend, Path(tmp))
        try:
            with app.app_context():
                took = fill(app, history)
                email = make_user(db.session, "admin").email
                db.session.remove()
            client = app.test_client()
            assert login(client, email).status_code in (302, 303)
            rss_before = _rss_mib()
            tracemalloc.start()
            base, _ = tracemalloc.get_traced_memory()
            start = time.perf_counter()
            response = client.get("/console/export/tickets.csv", buffered=False)
            assert response.status_code == 200, response.status_code
            first = None
            size = lines = 0
            for chunk in response.response:
                if first is None:
                    first = time.perf_counter() - start
                size += len(chunk)
                lines += chunk.count(b"\n") if isinstance(chunk, bytes) else chunk.count("\n")
            response.close()
            elapsed = time.perf_counter() - start
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(
                f"{backend}: {history:,} tickets (inserted in {took.get('insert_s', 0):.0f} s): "
                f"{lines - 1:,} rows, {size / 2**20:.1f} MiB in {elapsed:.1f} s "
                f"({(lines - 1) / elapsed:,.0f} rows/s; first chunk after {1000 * (first or 0):.0f} ms); "
                f"Python heap peak while streaming {(peak - base) / 2**20:.1f} MiB; "
                f"peak RSS growth {_rss_mib() - rss_before:.1f} MiB",
                flush=True,
            )
        finally:
            drop_app(app, pg)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=["sqlite", "postgis"], default="sqlite")
    parser.add_argument("--history", type=int, default=1_000_000)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    run(args.backend, args.history)


if __name__ == "__main__":
    main()
