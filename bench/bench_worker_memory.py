"""Memory of a long-running intake worker: its resident set after every round of posts, up to 100k posts.

Usage:
  .venv/bin/python bench/bench_worker_memory.py                       # PostGIS + one rq worker, 100,000 posts
  .venv/bin/python bench/bench_worker_memory.py --backend sqlite -n 20000 --round 2000   # jobs inline, this process

A worker is rq's SimpleWorker: jobs run inside the worker process, one after another, for days. Whatever a job
leaves behind (a cache without a bound, an identity map kept across jobs, a list of errors) grows with the posts
processed. This bench feeds the real `flask civictracker worker` posts in rounds (bench_pipeline.py's mix:
new problems, repeats, street-only, ask-back, DMs, replies, non-requests; every round new authors and
external ids) and reads the worker's VmRSS and peak (VmHWM) from /proc after each round. The figure is the
growth after warm-up: RSS at the end minus RSS after the first `--warm` posts (model, gazetteer, fuzzy caches
and connection pools are then loaded). On SQLite the posts are processed inline in this process (what `flask
civictracker poll` does without Redis), so the RSS read is this process's own.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench.bench_pipeline import (  # noqa: E402
    PG_ADMIN_URL,
    REDIS_URL,
    _pg_admin,
    _settings,
    _wait_processed,
    make_posts,
    receive_batches,
    start_worker,
    stop_worker,
)


def read_memory(pid: int) -> tuple[float, float]:
    """(VmRSS, VmHWM) of a process in MiB, from /proc/<pid>/status."""
    values = {"VmRSS": 0.0, "VmHWM": 0.0}
    with open(f"/proc/{pid}/status", encoding="ascii") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in values:
                values[key] = int(rest.split()[0]) / 1024  # kB
    return values["VmRSS"], values["VmHWM"]


def _report(backend: str, samples: list[tuple[int, float, float]], warm: int) -> None:
    for done, rss, peak in samples:
        print(f"[{backend}] after {done:7,} posts: RSS {rss:7.1f} MiB  peak {peak:7.1f} MiB")
    after_warm = next((rss for done, rss, _ in samples if done >= warm), samples[0][1])
    end_rss, end_peak = samples[-1][1], samples[-1][2]
    growth = end_rss - after_warm
    per_10k = growth / max(1, (samples[-1][0] - warm) / 10_000)
    print(
        f"[{backend}] RSS after warm-up ({warm:,} posts) {after_warm:.1f} MiB -> {end_rss:.1f} MiB after "
        f"{samples[-1][0]:,} posts: growth {growth:+.1f} MiB ({per_10k:+.2f} MiB per 10k posts); peak {end_peak:.1f} MiB"
    )


def bench_sqlite(n: int, step: int, warm: int) -> None:
    from civictracker.app import create_app
    from civictracker.bootstrap import prepare_database
    from civictracker.extensions import db
    from civictracker.jobs import posts as jobs
    from civictracker.queue import get_queue

    samples: list[tuple[int, float, float]] = []
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        app = create_app(_settings(f"sqlite:///{tmp / 'bench.sqlite'}", tmp))
        prepare_database(app)
        with app.app_context():
            queue = get_queue(app)
            assert queue.is_inline
            done, t0 = 0, time.perf_counter()
            while done < n:
                for ids in receive_batches(db, make_posts(step, seed=done, prefix=f"m{done}-")):
                    jobs.enqueue_processing(app, ids)
                db.session.remove()  # as a poll ends: the scoped session goes with the request or job
                done += step
                samples.append((done, *read_memory(os.getpid())))
            elapsed = time.perf_counter() - t0
            errors = len(queue.inline_errors)
            db.engine.dispose()
    print(f"[sqlite] {n:,} posts processed inline in {elapsed:.0f} s; inline job errors: {errors}")
    _report("sqlite", samples, warm)


def bench_postgis(n: int, step: int, warm: int, admin_url: str, redis_url: str) -> None:
    from civictracker.app import create_app
    from civictracker.bootstrap import prepare_database
    from civictracker.extensions import db
    from civictracker.jobs import posts as jobs
    from civictracker.models import InboundPost
    from civictracker.queue import get_queue

    name = f"ct_mem_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    queue_name = f"ct-mem-{uuid.uuid4().hex[:8]}"
    url = admin_url.rsplit("/", 1)[0] + "/" + name
    _pg_admin(admin_url, f'CREATE DATABASE "{name}"')
    samples: list[tuple[int, float, float]] = []
    worker: subprocess.Popen | None = None
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        try:
            app = create_app(_settings(url, tmp, redis_url=redis_url, queue_name=queue_name))
            prepare_database(app)
            worker = start_worker(url, redis_url, queue_name, tmp, "worker.log")
            with app.app_context():
                queue = get_queue(app)
                assert not queue.is_inline
                done, t0 = 0, time.perf_counter()
                while done < n:
                    pages = receive_batches(db, make_posts(step, seed=done, prefix=f"m{done}-"))
                    for ids in pages:
                        jobs.enqueue_processing(app, ids)
                    target = done + sum(len(ids) for ids in pages)
                    finished = _wait_processed(db, InboundPost, target, 900, [worker])
                    if worker.poll() is not None or finished < target:
                        raise SystemExit(f"worker stopped or stalled at {finished:,} posts (see its log)")
                    done += step
                    samples.append((done, *read_memory(worker.pid)))
                    print(f"[postgis] after {done:7,} posts: RSS {samples[-1][1]:7.1f} MiB", flush=True)
                elapsed = time.perf_counter() - t0
                failed = queue.rq_queue().failed_job_registry.count
                stored = int(db.session.scalar(select(func.count()).select_from(InboundPost)) or 0)
                queue.rq_queue().delete(delete_jobs=True)
                db.session.remove()
                db.engine.dispose()
        finally:
            if worker is not None:
                stop_worker(worker, 120)  # a job of 50 posts in hand may take a while on a loaded machine
            _pg_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(
        f"[postgis] {stored:,} posts processed by one rq worker in {elapsed:.0f} s; failed rq jobs: {failed}"
    )
    _report("postgis", samples, warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=100_000, help="posts in all (default 100,000)")
    parser.add_argument("--round", type=int, default=5_000, help="posts per round between readings")
    parser.add_argument("--warm", type=int, default=10_000, help="posts counted as warm-up")
    parser.add_argument("--backend", choices=["sqlite", "postgis"], default="postgis")
    parser.add_argument("--pg-admin-url", default=PG_ADMIN_URL)
    parser.add_argument("--redis-url", default=REDIS_URL)
    args = parser.parse_args()
    if args.backend == "sqlite":
        bench_sqlite(args.n, args.round, args.warm)
    else:
        bench_postgis(args.n, args.round, args.warm, args.pg_admin_url, args.redis_url)


if __name__ == "__main__":
    main()
