"""The inbox page's queries with N stored posts, U of them waiting for a person: p50/p95 per filter.

PYTHONPATH=. python bench/bench_inbox.py [--backend sqlite|postgis] [--posts 1000000] [--waiting 10000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import insert

from civictracker.extensions import db
from civictracker.models import InboundPost
from civictracker.services import inbox
from tests.conftest import drop_app, make_app

BATCH = 20_000


def _fill(total: int, waiting: int) -> None:
    """`total` posts: `waiting` new/assigned, a tenth decided by the system, the rest on tickets (NULL)."""
    rng = random.Random(13)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    open_ids = set(rng.sample(range(total), waiting))
    for first in range(0, total, BATCH):
        rows = []
        for i in range(first, min(total, first + BATCH)):
            state = (
                ("assigned" if i % 7 == 0 else "new")
                if i in open_ids
                else ("handled" if i % 10 == 0 else None)
            )
            rows.append(
                {
                    "channel": "x",
                    "external_id": str(i),
                    "kind": "mention",
                    "author_id": str(i % 5000),
                    "author_handle": f"h{i % 5000}",
                    "text": "is the snow emergency over?",
                    "received_at": start + dt.timedelta(seconds=i),
                    "raw": {},
                    "stages": {},
                    "state": "processed",
                    "attempts": 1,
                    "inbox_state": state,
                    "inbox_priority": 3 if state == "new" and i % 97 == 0 else 0,
                }
            )
        db.session.execute(insert(InboundPost), rows)
        db.session.commit()


def _time(view: str, runs: int) -> tuple[float, float]:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        inbox.list_inbox(db.session, view, user_id=1)
        times.append((time.perf_counter() - began) * 1000)
        db.session.rollback()
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgis"])
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--waiting", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        app, pg_db = make_app(args.backend, Path(tmp))
        try:
            with app.app_context():
                began = time.perf_counter()
                _fill(args.posts, args.waiting)
                print(f"{args.backend}: {args.posts:,} posts, {args.waiting:,} waiting, filled in "
                      f"{time.perf_counter() - began:.0f} s")  # fmt: skip
                if args.backend == "postgis":
                    db.session.execute(db.text("ANALYZE inbound_posts"))
                    db.session.commit()
                for view in inbox.FILTERS:
                    p50, p95 = _time(view, args.runs)
                    print(f"  {view:7s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
        finally:
            drop_app(app, pg_db)


if __name__ == "__main__":
    main()
