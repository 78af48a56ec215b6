"""A storm day through the real intake: who got an answer or a decision, what reached the inbox, and speed.

PYTHONPATH=. python bench/bench_storm_day.py [--feed bench/data/storm_day.jsonl] [--backend sqlite|postgis]

A scratch app (tests/conftest.make_app) reads the feed through the replay channel: `poll_channel` pages
(store, then the real `process_posts` job inline), then `sweep_outbox` sends the replies. Each post then
lands in one of these, checked in this order:
  answered  a reply was queued or sent to the post (outbound message with its post id, or in its thread)
  person    inbox state new/assigned: waiting in the inbox for a person
  ticket    a recorded decision on a ticket (created, merged, asked back, reopened, ...), no reply to it
  system    inbox state "handled" by the system (spam, news ...), with its reason
  nothing   none of these: listed by id (the target is none)
Gold labels come from the feed's extra `expect` / `expect_lang` fields (bench/make_storm_day.py). A gold
question or complaint "reached the inbox" when it waits for a person there; the ones that went elsewhere
are shown with their outcome (a ticket's acknowledgement is an answer, but not to the question asked).
Figures only; no asserts.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: civictracker and tests

from sqlalchemy import or_, select

from civictracker.extensions import db
from civictracker.models import InboundPost, OutboundMessage
from tests.conftest import drop_app, make_app

FEED = Path(__file__).resolve().parent / "data" / "storm_day.jsonl"
PLACES = ("answered", "person", "ticket", "system", "nothing")
OPEN = {"new", "assigned"}


def _run(feed: Path, backend: str) -> tuple[dict[str, dict[str, object]], dict[str, float]]:
    """Replay the feed; returns what happened to each post (by feed id) and the timings."""
    from civictracker.jobs import posts as jobs
    from civictracker.outbox import sweep as outbox

    with tempfile.TemporaryDirectory() as tmp:
        app, pg_db = make_app(backend, Path(tmp), replay_feed=str(feed))
        try:
            with app.app_context():
                began = time.perf_counter()
                stored = 0
                while new := jobs.poll_channel("replay"):
                    stored += new
                intake = time.perf_counter() - began
                began = time.perf_counter()
                sweeps = 0
                while outbox.sweep_outbox() and sweeps < 50:  # until nothing more is due
                    sweeps += 1
                sweep = time.perf_counter() - began
                return _collect(), {"stored": stored, "intake_s": intake, "sweep_s": sweep}
        finally:
            drop_app(app, pg_db)


def _collect() -> dict[str, dict[str, object]]:
    posts = db.session.scalars(select(InboundPost).where(InboundPost.channel == "replay")).all()
    by_external = {p.external_id: p for p in posts}
    replies: dict[int, list[str]] = defaultdict(list)
    messages = db.session.execute(
        select(OutboundMessage.post_id, OutboundMessage.in_reply_to_id, OutboundMessage.state).where(
            or_(OutboundMessage.post_id.is_not(None), OutboundMessage.in_reply_to_id.is_not(None))
        )
    ).all()
    for post_id, in_reply_to, state in messages:
        target = post_id or (by_external[in_reply_to].id if in_reply_to in by_external else None)
        if target is not None:
            replies[target].append(state)
    out: dict[str, dict[str, object]] = {}
    for p in posts:
        if replies.get(p.id):
            place = "answered"
        elif p.inbox_state in OPEN:  # a follow-up on a ticket that waits for a person lands here
            place = "person"
        elif p.ticket_id is not None:
            place = "ticket"
        elif p.inbox_state == "handled":
            place = "system"
        else:
            place = "nothing"
        out[p.external_id] = {
            "place": place,
            "waiting": p.inbox_state in OPEN,
            "sent": "sent" in replies.get(p.id, []),
            "outcome": p.outcome,
            "state": p.state,
            "inbox": p.inbox_state,
            "reason": p.inbox_reason,
            "priority": p.inbox_priority,
            "text": p.text,
        }
    return out


def _pct(n: int, d: int) -> str:
    return f"{n}/{d} = {100 * n / d:.1f}%" if d else "0/0"


def report(
    gold: dict[str, dict[str, str]], got: dict[str, dict[str, object]], times: dict[str, float]
) -> None:
    total = len(gold)
    missing = [i for i in gold if i not in got]
    places = Counter(str(got[i]["place"]) if i in got else "nothing" for i in gold)
    covered = total - places["nothing"]
    print(f"posts in the feed: {total}; stored: {len(got)}; not stored: {missing or 'none'}")
    print(
        f"intake (poll + process, inline, one core): {times['intake_s']:.2f} s = "
        f"{total / times['intake_s']:.0f} posts/s; outbox sweep: {times['sweep_s']:.2f} s"
    )
    print("where each post landed: " + ", ".join(f"{k} {places[k]}" for k in PLACES))
    by_system = places["answered"] + places["ticket"] + places["system"]
    print(f"answered or decided by the system (reply, ticket, system decision): {_pct(by_system, total)}")
    print(
        f"waiting for a person in the inbox (no reply, no decision yet):        {_pct(places['person'], total)}"
    )
    print(f"answered, decided or waiting for a person (target 100%):             {_pct(covered, total)}")
    waiting = sum(bool(got[i]["waiting"]) for i in gold if i in got)
    sent = sum(bool(got[i]["sent"]) for i in gold if i in got)
    print(f"needed a person (inbox new/assigned, replied or not): {waiting}; posts with a reply sent: {sent}")
    qc = [i for i, g in gold.items() if g["expect"] in ("question", "complaint")]
    reached = [i for i in qc if i in got and got[i]["waiting"]]
    print(
        f"gold questions + complaints in the inbox for a person (target >= 98%): {_pct(len(reached), len(qc))}"
    )
    _table(gold, got)
    _by_lang(gold, got, qc)
    _escalated(gold, got)
    elsewhere = Counter(
        (gold[i]["expect"], str(got[i]["place"]), str(got[i]["outcome"]))
        for i in qc
        if i not in reached and i in got
    )
    if elsewhere:
        print("questions/complaints not in the inbox (expect, place, outcome: count):")
        for (expect, place, outcome), n in elsewhere.most_common():
            print(f"  {expect:9} {place:8} {outcome}: {n}")
        texts = Counter(str(got[i]["text"]).lower() for i in qc if i not in reached and i in got)
        print("  their texts (count):")
        for text, n in texts.most_common():
            print(f"    {n:3}  {text[:100]}")
    nothing = [i for i in gold if i not in got or got[i]["place"] == "nothing"]
    print(f"posts that got nothing ({len(nothing)}):")
    for i in nothing:
        g = got.get(i, {})
        print(f"  {i} expect={gold[i]['expect']} state={g.get('state')} outcome={g.get('outcome')}")


def _table(gold: dict[str, dict[str, str]], got: dict[str, dict[str, object]]) -> None:
    cells: dict[str, Counter[str]] = defaultdict(Counter)
    for i, g in gold.items():
        cells[g["expect"]][str(got[i]["place"]) if i in got else "nothing"] += 1
    print(f"{'gold kind':10}" + "".join(f"{p:>10}" for p in PLACES) + f"{'total':>8}")
    for kind in sorted(cells):
        row = cells[kind]
        print(f"{kind:10}" + "".join(f"{row[p]:>10}" for p in PLACES) + f"{sum(row.values()):>8}")


def _by_lang(gold: dict[str, dict[str, str]], got: dict[str, dict[str, object]], qc: list[str]) -> None:
    print(
        f"{'language':10}{'posts':>7}{'covered':>10}{'by system':>11}{'person':>8}{'q+c':>6}{'q+c inbox':>11}"
    )
    for lang in sorted({g["expect_lang"] for g in gold.values()}):
        ids = [i for i, g in gold.items() if g["expect_lang"] == lang]
        place = Counter(str(got[i]["place"]) if i in got else "nothing" for i in ids)
        lqc = [i for i in qc if gold[i]["expect_lang"] == lang]
        inbox = sum(bool(got[i]["waiting"]) for i in lqc if i in got)
        print(
            f"{lang:10}{len(ids):>7}{len(ids) - place['nothing']:>10}"
            f"{place['answered'] + place['ticket'] + place['system']:>11}{place['person']:>8}{len(lqc):>6}{inbox:>11}"
        )


# inbox_rules.py's priorities: high risk or a hazard 6-7, abusive 4-5, angry or urgent words 2-3.
ESCALATION_BANDS = (("top (high risk, hazard)", 6), ("abusive", 4), ("angry, urgent", 2))


def _escalated(gold: dict[str, dict[str, str]], got: dict[str, dict[str, object]]) -> None:
    """How the posts waiting for a person are ranked, by gold kind: the top of the inbox should hold the
    few that cannot wait, not every complaint."""
    cells: dict[str, Counter[str]] = defaultdict(Counter)
    for i, g in gold.items():
        if i in got and got[i]["waiting"]:
            priority = int(got[i]["priority"] or 0)  # type: ignore[call-overload]
            band = next((name for name, low in ESCALATION_BANDS if priority >= low), "not escalated")
            cells[g["expect"]][band] += 1
    bands = [name for name, _ in ESCALATION_BANDS] + ["not escalated"]
    print("posts waiting for a person, by inbox priority:")
    print(f"{'gold kind':10}" + "".join(f"{b:>26}" for b in bands))
    for kind in sorted(cells):
        print(f"{kind:10}" + "".join(f"{cells[kind][b]:>26}" for b in bands))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feed", type=Path, default=FEED)
    parser.add_argument("--backend", default="sqlite", choices=["sqlite", "postgis"])
    args = parser.parse_args()
    gold = {}
    with open(args.feed, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                gold[row["id"]] = {"expect": row["expect"], "expect_lang": row.get("expect_lang", "?")}
    got, times = _run(args.feed, args.backend)
    print(f"feed: {args.feed} ({args.backend})")
    report(gold, got, times)


if __name__ == "__main__":
    main()
