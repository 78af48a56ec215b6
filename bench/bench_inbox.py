"""The inbox with N stored posts, U of them waiting for a person: its query per filter, and the rendered
pages (GET /console/inbox and /console/inbox/<id>, logged in through the Flask test client), cold and warm.

PYTHONPATH=. python bench/bench_inbox.py [--backend sqlite|postgis] [--posts 1000000] [--waiting 10000]

Cold: the first request of each list URL after the fill (new app, nothing cached, the database's pages
as the fill left them), and item pages for posts never opened before (each id once). Warm: the same URL
again and again. p95 is the 95th percentile of --runs requests. The target (issue #13) is p95 <= 200 ms.
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: civictracker and tests

from sqlalchemy import insert

from civictracker.extensions import db
from civictracker.models import InboundPost, Reporter
from civictracker.services import inbox
from civictracker.services.users import create_user
from tests.conftest import drop_app, make_app

BATCH = 20_000
AUTHORS = 5000


def _fill(total: int, waiting: int) -> None:
    """`total` posts: `waiting` new/assigned, a tenth decided by the system, the rest on tickets (NULL)."""
    rng = random.Random(13)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    open_ids = set(rng.sample(range(total), waiting))
    # 5,000 authors, so the item page's "the author's other posts" has about 200 to choose from
    db.session.execute(
        insert(Reporter),
        [{"channel": "x", "external_id": str(a), "handle": f"h{a}"} for a in range(AUTHORS)],
    )
    db.session.commit()
    first_reporter = db.session.scalar(db.select(db.func.min(Reporter.id)))
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
                    "author_id": str(i % AUTHORS),
                    "author_handle": f"h{i % AUTHORS}",
                    "reporter_id": first_reporter + i % AUTHORS,
                    # every 50th post answers the one before it: threads for the item page
                    "in_reply_to_id": str(i - 1) if i % 50 == 1 else None,
                    "conversation_id": str(i - i % 50),
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


def _pct(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def _get(client: Any, url: str) -> float:
    began = time.perf_counter()
    response = client.get(url)
    took = (time.perf_counter() - began) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return took


def _pages(app: Any, runs: int) -> None:
    """The rendered pages through the test client, logged in as a dispatcher: cold, then warm."""
    with app.app_context():
        user = create_user(db.session, "bench@city.example", "bench-password-2026", role="dispatcher")
        db.session.commit()
        user_id = user.id
        waiting = [
            i
            for (i,) in db.session.execute(
                db.select(InboundPost.id).where(InboundPost.inbox_state == "new").limit(runs * 3)
            )
        ]
        db.session.remove()
    client = app.test_client()
    r = client.post("/auth/login", data={"email": "bench@city.example", "password": "bench-password-2026"})
    assert r.status_code == 302, r.status_code
    del user_id
    lists = [f"/console/inbox?view={v}" for v in inbox.FILTERS] + ["/console/inbox?page=50"]
    for url in lists:
        cold = _get(client, url)
        warm = [_get(client, url) for _ in range(runs)]
        p50, p95 = _pct(warm)
        print(f"  page {url:32s} cold {cold:6.1f} ms  warm p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
    cold_items = [_get(client, f"/console/inbox/{i}") for i in waiting[:runs]]
    p50c, p95c = _pct(cold_items)
    item = f"/console/inbox/{waiting[0]}"
    p50, p95 = _pct([_get(client, item) for _ in range(runs)])
    print(
        f"  page /console/inbox/<id>  cold ({runs} ids) p50 {p50c:6.1f} ms  p95 {p95c:6.1f} ms;"
        f"  warm p50 {p50:6.1f} ms  p95 {p95:6.1f} ms"
    )


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
                    print(f"  query {view:7s} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms")
                db.session.remove()
            _pages(app, args.runs)
        finally:
            drop_app(app, pg_db)


if __name__ == "__main__":
    main()
