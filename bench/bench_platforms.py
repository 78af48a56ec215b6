"""Storm replay against the faithful fakes: DMs read, 429s met, replies X refuses and where they go.

Run: PYTHONPATH=$PWD .venv/bin/python bench/bench_platforms.py [--posts 1000] [--dms 100] [--replies 200]
     [--code /work/main]   # the adapters of another checkout (e.g. before this change), same fakes

One simulated hour on a controllable clock (the fakes and adapters share it; nothing sleeps). On X and on
Mastodon: `posts` posts arrive evenly, of which `dms` are DMs from strangers (Mastodon: direct statuses
from accounts the city does not follow, filtered by 4.3's default policy), `replies` are replies in
threads, and the rest come in cluster-sized bursts of reports on the same problem. The adapter's
fetch_since runs every 5 s (the default poll interval). Printed per platform: DMs that arrived (target
100%), posts lost, 429s the fake answered per endpoint (target 0), and, for X on a self-serve tier, each
post's public acknowledgement checked with the adapter's reply rules: allowed, refused and where the
outbox sends it instead (DM: the resident DMed the city; their thread: another post of theirs naming the
city; nowhere: recorded dead) - lost must be 0. Acknowledgement latency is the time from a post's arrival
to the poll that read it (the reply itself goes out within the posting caps; bench_channels.py (c)).
"""

from __future__ import annotations

import argparse
import inspect
import logging
import random
import statistics
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))] if values else float("nan")


def _plan(args: argparse.Namespace, rng: random.Random) -> list[tuple[float, str, int]]:
    """(arrival second, kind, burst id) for every post: "dm", "reply", "mention" (bursts share an id)."""
    kinds = ["dm"] * args.dms + ["reply"] * args.replies
    burst = 0
    while len(kinds) < args.posts:
        size = rng.randint(3, 8)  # a cluster of reports of one problem
        kinds += [f"mention:{burst}"] * min(size, args.posts - len(kinds))
        burst += 1
    rng.shuffle(kinds)
    return [
        (i * 3600.0 / args.posts, k.split(":")[0], int(k.split(":")[1]) if ":" in k else -1)
        for i, k in enumerate(kinds)
    ]


def _kwargs(cls: Any, **wanted: Any) -> dict[str, Any]:
    """The constructor arguments the checkout's adapter knows (the old one has no tier)."""
    params = inspect.signature(cls.__init__).parameters
    return {k: v for k, v in wanted.items() if k in params}


def run_x(args: argparse.Namespace) -> dict[str, Any]:
    from civictracker.channels.base import ReplyTarget
    from civictracker.channels.x import XChannel
    from tests.fakes import serve
    from tests.fakes.x_api import FakeX

    try:
        from civictracker.channels.limits import X_TIERS

        tier: Any = X_TIERS["self_serve"]
    except ImportError:
        tier = None
    rng = random.Random(7)
    clock = Clock()
    fake = FakeX(clock=clock, reply_rule="self_serve")
    plan = _plan(args, rng)
    with serve(fake) as url:
        x = XChannel(
            user_id=fake.me_id,
            bearer_token="t",
            base_url=url,
            timeout=5,
            clock=clock,
            **_kwargs(XChannel, tier=tier),
        )
        ours = fake._store_tweet(fake.me_id, "Road works on Elm St this week", None)
        cursor = x.fetch_since(None).cursor
        start = clock.now
        arrived: dict[str, float] = {}
        kind_of: dict[str, str] = {}
        author_of: dict[str, str] = {}
        read_at: dict[str, float] = {}
        errors = 0
        i = 0
        t = 0.0
        while t <= 3600 + 600:
            while i < len(plan) and plan[i][0] <= t:
                _, kind, burst = plan[i]
                clock.now = start + plan[i][0]
                reporters = [a for p, a in author_of.items() if kind_of[p] == "mention"]
                # a reply in the thread comes from an earlier reporter following up (when there is one)
                user = rng.choice(reporters) if kind == "reply" and reporters else f"res{i}"
                if kind == "dm":
                    pid = fake.add_dm(f"stranger{i}", f"my bin on street {i} was not collected")
                elif kind == "reply":
                    # a reply in the city's thread; a third of them do not name the city
                    text = "still broken" if i % 3 == 0 else "@CambridgeFix still broken"
                    pid = fake.add_tweet(user, text, in_reply_to=ours)
                else:
                    pid = fake.add_tweet(user, f"@CambridgeFix pothole number {burst} on Main St")
                arrived[pid], kind_of[pid], author_of[pid] = clock.now, kind, user
                i += 1
            clock.now = start + t
            try:
                result = x.fetch_since(cursor)
                cursor = result.cursor
                for post in result.posts:
                    read_at.setdefault(post.external_id, clock.now)
            except Exception:
                errors += 1
            t += 5.0
        dms = [p for p, k in kind_of.items() if k == "dm"]
        # the acknowledgements: which public replies X's rules allow, and where the refused ones go
        allowed = refused = by_dm = in_thread = nowhere = 0
        dmed = set()  # residents with an open DM conversation (none of the strangers post publicly here)
        for pid, kind in kind_of.items():
            if kind == "dm":
                continue
            target = ReplyTarget(
                channel="x", is_dm=False, recipient_id="", recipient_handle=author_of[pid], in_reply_to_id=pid
            )
            check = getattr(x, "reply_allowed", None)
            ok = check(target)[0] if check else fake._reply_refusal(pid, f"@{author_of[pid]} Thanks") is None
            if ok:
                allowed += 1
                continue
            refused += 1
            if author_of[pid] in dmed:
                by_dm += 1
            elif any(a == author_of[pid] and kind_of[p] == "mention" for p, a in author_of.items()):
                in_thread += 1  # answered under their own earlier post that named the city
            else:
                nowhere += 1
        lat = [read_at[p] - arrived[p] for p in arrived if p in read_at]
        return {
            "posts": len(arrived),
            "read": len(read_at),
            "lost": len(arrived) - len(read_at),
            "dms read": f"{sum(p in read_at for p in dms)}/{len(dms)}",
            "429 per endpoint": dict(fake.count_429),
            "failed polls": errors,
            "dm reads made": sum(1 for r in fake.requests if r[1] == "/2/dm_events"),
            "read latency p50/p95 s": (round(statistics.median(lat), 1), round(_pct(lat, 0.95), 1)),
            "replies allowed": allowed,
            "refused": refused,
            "refused -> by DM / their thread / recorded, not sent": (by_dm, in_thread, nowhere),
        }


def run_mastodon(args: argparse.Namespace) -> dict[str, Any]:
    from civictracker.channels.mastodon import MastodonChannel
    from tests.fakes import serve
    from tests.fakes.mastodon_api import FakeMastodon

    rng = random.Random(7)
    clock = Clock()
    fake = FakeMastodon(clock=clock)
    plan = _plan(args, rng)
    with serve(fake) as url:
        m = MastodonChannel(api_base_url=url, access_token="t", request_timeout=5, clock=clock)
        ours = fake._store_status(fake.me_id, "Road works on Elm St this week", "public", None, "en")
        cursor = m.fetch_since(None).cursor
        start = clock.now
        arrived: dict[str, float] = {}
        kind_of: dict[str, str] = {}
        read_at: dict[str, float] = {}
        errors = 0
        i = 0
        t = 0.0
        while t <= 3600 + 600:
            while i < len(plan) and plan[i][0] <= t:
                _, kind, burst = plan[i]
                clock.now = start + plan[i][0]
                if kind == "dm":
                    pid = fake.add_status(
                        f"stranger{i}", f"@cambridgefix bin {i} not collected", visibility="direct"
                    )
                elif kind == "reply":
                    pid = fake.add_status(f"res{i}", "@cambridgefix still broken", in_reply_to=ours)
                else:
                    pid = fake.add_status(f"res{i}", f"@cambridgefix pothole number {burst} on Main St")
                arrived[pid], kind_of[pid] = clock.now, kind
                i += 1
            clock.now = start + t
            try:
                result = m.fetch_since(cursor)
                cursor = result.cursor
                for post in result.posts:
                    read_at.setdefault(post.external_id, clock.now)
            except Exception:
                errors += 1
            t += 5.0
        dms = [p for p, k in kind_of.items() if k == "dm"]
        lat = [read_at[p] - arrived[p] for p in arrived if p in read_at]
        return {
            "posts": len(arrived),
            "read": len(read_at),
            "lost": len(arrived) - len(read_at),
            "dms read": f"{sum(p in read_at for p in dms)}/{len(dms)}",
            "429s": fake.count_429,
            "failed polls": errors,
            "read latency p50/p95 s": (round(statistics.median(lat), 1), round(_pct(lat, 0.95), 1)),
        }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--dms", type=int, default=100)
    parser.add_argument("--replies", type=int, default=200)
    parser.add_argument("--code", default=str(ROOT), help="checkout whose civictracker adapters to run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # the old adapter logs every spent DM window
    sys.path.insert(0, str(ROOT))  # the fakes: always this checkout's (the faithful ones)
    import tests.fakes.mastodon_api
    import tests.fakes.x_api  # noqa: F401 - imported before the other checkout goes first on the path

    sys.path.insert(0, args.code)
    import civictracker

    print(f"adapters from {Path(civictracker.__file__).parent}; fakes from {ROOT / 'tests' / 'fakes'}")
    for name, run in (("X (self-serve)", run_x), ("Mastodon 4.3", run_mastodon)):
        print(f"{name}:")
        for key, value in run(args).items():
            print(f"  {key}: {value}")


if __name__ == "__main__":
    main()
