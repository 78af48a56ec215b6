"""Channel figures: ack latency on a fake X, outbox throughput, and a 1,000-post surge under a posting cap.

Run: .venv/bin/python bench/bench_channels.py [--n 40] [--throughput 5000] [--surge 1000] [--skip-rq]

(a) Latency from a post becoming visible on the fake X (tests/fakes/x_api.py FakeX served over local HTTP,
    the real tweepy-based XChannel) to our acknowledgement being posted there: median and p95 over N
    posts, (1) embedded default: SQLite, jobs inline, the poll loop of civictracker/jobs/poller.py with
    poll_interval 1 s; (2) PostgreSQL + a real `flask civictracker worker` subprocess on Redis (scratch
    database and scratch queue name, both removed afterwards; the poll loop runs in this process).
    N posts arrive 0.5-2.5 s apart, about 40 a minute: far beyond X's 100 posts per 15 minutes, so the
    latency runs lift the platform table (x_tier "none") to time the pipeline itself; what the caps do
    to a surge is (c).
(b) Outbox throughput: sweep_outbox over M pending replies against the fake X, caps lifted, both backends.
(c) Surge: 1,000 report posts over one hour (a few dozen problems, Zipf-popular duplicates, ~5% urgent,
    ~10% by DM, ~10% of public reporters who DMed the account before) against a cap of 100 public posts
    per hour (X_POSTS_PER_15MIN=25: any 60-minute window holds at most 100). Measured by running the
    REAL intake (FakeX -> poll_channel -> process_posts) and the REAL sweep_outbox every 5 s of a
    controllable clock (utcnow patched in every civictracker module that imported it; the fake
    platform uses the same clock), on SQLite.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from civictracker.runtime import city_of, runtime_of, settings_of  # noqa: E402
from tests.conftest import REDIS_URL, drop_app, make_app  # noqa: E402
from tests.fakes import serve  # noqa: E402
from tests.fakes.x_api import FakeX  # noqa: E402

DEV = ROOT / "tests" / "data" / "intake_dev.jsonl"


class TimedFakeX(FakeX):
    """FakeX that notes when each of our posts was created (for latency)."""

    def _ep_tweet_create(self, request):  # type: ignore[no-untyped-def]
        response = super()._ep_tweet_create(request)
        if response.status_code == 201:
            self.posts[-1]["at"] = time.time()
        return response

    def _ep_dm_create(self, request, pid):  # type: ignore[no-untyped-def]
        response = super()._ep_dm_create(request, pid)
        if response.status_code == 201:
            self.posts[-1]["at"] = time.time()
        return response


def _reports() -> list[dict[str, Any]]:
    """English request posts with a usable location from the labelled dev set (each is one 'problem')."""
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [
        r
        for r in rows
        if r["is_request"] and not r["needs_location"] and r.get("location") and r["channel"] == "mention"
    ]


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def _x_settings(fx: FakeX, url: str, **extra: Any) -> dict[str, Any]:
    return {
        "channels": "x",
        "x_user_id": fx.me_id,
        "x_bearer_token": "bench-token",
        "x_api_base": url,
        **extra,
    }


# -- (a) latency ---------------------------------------------------------------------------------


def _latency_run(
    app: Any, fx: TimedFakeX, n: int, rng: random.Random, poll_in_process: bool = True
) -> list[float]:
    from civictracker.extensions import db
    from civictracker.jobs.poller import start_poll_loop
    from civictracker.models import ChannelCursor

    texts = [r for r in _reports() if (r["text"], False) in _accepted_texts()]  # each one gets a reply
    stop = threading.Event()
    start_poll_loop(app, stop)
    try:
        deadline = time.time() + 30
        with app.app_context():
            while time.time() < deadline:  # the first poll has set the cursor: from now on all is new
                db.session.expire_all()
                if db.session.get(ChannelCursor, "x") is not None:
                    break
                time.sleep(0.1)
            db.session.remove()
        posted: dict[str, float] = {}
        for i in range(n):
            item = texts[i % len(texts)]
            tid = fx.add_tweet(f"lat_{i}", f"@CambridgeFix {item['text']}")
            posted[tid] = time.time()
            time.sleep(rng.uniform(0.5, 2.5))
        deadline = time.time() + 60
        while time.time() < deadline:
            answered = {p["in_reply_to"] for p in list(fx.posts) if p["kind"] == "tweet"}
            if set(posted) <= answered:
                break
            time.sleep(0.2)
    finally:
        stop.set()
        time.sleep(1.2)
    first: dict[str, float] = {}
    for p in list(fx.posts):
        if p["kind"] == "tweet" and p["in_reply_to"] in posted and p["in_reply_to"] not in first:
            first[p["in_reply_to"]] = p["at"]
    missing = len(posted) - len(first)
    if missing:
        print(f"    WARNING: {missing} post(s) got no reply within 60 s")
    return [first[t] - posted[t] for t in posted if t in first]


def bench_latency_embedded(n: int) -> list[float]:
    fx = TimedFakeX(default_limit=100_000)
    with serve(fx) as url, tempfile.TemporaryDirectory() as tmp:
        app, pg = make_app("sqlite", Path(tmp), **_x_settings(fx, url, poll_interval=1.0, x_tier="none"))
        try:
            return _latency_run(app, fx, n, random.Random(1))
        finally:
            drop_app(app, pg)


def bench_latency_rq(n: int) -> list[float]:
    from civictracker.queue import get_queue

    fx = TimedFakeX(default_limit=100_000)
    queue_name = f"ct-bench-{uuid.uuid4().hex[:8]}"
    with serve(fx) as url, tempfile.TemporaryDirectory() as tmp:
        app, pg = make_app(
            "postgis",
            Path(tmp),
            **_x_settings(
                fx, url, poll_interval=1.0, redis_url=REDIS_URL, queue_name=queue_name, x_tier="none"
            ),
        )
        settings = settings_of(app)
        env = {
            **os.environ,
            "CIVICTRACKER_DATABASE_URL": settings.resolved_database_url,
            "CIVICTRACKER_REDIS_URL": REDIS_URL,
            "CIVICTRACKER_QUEUE_NAME": queue_name,
            "CIVICTRACKER_CHANNELS": "x",
            "CIVICTRACKER_X_USER_ID": fx.me_id,
            "CIVICTRACKER_X_BEARER_TOKEN": "bench-token",
            "CIVICTRACKER_X_API_BASE": url,
            "CIVICTRACKER_X_TIER": "none",  # as the app's settings above: the pipeline, not the caps
            "CIVICTRACKER_INSTANCE_PATH": str(Path(tmp) / "instance"),
            "CIVICTRACKER_SECRET_KEY": "bench-secret",
            "CIVICTRACKER_LOG_LEVEL": "WARNING",
        }
        worker = subprocess.Popen(
            [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", "civictracker", "worker"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        rq_queue = get_queue(app).rq_queue()
        try:
            from rq import Worker

            deadline = time.time() + 60
            while time.time() < deadline and not Worker.all(queue=rq_queue):
                if worker.poll() is not None:
                    raise RuntimeError(f"worker exited: {worker.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
                time.sleep(0.2)
            return _latency_run(app, fx, n, random.Random(2))
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
                worker.wait()
            rq_queue.empty()
            rq_queue.delete(delete_jobs=True)
            drop_app(app, pg)


# -- (b) throughput ------------------------------------------------------------------------------


def bench_throughput(backend: str, m: int) -> tuple[float, float]:
    from civictracker.extensions import db
    from civictracker.models import OutboundMessage, Reporter
    from civictracker.models.types import utcnow
    from civictracker.outbox import sweep as outbox

    fx = FakeX(default_limit=10**9, endpoint_limits={}, day_limits={})  # caps lifted: platform's too
    with serve(fx) as url, tempfile.TemporaryDirectory() as tmp:
        huge = {"x_posts_per_3h": 10**9, "x_posts_per_15min": 10**9, "x_tier": "none"}
        app, pg = make_app(backend, Path(tmp), **_x_settings(fx, url, **huge))
        try:
            with app.app_context():
                reporter = Reporter(channel="x", external_id=fx.add_user("resident"), handle="resident")
                db.session.add(reporter)
                db.session.flush()
                now = utcnow()
                rows = []
                for i in range(m):
                    tid = fx.add_tweet("resident", f"@CambridgeFix report {i}")
                    rows.append(
                        OutboundMessage(
                            idempotency_key=f"bench:{i}",
                            channel="x",
                            kind="ack",
                            reporter_id=reporter.id,
                            recipient_id=reporter.external_id,
                            recipient_handle="resident",
                            in_reply_to_id=tid,
                            text=f"Thanks, logged as report {i}. Track it: http://127.0.0.1:5000/tickets/{i}",
                            created_at=now,
                            next_attempt_at=now,
                        )
                    )
                db.session.add_all(rows)
                db.session.commit()
                del rows
                db.session.remove()  # start like a worker: no rows held in this session
                start = time.perf_counter()
                sent = 0
                while True:
                    n = outbox.sweep_outbox()
                    sent += n
                    if n == 0:
                        break
                elapsed = time.perf_counter() - start
                states = outbox.outbox_counts()
            assert states.get("sent") == m, states
            return sent / elapsed, elapsed
        finally:
            drop_app(app, pg)


# -- (c) surge -----------------------------------------------------------------------------------


class Clock:
    def __init__(self, start: float) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def now(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.t, dt.UTC)


_PATCHED: list[
    Any
] = []  # the modules _patch_clock patched: a second surge in this process patches them again


def _patch_clock(clock: Clock) -> None:
    """Every loaded civictracker module that took its own `utcnow` reads the bench's clock instead."""
    import importlib

    # Load the modules whose clocks are patched (the sweep's, the senders', the source checks', DM reach).
    for name in ("jobs.posts", "outbox.sweep", "outbox.calls", "outbox.sources", "outbox.reach"):
        importlib.import_module(f"civictracker.{name}")
    from civictracker.models.types import utcnow

    for name, module in list(sys.modules.items()):
        if name.startswith("civictracker.") and getattr(module, "utcnow", None) is utcnow:
            _PATCHED.append(module)
    for module in _PATCHED:
        module.utcnow = clock.now


@functools.cache
def _accepted_texts() -> frozenset[tuple[str, bool]]:
    """(text, by DM) variants the real triage takes as located service requests (checked outside the run)."""
    from civictracker.intake.analysis import analyze_post
    from civictracker.services.geocoding import get_gazetteer

    with tempfile.TemporaryDirectory() as tmp:
        app, pg = make_app("sqlite", Path(tmp))
        try:
            with app.app_context():
                city = city_of(app)
                gz = get_gazetteer(city.path, Path(tmp) / "cache")
                ok = set()
                for item in _reports():
                    for prefix in ["", "same here: ", "also ", "+1 "]:
                        for by_dm in (False, True):
                            text = prefix + item["text"]
                            a = analyze_post(
                                text,
                                channel_kind="dm" if by_dm else "mention",
                                gazetteer=gz,
                                services=city.services,
                            )
                            if a.triage.is_request and a.usable_location:
                                ok.add((text, by_dm))
                return frozenset(ok)
        finally:
            drop_app(app, pg)


def bench_surge(total: int, seed: int = 5, tier: str = "self_serve") -> dict[str, Any]:
    from civictracker.extensions import db
    from civictracker.jobs.poller import poll_once
    from civictracker.models import InboundPost, OutboundMessage

    rng = random.Random(seed)
    accepted = _accepted_texts()
    reports = [r for r in _reports() if (r["text"], False) in accepted and (r["text"], True) in accepted]
    urgent = [r for r in reports if r["urgent"]]
    calm = [r for r in reports if not r["urgent"]]
    rng.shuffle(calm)
    problems = calm[:40]
    weights = [1 / (k + 1) for k in range(len(problems))]  # Zipf: a few problems draw most posts
    clock = Clock(time.time())
    fx = FakeX(default_limit=10**9, clock=clock)
    arrivals: list[tuple[float, str, str, bool]] = []  # (offset s, user, text, by DM)
    for i in range(total):
        item = rng.choice(urgent) if rng.random() < 0.05 else rng.choices(problems, weights)[0]
        by_dm = rng.random() < 0.10
        text = rng.choice(["", "same here: ", "also ", "+1 "]) + item["text"]
        if (text, by_dm) not in accepted:  # keep the surge to posts intake takes as reports
            text = item["text"]
        arrivals.append((rng.uniform(0, 3600), f"res{i:04d}", text, by_dm))
    arrivals.sort()
    with serve(fx) as url, tempfile.TemporaryDirectory() as tmp:
        # tier: self_serve forbids replies that @mention others (no cluster replies); enterprise allows them
        caps = {"x_posts_per_15min": 25, "x_posts_per_3h": 300, "x_tier": tier}
        app, pg = make_app("sqlite", Path(tmp), **_x_settings(fx, url, **caps))
        try:
            _patch_clock(clock)
            # The adapter reads the platform's rate-limit resets against its own clock: the fake X's are
            # in the bench's time, which runs far ahead of the wall clock (else a spent DM window looks
            # spent for hours of bench time, and DMs stall: 15 sent in 6 h before this was set).
            x_channel: Any = runtime_of(app).channels.get("x")  # an XChannel
            x_channel._clock = clock
            x_channel.budget._clock = clock
            # ~10% of public reporters DMed the account the day before: X lets us DM them back
            for _, user, _, by_dm in arrivals:
                if not by_dm and rng.random() < 0.10:
                    fx.add_dm(user, "hi! thanks, have a nice day")
            poll_once(app)
            clock.t += 86_400
            start = clock.t
            with app.app_context():
                before = set(db.session.scalars(select(OutboundMessage.id)))
            arrived: dict[str, float] = {}
            ext_ids: dict[str, str] = {}  # platform id of each surge post -> its author
            i = 0
            wall = time.perf_counter()
            while True:
                while i < len(arrivals) and start + arrivals[i][0] <= clock.t:
                    _, user, text, by_dm = arrivals[i]
                    if by_dm:
                        ext_ids[fx.add_dm(user, text)] = user
                    else:
                        ext_ids[fx.add_tweet(user, f"@CambridgeFix {text}")] = user
                    arrived[user] = clock.t
                    i += 1
                poll_once(app)
                with app.app_context():
                    waiting = db.session.scalar(
                        select(OutboundMessage.id).where(
                            OutboundMessage.state.in_(["pending", "failed", "sending"])
                        )
                    )
                    db.session.remove()
                if i >= len(arrivals) and waiting is None:
                    break
                if clock.t > start + 6 * 3600:
                    break
                clock.t += 5.0
            wall = time.perf_counter() - wall
            with app.app_context():
                posts = {
                    ext_ids[p.external_id]: p
                    for p in db.session.scalars(select(InboundPost).where(InboundPost.channel == "x"))
                    if p.external_id in ext_ids
                }
                msgs = [m for m in db.session.scalars(select(OutboundMessage)) if m.id not in before]
                first: dict[str, float] = {}
                for m in msgs:
                    if m.state == "sent" and m.sent_at is not None:
                        t = m.sent_at.timestamp()
                        first[m.recipient_handle] = min(first.get(m.recipient_handle, t), t)
                urgent_users = {
                    h for h, p in posts.items() if (p.stages or {}).get("triage", {}).get("urgent")
                }
                keys = [m.batch_key or "" for m in msgs if m.state == "sent"]
                calls = {(m.sent_external_id) for m in msgs if m.state == "sent"}
                sizes: dict[str, int] = {}
                for m in msgs:
                    if m.state == "sent":
                        sizes[m.sent_external_id or ""] = sizes.get(m.sent_external_id or "", 0) + 1
                silent = [p for h, p in posts.items() if h not in first]
                outcomes: dict[str, int] = {}
                for p in silent:
                    outcomes[f"{p.state}/{p.outcome}"] = outcomes.get(f"{p.state}/{p.outcome}", 0) + 1
                states: dict[str, int] = {}
                why: dict[str, int] = {}  # the first words of last_error of the messages not sent
                for m in msgs:
                    states[m.state] = states.get(m.state, 0) + 1
                    if m.state != "sent" and m.last_error:
                        reason = m.last_error[:70]
                        why[reason] = why.get(reason, 0) + 1
                db.session.remove()
        finally:
            drop_app(app, pg)
    delays = {u: first[u] - arrived[u] for u in arrived if u in first}
    in_60 = sum(1 for d in delays.values() if d <= 3600)
    urgent_in_5 = sum(1 for u in urgent_users if u in delays and delays[u] <= 300)
    return {
        "reporters": len(arrived),
        "answered": len(delays),
        "within_60min": in_60 / len(arrived),
        "urgent": len(urgent_users),
        "urgent_within_5min": (urgent_in_5 / len(urgent_users)) if urgent_users else float("nan"),
        "last_answered_min": (max(first[u] for u in delays) - start) / 60 if delays else float("nan"),
        "p95_delay_min": _pct(list(delays.values()), 0.95) / 60 if delays else float("nan"),
        "public_posts": sum(1 for p in fx.posts if p["kind"] == "tweet"),
        "dms": sum(1 for p in fx.posts if p["kind"] == "dm"),
        "platform_calls": len(calls),
        "cluster_calls": len({k for k in keys if k.startswith("~cluster:")}),
        "digest_calls": len({k for k in keys if k.startswith("~digest:")}),
        "spilled_dms": len({k for k in keys if k.startswith("~dm:")}),
        "largest_batch": max(sizes.values()) if sizes else 0,
        "states": states,
        "unanswered_outcomes": outcomes,
        "not_sent_why": dict(sorted(why.items(), key=lambda kv: -kv[1])[:3]),
        "wall_s": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=40, help="posts for the latency runs")
    parser.add_argument(
        "--throughput", type=int, default=5000, help="pending replies for the throughput sweep"
    )
    parser.add_argument("--surge", type=int, default=1000, help="report posts in the one-hour surge")
    parser.add_argument("--skip-rq", action="store_true", help="skip the PostgreSQL + rq latency run")
    args = parser.parse_args()
    import logging

    logging.basicConfig(level=logging.ERROR)

    print(f"(a) ack latency on the fake X over HTTP (tweepy), {args.n} posts 0.5-2.5 s apart")
    lat = bench_latency_embedded(args.n)
    print(
        f"    embedded (SQLite, inline jobs, poll 1 s): median {statistics.median(lat):.2f} s, "
        f"p95 {_pct(lat, 0.95):.2f} s, max {max(lat):.2f} s  (target p95 < 5 s)"
    )
    if not args.skip_rq:
        lat = bench_latency_rq(args.n)
        print(
            f"    PostgreSQL + rq worker (poll 1 s):        median {statistics.median(lat):.2f} s, "
            f"p95 {_pct(lat, 0.95):.2f} s, max {max(lat):.2f} s"
        )
    print(f"(b) outbox throughput: sweep_outbox over {args.throughput} pending replies, fake X, caps lifted")
    for backend in ("sqlite", "postgis"):
        rate, elapsed = bench_throughput(backend, args.throughput)
        print(f"    {backend:8s}: {rate:.0f} messages/s ({elapsed:.1f} s)")
    print(
        f"(c) surge: {args.surge} report posts in one hour, cap 100 public posts per hour (real sweep_outbox)"
    )
    for tier in ("self_serve", "enterprise"):
        s = bench_surge(args.surge, tier=tier)
        print(
            f"  X tier {tier}: reporters {s['reporters']}, answered {s['answered']}; within 60 min: "
            f"{s['within_60min']:.1%} (target >= 95%); urgent ({s['urgent']}) within 5 min: "
            f"{s['urgent_within_5min']:.1%}; p95 wait {s['p95_delay_min']:.1f} min; last answered "
            f"{s['last_answered_min']:.1f} min after the surge began"
        )
        print(
            f"    platform calls {s['platform_calls']}: public posts {s['public_posts']} "
            f"(cluster replies {s['cluster_calls']}, digests {s['digest_calls']}), DMs {s['dms']} "
            f"(spilled {s['spilled_dms']}); largest batch {s['largest_batch']}; states {s['states']}; "
            f"posts without a reply (by outcome) {s['unanswered_outcomes']}; "
            f"why not sent {s['not_sent_why']}; wall {s['wall_s']:.0f} s"
        )


if __name__ == "__main__":
    main()
