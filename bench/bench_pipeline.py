"""Throughput of the whole intake pipeline: receive + process N posts (ticket, dedupe, replies sent).

Usage:
  .venv/bin/python bench/bench_pipeline.py                      # SQLite/SpatiaLite inline, then PostGIS + rq worker
  .venv/bin/python bench/bench_pipeline.py -n 3000 --only sqlite --profile   # cProfile of the SQLite path
  .venv/bin/python bench/bench_pipeline.py --backend sqlite --history 0,100000,1000000   # big stored history
  .venv/bin/python bench/bench_pipeline.py --backend postgis --workers 1,2,4 -n 2000   # scaling with workers
  .venv/bin/python bench/bench_pipeline.py --only postgis --pg-admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Posts are generated from templates with real Cambridge addresses (the pack's master address list) and real
intersections and streets: new requests, repeats of an earlier problem by other residents (merged), street-only
and location-less requests (ask-back), DMs with home addresses, replies in our threads, and non-requests.

SQLite: one process, one core, jobs inline (what `flask civictracker poll` does without Redis): posts are stored
in batches of 50 (one commit each, as a poll does), then each batch is processed by the real `process_posts`
job (one transaction per page), whose acknowledgements are then sent inline through the replay channel's
log. The model and gazetteer are warmed up on a few posts first (trained once per process; not part of the
steady-state figure). The replies are counted by state after the figure: a run that sent none shows it.

PostGIS: a scratch database is created and dropped; posts are stored and `process_posts` enqueued (a page
per job) on a unique rq queue (Redis 127.0.0.1:6379/15); one `flask --app wsgi civictracker worker`
subprocess drains it (`--workers N`: N of them, which also shows what concurrent pages do to dedupe and
threads: a page cannot see another's uncommitted tickets). Four warm-up pages, enqueued together, warm each
worker (up to 4). The posts are then stored, and the figure times the workers alone: from the first page
enqueued (all at once) to the last post processed, replies sent included. It prints the cores used and the
CPU per post (bench/cpu_use.py); `--waits` adds where the time went (bench/wait_sampler.py).
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import datetime as dt
import io
import os
import pstats
import random
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402

from bench.cpu_use import backends_of, cpu_use, print_cpu  # noqa: E402
from bench.wait_sampler import WaitSampler, schedstat  # noqa: E402
from civictracker.channels.base import IncomingPost  # noqa: E402

PACK = ROOT / "civictracker" / "cities" / "cambridge_ma"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/15"

INTERSECTIONS = [
    ("Cambridge St", "Prospect St"), ("Hampshire St", "Windsor St"), ("Broadway", "Prospect St"),
    ("Concord Ave", "Garden St"), ("Rindge Ave", "Sherman St"), ("Ames St", "Main St"), ("Elm St", "Hampshire St"),
    ("Green St", "Sidney St"), ("Magazine St", "Putnam Ave"), ("Beech St", "Massachusetts Ave"),
    ("Linnaean St", "Massachusetts Ave"), ("Putnam Ave", "Western Ave"), ("Harvard St", "Prospect St"),
    ("Columbia St", "Harvard St"), ("Hampshire St", "Prospect St"), ("Broadway", "Ellery St"),
]  # fmt: skip
STREETS = ["Fayerweather St", "Norfolk St", "Windsor St", "Putnam Ave", "Magazine St", "Pemberton St", "Otis St",
           "Antrim St", "Harvey St", "Dana St", "Berkshire St", "Gore St", "Upland Rd", "Columbia St"]  # fmt: skip
REQUESTS = [
    ("pothole", "@CambridgeMA huge pothole at {loc}, nearly lost a tire"),
    ("pothole", "there's a pot hole outside {loc} that keeps getting bigger"),
    ("streetlight", "streetlight out at {loc} for a week, really dark at night"),
    ("trash", "recycling wasn't picked up at {loc} this week"),
    ("graffiti", "fresh graffiti on the wall at {loc} 🙄 #cambridgema"),
    ("tree", "big dead branch hanging over the sidewalk at {loc}"),
    ("sidewalk", "the sidewalk at {loc} is cracked and heaved, trip hazard"),
    ("flooding", "drain clogged at {loc}, whole crosswalk under water"),
    ("rodents", "rats all over the trash bins at {loc}"),
    ("noise", "construction at {loc} started at 5am again"),
    ("traffic_signal", "walk signal at {loc} never comes on"),
    ("water_sewer", "hydrant leaking at {loc}, water running down the gutter"),
    ("illegal_dumping", "someone dumped a couch and mattress at {loc}"),
    ("snow_ice", "sidewalk at {loc} still not shoveled, solid ice"),
    ("power_outage", "wire down and sparking at {loc}!! stay away"),
]
NO_LOCATION = [
    "the streetlight on my block has been out for two weeks",
    "can someone fix the giant pothole on my street",
    "trash pickup skipped our whole block again",
]
NON_REQUESTS = [
    "great job on the fireworks last night Cambridge! #proud",
    "city council should vote on the housing plan already",
    "Cambridge to repave parts of Mass Ave this summer, officials say https://t.co/x1",
    "does anyone know if the library is open on Monday?",
    "join us Saturday for the community cleanup at Danehy Park!",
    "GET 10K FOLLOWERS FAST dm us now limited offer!!! bit.ly/xx",
    "praying for everyone affected by the storm down south tonight 🙏",
    "ugh the red line is delayed again, gonna be late",
]
REPLIES = ["thank you!", "still not fixed", "it's fixed now, thanks", "how long does this usually take?"]


def cambridge_addresses(rng: random.Random, n: int = 400) -> list[str]:
    with open(PACK / "addresses.csv", encoding="utf-8-sig", newline="") as fh:
        rows = [r["full_address"] for r in csv.DictReader(fh) if r.get("full_address")]
    return rng.sample(rows, n)


def make_posts(n: int, seed: int = 7, prefix: str = "b") -> list[IncomingPost]:
    """n realistic posts: new problems, repeats (merge), street-only, ask-back, DMs, replies, non-requests."""
    rng = random.Random(seed)
    addresses = cambridge_addresses(rng)
    now = dt.datetime.now(dt.UTC)
    posts: list[IncomingPost] = []
    earlier: list[tuple[str, str]] = []  # (text, external id) of requests already in the feed
    for i in range(n):
        ext, author, kind, reply_to = f"{prefix}-{i}", f"u{rng.randrange(n)}", "mention", None
        roll = rng.random()
        if roll < 0.40:
            loc = rng.choice(addresses) if rng.random() < 0.6 else " & ".join(rng.choice(INTERSECTIONS))
            body = rng.choice(REQUESTS)[1].format(loc=loc)
            earlier.append((body, ext))
        elif roll < 0.55 and earlier:
            body = rng.choice(earlier)[0]  # the same problem from another resident: merged
        elif roll < 0.62:
            body = rng.choice(REQUESTS)[1].format(loc=rng.choice(STREETS))
        elif roll < 0.66:
            body = rng.choice(NO_LOCATION)
        elif roll < 0.74:
            kind = "dm"
            body = f"hi, {rng.choice(REQUESTS)[1].format(loc=rng.choice(addresses))}. call me at 617-555-01{i % 100:02d}"
        elif roll < 0.80 and earlier:
            kind, reply_to = "reply", rng.choice(earlier)[1]
            body = rng.choice(REPLIES)
        else:
            body = rng.choice(NON_REQUESTS)
        if rng.random() < 0.3:
            body = body.lower()
        posts.append(
            IncomingPost(
                channel="replay",
                external_id=ext,
                kind=kind,
                author_id=author,
                author_handle=f"h_{author}",
                text=body,
                created_at=now,
                in_reply_to_id=reply_to,
                conversation_id=reply_to,
            )
        )
    return posts


def _settings(url: str, tmp: Path, **extra: object) -> dict[str, object]:
    return {"database_url": url, "instance_path": str(tmp / "instance"), "secret_key": "bench", **extra}


def _outcomes(db: object) -> Counter[str]:
    from civictracker.models import InboundPost

    rows = db.session.execute(select(InboundPost.outcome, func.count()).group_by(InboundPost.outcome)).all()  # type: ignore[attr-defined]
    return Counter({str(o): int(c) for o, c in rows})


def _replies(db: object) -> Counter[str]:
    """Outbound messages by state: the bench counts a reply only when it was sent."""
    from civictracker.models import OutboundMessage

    rows = db.session.execute(  # type: ignore[attr-defined]
        select(OutboundMessage.state, func.count()).group_by(OutboundMessage.state)
    ).all()
    return Counter({str(s): int(c) for s, c in rows})


def receive_batches(db: object, posts: list[IncomingPost], batch: int = 50) -> list[list[int]]:
    """Store posts like jobs.poll_channel does: a page, one commit; returns the new post ids per page."""
    from civictracker.database import begin_write
    from civictracker.intake.receive import receive_posts

    out = []
    for start in range(0, len(posts), batch):
        begin_write(db.session)  # type: ignore[attr-defined]  # as the poll: the page and its commit, one write
        received = receive_posts(db.session, posts[start : start + batch])  # type: ignore[attr-defined]
        out.append([post.id for post, created in received if created])
        db.session.commit()  # type: ignore[attr-defined]
    return out


def _fill(db: object, history: int, tag: str) -> None:
    """The stored history the figure is measured on (bench/history.py): N tickets, replies and posts."""
    if history:
        from bench.history import fill_history

        seconds = fill_history(db.session, history, quiet=True)  # type: ignore[attr-defined]
        print(
            f"[{tag}] history: {history:,} tickets + {history:,} sent replies + {history:,} posts in {seconds:.0f} s"
        )


def _time_statements(engine: object) -> dict[str, list[float]]:
    """BENCH_SQL=1: seconds per statement text, to find the slow lookups (printed after the run)."""
    from sqlalchemy import event

    spent: dict[str, list[float]] = {}

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        conn.info["bench_t0"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn, cursor, statement, params, context, executemany):  # type: ignore[no-untyped-def]
        spent.setdefault(" ".join(statement.split())[:300], []).append(
            time.perf_counter() - conn.info["bench_t0"]
        )

    return spent


def _print_statements(spent: dict[str, list[float]]) -> None:
    for stmt, times in sorted(spent.items(), key=lambda kv: -sum(kv[1]))[:15]:
        print(f"  {sum(times) * 1000:8.0f} ms {len(times):6d}x  {stmt}")


def bench_sqlite(n: int, profile: bool, history: int = 0) -> None:
    from civictracker.app import create_app
    from civictracker.bootstrap import prepare_database
    from civictracker.extensions import db
    from civictracker.jobs import posts as jobs
    from civictracker.queue import get_queue

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        app = create_app(_settings(f"sqlite:///{tmp / 'bench.sqlite'}", tmp))
        prepare_database(app)
        with app.app_context():
            _fill(db, history, "sqlite")
            queue = get_queue(app)
            assert queue.is_inline
            t0 = time.perf_counter()
            for ids in receive_batches(db, make_posts(30, seed=1, prefix="warm")):
                jobs.enqueue_processing(app, ids)
            cold = time.perf_counter() - t0
            print(f"[sqlite] cold: the first 30 posts (model, gazetteer, database caches): {cold:.2f} s")
            posts = make_posts(n)
            spent = _time_statements(db.engine) if os.environ.get("BENCH_SQL") else None
            profiler = cProfile.Profile() if profile else None
            wall, cpu = time.perf_counter(), time.process_time()
            if profiler:
                profiler.enable()
            for ids in receive_batches(db, posts):
                jobs.enqueue_processing(app, ids)  # as jobs.poll_channel does: a page per job, run inline
            if profiler:
                profiler.disable()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            outcomes = _outcomes(db)
            replies = _replies(db)
            errors = len(queue.inline_errors)
            db.session.remove()
            db.engine.dispose()
    print(
        f"[sqlite] history {history:,}, warm: {n} posts received + processed inline on one core: {n / wall:.0f} posts/s wall "
        f"({n / cpu:.0f} per CPU-second; {wall:.2f} s)  target >= 300/s  "
        f"{'ok' if n / wall >= 300 else 'BELOW TARGET'}"
    )
    print(f"[sqlite] outcomes: {dict(outcomes.most_common())}; inline job errors: {errors}")
    print(f"[sqlite] replies by state: {dict(replies.most_common())}")
    if spent is not None:
        _print_statements(spent)
    if profiler:
        if os.environ.get("BENCH_DUMP"):
            profiler.dump_stats(os.environ["BENCH_DUMP"])
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(
            30
        )
        print(out.getvalue())


def _unique_ids(db: object) -> None:
    """Post and reply ids of this run far from those of any other run (each starts on a new database).

    rq job ids name them (posts-<first>-<last>-<n>, send-<first>-<last>-<n>), and rq keeps a finished
    job's hash for 500 s under its id in the Redis database all runs share: a run's job enqueued under the
    id of an earlier run's could expire with that hash before a worker took it, and its posts were never
    processed (the run then waited out its timeout)."""
    for table in ("inbound_posts", "outbound_messages"):
        db.session.execute(  # type: ignore[attr-defined]
            text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # (table names from the list above)
                f"(SELECT coalesce(max(id), 0) FROM {table}) + :offset)"
            ),
            {"offset": random.SystemRandom().randrange(1, 1000) * 1_000_000},
        )
    db.session.commit()  # type: ignore[attr-defined]


def _pg_admin(admin_url: str, sql: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(sql))
    finally:
        engine.dispose()


def _wait_processed(
    db: object, model: object, total: int, timeout: float, workers: list[subprocess.Popen], after_id: int = 0
) -> int:
    """Posts with an id above `after_id` finished, polled until `total` (the history's posts are not
    counted: a count over a million rows every 50 ms took half a core from the workers)."""
    deadline = time.perf_counter() + timeout
    done = 0
    while time.perf_counter() < deadline:
        done = int(
            db.session.scalar(  # type: ignore[attr-defined]
                select(func.count())
                .select_from(model)
                .where(model.id > after_id)  # type: ignore[attr-defined]
                .where(model.state.in_(["processed", "ignored", "failed"]))  # type: ignore[attr-defined]
            )
            or 0
        )
        db.session.rollback()  # type: ignore[attr-defined]
        if done >= total or any(w.poll() is not None for w in workers):
            return done
        time.sleep(0.05)
    return done


def start_worker(url: str, redis_url: str, queue_name: str, tmp: Path, log_name: str) -> subprocess.Popen:
    """A real `flask civictracker worker` process on this database and queue; its stderr in tmp/log_name.
    Its connections are named after the log (application_name), for --waits."""
    env = {
        **os.environ,
        "CIVICTRACKER_DATABASE_URL": f"{url}?application_name={Path(log_name).stem}",
        "CIVICTRACKER_REDIS_URL": redis_url,
        "CIVICTRACKER_QUEUE_NAME": queue_name,
        "CIVICTRACKER_INSTANCE_PATH": str(tmp / "instance"),
        "CIVICTRACKER_SECRET_KEY": "bench",
    }
    flask = str(Path(sys.executable).with_name("flask"))
    return subprocess.Popen(
        [flask, "--app", "wsgi", "civictracker", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp / log_name, "w"),  # the process holds it; closed with the temp dir
        start_new_session=True,  # its own process group: stop_worker ends the rq scheduler it forks too
    )


def stop_worker(worker: subprocess.Popen, wait_s: float) -> None:
    """SIGTERM (a warm shutdown: the job in hand ends first), then SIGKILL after `wait_s` seconds; then
    whatever is left of its process group (the rq scheduler process a worker forks outlived it, and each
    run left one more polling Redis on the cores the next run measures)."""
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(wait_s)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGTERM)


def bench_postgis(
    n: int,
    admin_url: str,
    redis_url: str,
    workers: int = 1,
    history: int = 0,
    keep: bool = False,
    waits: bool = False,
) -> None:
    from civictracker.app import create_app
    from civictracker.bootstrap import prepare_database
    from civictracker.extensions import db
    from civictracker.jobs import posts as jobs
    from civictracker.models import InboundPost
    from civictracker.queue import get_queue

    name = f"{os.environ.get('BENCH_DB_PREFIX', 'ct_bench')}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    queue_name = f"ct-bench-{uuid.uuid4().hex[:8]}"
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    _pg_admin(admin_url, f'CREATE DATABASE "{name}"')
    procs: list[subprocess.Popen] = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        try:
            app = create_app(_settings(url, tmp, redis_url=redis_url, queue_name=queue_name))
            prepare_database(app)
            with app.app_context():
                _fill(db, history, "postgis")
                _unique_ids(db)
                db.session.remove()
            procs.extend(
                start_worker(url, redis_url, queue_name, tmp, f"worker{i}.log") for i in range(workers)
            )
            with app.app_context():
                queue = get_queue(app)
                assert not queue.is_inline
                t0 = time.perf_counter()
                # the history's posts are processed already: count only what this run adds
                after = int(db.session.scalar(select(func.max(InboundPost.id))) or 0)
                db.session.rollback()
                # Four pages of ten, enqueued together, so each worker (up to 4) takes one and builds its
                # model and gazetteer before the timed run, not in it. The same warm-up for any --workers.
                warm = receive_batches(db, make_posts(40, seed=1, prefix="warm"), batch=10)
                for ids in warm:
                    jobs.enqueue_processing(app, ids)
                warm_n = sum(len(ids) for ids in warm)
                _wait_processed(db, InboundPost, warm_n, 120, procs, after)
                print(f"[postgis] cold: worker start + the first 40 posts: {time.perf_counter() - t0:.2f} s")
                posts = make_posts(n)
                # Stored first, then enqueued at once: the figure times the workers' processing only, not
                # this process receiving posts on a core the workers share (the same work for any --workers).
                received_at = time.perf_counter()
                pages = receive_batches(db, posts)
                received = time.perf_counter() - received_at
                backends = set(backends_of(admin_url, name))
                cpu_before = cpu_use(procs, backends)
                sampler = WaitSampler(admin_url, name, queue.connection(), queue_name) if waits else None
                sched_before = {f"worker{i}": schedstat(w.pid) for i, w in enumerate(procs)}
                if sampler:
                    sampler.start()
                start = time.perf_counter()
                for ids in pages:
                    jobs.enqueue_processing(app, ids)
                enqueued = time.perf_counter() - start
                done = _wait_processed(db, InboundPost, warm_n + n, 900, procs, after) - warm_n
                elapsed = time.perf_counter() - start
                if sampler:
                    sampler.stop()
                sched = {
                    k: tuple(b - a for a, b in zip(v, schedstat(procs[int(k[6:])].pid), strict=True))
                    for k, v in sched_before.items()
                }
                backends |= set(backends_of(admin_url, name))
                cpu_after = cpu_use(procs, backends)
                outcomes = _outcomes(db)
                replies = _replies(db)
                states = Counter(
                    dict(
                        db.session.execute(
                            select(InboundPost.state, func.count()).group_by(InboundPost.state)
                        ).all()
                    )
                )
                finished = queue.rq_queue().finished_job_registry.get_job_ids()
                jobs_run = Counter(job_id.split("-")[0] for job_id in finished)
                jobs_run["handed back"] = sum("-later-" in job_id for job_id in finished)
                registry = queue.rq_queue().failed_job_registry
                failed = registry.count
                for job_id in registry.get_job_ids()[:3]:  # why, in a line each
                    job = queue.rq_queue().fetch_job(job_id)
                    last = (
                        [ln for ln in (job.exc_info or "").strip().splitlines() if "Error" in ln][-1:]
                        if job
                        else []
                    )
                    print(f"[postgis] failed job {job_id}: {last[0] if last else '?'}")
                queue.rq_queue().empty()
                queue.rq_queue().delete(delete_jobs=True)
                db.session.remove()
                db.engine.dispose()
            print(
                f"[postgis] history {history:,}, warm: {done}/{n} posts received, enqueued and processed by "
                f"{workers} rq worker(s): "
                f"{done / elapsed:.0f} posts/s processed ({elapsed:.2f} s from the first page enqueued to the "
                f"last post processed; enqueueing took {enqueued:.2f} s; receiving, before, {received:.2f} s)"
            )
            print(f"[postgis] outcomes: {dict(outcomes.most_common())}; failed rq jobs: {failed}")
            print(f"[postgis] rq jobs run, by kind (warm-up included): {dict(jobs_run.most_common())}")
            print(f"[postgis] posts by state (warm-up included): {dict(states.most_common())}")
            print(f"[postgis] replies by state: {dict(replies.most_common())}")
            print_cpu(cpu_before, cpu_after, elapsed, n)
            if sampler:
                sampler.report(sched, elapsed)  # type: ignore[arg-type]
        finally:
            for worker in procs:
                stop_worker(worker, 10)
            if keep:
                print(f"[postgis] kept the database: {url}")
            else:
                _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=3000, help="posts per run (default 3000)")
    parser.add_argument("--only", "--backend", choices=["sqlite", "postgis"], default=None)
    parser.add_argument(
        "--history",
        default="0",
        help="tickets (and as many sent replies and posts) stored before the run, by bulk inserts; "
        "comma-separated for several runs, e.g. 0,100000,1000000 (default 0)",
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the SQLite run (top 30, cumulative)")
    parser.add_argument(
        "--pg-admin-url", default=os.environ.get("CIVICTRACKER_TEST_PG_ADMIN_URL", PG_ADMIN_URL)
    )
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument(
        "--workers",
        default="1",
        help="rq workers for the PostGIS run; comma-separated for several runs, e.g. 1,2,4 (default 1)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the PostGIS scratch database (to EXPLAIN on it after)"
    )
    parser.add_argument(
        "--waits",
        action="store_true",
        help="sample the backends' wait events and the workers' rq states during the PostGIS run",
    )
    args = parser.parse_args()
    histories = [int(h.replace("_", "")) for h in args.history.split(",")]
    for history in histories:
        if args.only in (None, "sqlite"):
            bench_sqlite(args.n, args.profile, history)
        if args.only in (None, "postgis"):
            for workers in (int(w) for w in args.workers.split(",")):
                bench_postgis(
                    args.n, args.pg_admin_url, args.redis_url, workers, history, args.keep, args.waits
                )


if __name__ == "__main__":
    main()
