"""Print triage figures: dev and holdout splits, CrisisLex T26 false-request rate, throughput.

Usage: .venv/bin/python bench/eval_triage.py [--errors] [--crisislex PATH] [--no-crisislex]

--errors lists the dev split's mistakes (never the holdout's: the holdout stays unseen while tuning).
Request-or-not F1 counts mentions and DMs; replies are scored by reply intent instead, because a reply in
our own thread goes to the thread stage, not to triage.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.shared_data import SHARED_DATA  # noqa: E402
from civictracker.triage import classify_reply, get_model, triage_text  # noqa: E402

DEV = ROOT / "tests" / "data" / "intake_dev.jsonl"
CRISISLEX = SHARED_DATA / "crisislex" / "crisislex_t26.csv"
# CrisisLex T26 labels for tweets that are not service requests (column: label values).
NON_REQUEST_LABELS = {
    "informativeness": {"Not related"},
    "information_type": {"Sympathy and support", "Donations and volunteering"},
}


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def evaluate(rows: list[dict], show_errors: bool) -> dict[str, float]:
    tp = fp = fn = 0
    cat_ok = cat_n = 0
    urg_tp = urg_fp = urg_fn = 0
    intent_ok = intent_n = 0
    lang_ok = 0
    errors: list[str] = []
    for row in rows:
        result = triage_text(row["text"], channel_kind=row["channel"])
        if result.lang == row["lang"]:
            lang_ok += 1
        else:
            errors.append(f"LANG  want {row['lang']} got {result.lang}: {row['text']}")
        if row["channel"] == "reply":
            intent, why = classify_reply(row["text"])
            intent_n += 1
            if intent == row["reply_intent"]:
                intent_ok += 1
            else:
                errors.append(f"INTENT want {row['reply_intent']} got {intent} {why}: {row['text']}")
            continue
        want, got = row["is_request"], result.is_request
        tp += want and got
        fp += (not want) and got
        fn += want and not got
        if want != got:
            errors.append(f"REQ   want {want} got {got} ({result.kind}; {result.reasons}): {row['text']}")
        if want:
            cat_n += 1
            if result.service_code == row["service_code"]:
                cat_ok += 1
            elif got:
                errors.append(
                    f"CAT   want {row['service_code']} got {result.service_code} {result.reasons}: {row['text']}"
                )
        urg_tp += row["urgent"] and result.urgent
        urg_fp += (not row["urgent"]) and result.urgent
        urg_fn += row["urgent"] and not result.urgent
        if row["urgent"] != result.urgent:
            errors.append(f"URG   want {row['urgent']} got {result.urgent} {result.reasons}: {row['text']}")
    p, r, f1 = _f1(tp, fp, fn)
    up, ur, _ = _f1(urg_tp, urg_fp, urg_fn)
    figures = {
        "posts": len(rows),
        "request_precision": p,
        "request_recall": r,
        "request_f1": f1,
        "category_accuracy": cat_ok / cat_n if cat_n else 0.0,
        "urgency_recall": ur,
        "urgency_precision": up,
        "reply_intent_accuracy": intent_ok / intent_n if intent_n else 0.0,
        "language_accuracy": lang_ok / len(rows) if rows else 0.0,
    }
    if show_errors:
        for line in errors:
            print("   ", line)
    return figures


def crisislex(path: Path) -> None:
    if not path.exists():
        print(f"CrisisLex T26: {path} not found, skipped")
        return
    with open(path, encoding="utf-8", newline="") as fh:
        rows = [
            r for r in csv.DictReader(fh)
            if r["informativeness"] in NON_REQUEST_LABELS["informativeness"]
            or r["information_type"] in NON_REQUEST_LABELS["information_type"]
        ]  # fmt: skip
    by_label: dict[str, list[int]] = {}
    flagged = 0
    for r in rows:
        is_req = triage_text(r["text"]).is_request
        flagged += is_req
        label = r["informativeness"] if r["informativeness"] == "Not related" else r["information_type"]
        by_label.setdefault(label, [0, 0])
        by_label[label][0] += is_req
        by_label[label][1] += 1
    print(f"CrisisLex T26 non-request tweets judged service requests: {flagged}/{len(rows)} "
          f"= {flagged / len(rows):.2%} (target <= 1%)")  # fmt: skip
    for label, (k, n) in sorted(by_label.items()):
        print(f"    {label:30s} {k}/{n} = {k / n:.2%}")


def throughput(texts: list[str], n: int = 6000) -> tuple[float, float]:
    """Posts per second of wall time and of this process's CPU time (the latter ignores other load)."""
    get_model()
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(n):
        triage_text(texts[i % len(texts)] + (" " if i % 2 else ""))
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the dev split's mistakes")
    parser.add_argument("--crisislex", type=Path, default=CRISISLEX)
    parser.add_argument("--no-crisislex", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    get_model()
    print(f"model ready in {time.perf_counter() - t0:.2f} s (loaded from the shipped model file)")
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    for split in ("dev", "holdout"):
        part = [r for r in rows if r.get("split", "dev") == split]
        figures = evaluate(part, show_errors=args.errors and split == "dev")
        print(f"[{split}] posts={figures['posts']}  request F1={figures['request_f1']:.3f} "
              f"(P={figures['request_precision']:.3f} R={figures['request_recall']:.3f})  "
              f"category acc={figures['category_accuracy']:.3f}  "
              f"urgency recall={figures['urgency_recall']:.3f} precision={figures['urgency_precision']:.3f}  "
              f"reply-intent acc={figures['reply_intent_accuracy']:.3f}  "
              f"language acc={figures['language_accuracy']:.3f}")  # fmt: skip
    if not args.no_crisislex:
        crisislex(args.crisislex)
    wall, cpu = throughput([r["text"] for r in rows])
    print(
        f"triage throughput: {cpu:.0f} posts/s per CPU-second on one core ({wall:.0f} posts/s wall clock; model warm)"
    )


if __name__ == "__main__":
    main()
