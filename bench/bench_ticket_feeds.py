"""The public ticket page and the Atom feeds with a big history: first request, then warm p50/p95.

Run: .venv/bin/python bench/bench_ticket_feeds.py [--backend sqlite|postgis|both] [--history 10000]
                                                  [--runs 50]
Each backend gets a scratch database filled by bench/public_history.py (half the tickets on Hampshire St),
plus a public event per ticket (its "created" note; a status change with a note for the closed ones, as
the feeds read them) and one street-wide ticket with a line, three public changes and a photo. Requests
go through Flask's test client in a NEW process: "first" is the first request for that URL after process
start; "warm" repeats it with the built-answer cache cleared each time (what a new data version costs);
"stored" is the same request again (a feed's stored answer; the ticket page is never stored, see
web/http_cache.public_page); "304" revalidates with the ETag.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_public_map import p95

HERE = Path(__file__).resolve()
SPAN = ((-71.0975, 42.3707), (-71.0990, 42.3714), (-71.1003, 42.3720))


def cases(ticket_id: int) -> list[tuple[str, str]]:
    return [
        ("ticket page (line, photo, 3 changes)", f"/tickets/{ticket_id}"),
        ("ticket feed", f"/tickets/{ticket_id}/feed.atom"),
        ("area feed: the city", "/feed.atom"),
        ("area feed: bbox Hampshire St (~5k)", "/feed.atom?bbox=-71.1012,42.3660,-71.0855,42.3737"),
        ("area feed: bbox one block", "/feed.atom?bbox=-71.0985,42.3700,-71.0965,42.3715"),
        ("area feed: 500 m circle", "/feed.atom?lat=42.3707&long=-71.0975&radius=500"),
        ("area feed: 20 km circle", "/feed.atom?lat=42.3707&long=-71.0975&radius=20000"),
        ("area feed: the world", "/feed.atom?bbox=-180,-90,180,90"),
        ("area feed: bbox + service", "/feed.atom?bbox=-71.2,42.3,-71.0,42.4&service=streetlight"),
    ]


def measure(url: str, instance: str, ticket_id: int, runs: int) -> None:
    from civictracker.app import create_app
    from civictracker.web.http_cache import ANSWERS, ANSWERS_LOCK

    app = create_app({"database_url": url, "instance_path": instance, "secret_key": "bench"})
    client = app.test_client()

    def timed(path: str, headers: dict[str, str] | None = None) -> tuple[float, object]:
        t0 = time.perf_counter()
        resp = client.get(path, headers=headers or {})
        return (time.perf_counter() - t0) * 1000, resp

    for label, path in cases(ticket_id):
        first, resp = timed(path)
        status, size, etag = resp.status_code, len(resp.data), resp.headers.get("ETag", "")  # type: ignore[attr-defined]
        entries = resp.data.count(b"<entry>")  # type: ignore[attr-defined]
        warm = []
        for _ in range(runs):
            with ANSWERS_LOCK:
                ANSWERS.clear()
            warm.append(timed(path)[0])
        stored = [timed(path)[0] for _ in range(runs)]
        revalidated = [timed(path, {"If-None-Match": etag})[0] for _ in range(runs)]
        out = {"case": label, "status": status, "bytes": size, "entries": entries, "first": first,
               "warm": [statistics.median(warm), p95(warm)], "stored": [statistics.median(stored), p95(stored)],
               "304": [statistics.median(revalidated), p95(revalidated)]}  # fmt: skip
        print(json.dumps(out), flush=True)


def seed(app: object, history: int) -> int:
    """The history, one public event or two per ticket, and the street-wide ticket measured."""
    import dataclasses

    from public_history import fill
    from sqlalchemy import select

    from civictracker.channels.media import MediaRef
    from civictracker.extensions import db
    from civictracker.intake.receive import receive_post
    from civictracker.models import PostMedia, Ticket, TicketEvent, TicketStatus
    from civictracker.models.media import MediaReview
    from civictracker.services.photos import review_media
    from civictracker.services.tickets import Actor, EventNote, change_status
    from tests import factories
    from tests.intake.helpers import incoming

    fill(app, history)
    rows = []
    for tid, status, created, closed in db.session.execute(
        select(Ticket.id, Ticket.status, Ticket.created_at, Ticket.closed_at)
    ):
        rows.append({"ticket_id": tid, "kind": "created", "to_status": "open", "is_public": True,
                     "public_note": "Report received.", "created_at": created, "data": {}})  # fmt: skip
        if closed is not None:
            rows.append({"ticket_id": tid, "kind": "status", "from_status": "open", "to_status": status,
                         "is_public": True, "public_note": "Fixed by the crew.", "created_at": closed,
                         "data": {}})  # fmt: skip
    for i in range(0, len(rows), 5000):
        db.session.execute(TicketEvent.__table__.insert(), rows[i : i + 5000])
    t = factories.ticket(db.session, "snow_ice", lat=42.3714, lon=-71.0990, precision="segment", line=SPAN,
                         street="Hampshire St", address="Hampshire St between Windsor St and Prospect St",
                         summary="Snow and ice reported on Hampshire St between Windsor St and Prospect St.")  # fmt: skip
    photo = MediaRef(key="bench-1", type="image", url="https://files.example/m/1.png", alt_text="Snowbank")
    post, _ = receive_post(db.session, dataclasses.replace(incoming("not plowed"), media=(photo,)))
    post.ticket_id = t.id
    db.session.flush()
    media = db.session.scalar(select(PostMedia).where(PostMedia.media_key == "bench-1"))
    review_media(db.session, media, MediaReview.APPROVED, actor=Actor(label="bench"))  # type: ignore[arg-type]
    for to, note in ((TicketStatus.ASSIGNED, "Plow on its way."), (TicketStatus.IN_PROGRESS, "Clearing.")):
        change_status(db.session, t, to, replies=factories.replies(), note=EventNote(public=note))
    db.session.commit()
    return int(t.id)


def run(backend: str, history: int, runs: int) -> None:
    from civictracker.extensions import db
    from civictracker.runtime import settings_of
    from tests.conftest import drop_app, make_app

    tmp = Path(tempfile.mkdtemp(prefix=f"bench-feeds-{backend}-"))
    app, pg_db = make_app(backend, tmp)
    try:
        with app.app_context():
            t0 = time.perf_counter()
            ticket_id = seed(app, history)
            took = time.perf_counter() - t0
            url = db.engine.url.render_as_string(hide_password=False)
            instance = str(settings_of(app).resolved_instance_path)
            db.session.remove()
            db.engine.dispose()
        print(f"\n== {backend}: {history:,} tickets (seeded in {took:.1f} s), {runs} runs; ms, fresh process")
        env = dict(os.environ, PYTHONPATH=str(HERE.parent.parent))
        args = ["--measure", url, "--instance", instance, "--ticket", str(ticket_id), "--runs", str(runs)]
        out = subprocess.run(
            [sys.executable, str(HERE), *args], check=True, capture_output=True, text=True, env=env
        )
        print(f"{'case':38} {'st':>3} {'bytes':>7} {'n':>3} {'first':>7} {'warm p50/p95':>15} "
              f"{'stored p50':>10} {'304 p50':>8}")  # fmt: skip
        for line in out.stdout.splitlines():
            if line.startswith("{"):
                r = json.loads(line)
                print(f"{r['case']:38} {r['status']:>3} {r['bytes']:>7} {r['entries']:>3} {r['first']:7.1f} "
                      f"{r['warm'][0]:7.1f}/{r['warm'][1]:7.1f} {r['stored'][0]:10.2f} {r['304'][0]:8.2f}")  # fmt: skip
    finally:
        drop_app(app, pg_db)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgis", "both"], default="both")
    parser.add_argument("--history", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    parser.add_argument("--instance", help=argparse.SUPPRESS)
    parser.add_argument("--ticket", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    logging.getLogger("alembic").setLevel(logging.WARNING)
    if args.measure:
        measure(args.measure, args.instance, args.ticket, args.runs)
        return
    for backend in ["sqlite", "postgis"] if args.backend == "both" else [args.backend]:
        run(backend, args.history, args.runs)


if __name__ == "__main__":
    main()
