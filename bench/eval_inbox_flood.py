"""Real non-requests through triage and the inbox rule: how many the system decides, how many wait for a person.

PYTHONPATH=. python bench/eval_inbox_flood.py

The storm day (bench/bench_storm_day.py) has no news; this is the other side of "every question and
complaint reaches a person": news, events and chatter must not flood the inbox. Sets (read at run time,
none tuned on): CrisisLex T26 tweets labelled "Not related" / "Sympathy and support" / "Donations and
volunteering" and the Disaster Response Messages test file's news and unrelated messages (real, English;
bench/eval_real.py's non-requests), and the team's own Spanish, Portuguese and Creole non-requests of
triage/data/social_posts.jsonl (written for civictracker; the triage model trains on them, so their
kind is read better than a stranger's would be). Each post is triaged as a public mention; a post triage
takes for a request is counted apart (it goes the ticket's way, not the inbox rule's).
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from eval_real import non_request_texts  # noqa: E402

from civictracker.intake.analysis import triage_summary  # noqa: E402
from civictracker.models import PostOutcome  # noqa: E402
from civictracker.services.inbox_rules import decide_inbox  # noqa: E402
from civictracker.triage.classify import triage_text  # noqa: E402

SOCIAL = ROOT / "civictracker" / "triage" / "data" / "social_posts.jsonl"


def route(text: str) -> tuple[str, str]:
    """Where a non-request goes: ("person" | "system" | "request", why)."""
    t = triage_text(text, channel_kind="mention")
    if t.is_request:
        return "request", "request"
    decision = decide_inbox(
        PostOutcome.NOT_REQUEST.with_detail(t.kind), failed=False, is_dm=False, triage=triage_summary(t)
    )
    if decision.state is not None and decision.state.value == "handled":
        return "system", t.kind
    return "person", f"{t.kind}" + (f", reads as {t.reads_as}" if t.reads_as else "")


def main() -> None:
    sets = non_request_texts()
    for row in (json.loads(line) for line in SOCIAL.read_text(encoding="utf-8").splitlines() if line):
        if not row["is_request"] and row["lang"] != "en" and row["kind"] in ("news", "event", "spam"):
            sets.setdefault(f"team es/pt/ht {row['kind']}", []).append(row["text"])
    print(f"{'set':40s}{'posts':>7}{'system':>8}{'person':>8}{'request':>9}  person by kind")
    totals: Counter[str] = Counter()
    for name, texts in sets.items():
        places: Counter[str] = Counter()
        why: Counter[str] = Counter()
        for text in texts:
            place, reason = route(text)
            places[place] += 1
            if place == "person":
                why[reason] += 1
        totals.update(places)
        top = ", ".join(f"{k} {n}" for k, n in why.most_common(4))
        print(
            f"{name:40s}{len(texts):>7}{places['system']:>8}{places['person']:>8}{places['request']:>9}  {top}"
        )
    n = sum(totals.values())
    print(
        f"{'all':40s}{n:>7}{totals['system']:>8}{totals['person']:>8}{totals['request']:>9}"
        f"  person share {totals['person'] / n:.1%}"
    )


if __name__ == "__main__":
    main()
