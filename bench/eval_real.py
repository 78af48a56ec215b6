"""Triage on real text nobody here wrote: Boston residents' 311 descriptions, real non-requests, by split.

Usage:
  .venv/bin/python bench/eval_real.py            # the shipped model on the real test split + non-requests
  .venv/bin/python bench/eval_real.py --cv 5     # tuning figures: k-fold over the real TRAINING split only
  .venv/bin/python bench/eval_real.py --cv 5 --errors   # ... and list the folds' mistakes
  .venv/bin/python bench/eval_real.py --cv 5 --request-threshold 0.7   # ... with another threshold
  .venv/bin/python bench/eval_real.py --cv 5 --confusion   # ... and the folds' category confusion matrix
  .venv/bin/python bench/eval_real.py --cv 5 --chatter     # ... and real chatter judged requests (tuning set)

Splits (see scripts/build_real_data.py and bench/data/boston_labels/LABELLING.md):
  real test   bench/data/real_boston_test.jsonl: hand-labelled Boston "Other" and "Unsafe Dangerous" cases
              and Boston-labelled folder cases, never trained or tuned on. Its mistakes are never printed.
  non-requests  CrisisLex T26 tweets labelled "Not related" / "Sympathy and support" / "Donations and
              volunteering" (evaluation only, never shipped), and the Disaster Response Messages TEST file's
              unrelated messages and news (the model trains on a sample of its validation file only).
  --cv        folds of civictracker/triage/data/real_boston.jsonl: the model is refitted without the fold, so
              thresholds and features can be tuned without looking at the test split.
  --chatter   with --cv: CrisisLex T6 tweets labelled off-topic (personal chatter, ads, check-ins; a tuning set,
              never trained on and not scored by the test figures) through a model fitted on all training rows.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from build_real_data import drm_non_request  # noqa: E402

from bench.shared_data import SHARED_DATA as SHARED  # noqa: E402
from civictracker.triage import classify as triage  # noqa: E402
from civictracker.triage.dataset import DATA_DIR, training_examples  # noqa: E402
from civictracker.triage.model import fit_model  # noqa: E402

TEST = ROOT / "bench" / "data" / "real_boston_test.jsonl"
CRISISLEX = SHARED / "crisislex" / "crisislex_t26.csv"
CRISISLEX_T6 = SHARED / "crisislex" / "crisislex_t6.csv"
CHATTER_SAMPLE = 6000
DRM_TEST = SHARED / "disaster_response_messages" / "disaster_response_test.csv"
CRISIS_LABELS = {"Not related", "Sympathy and support", "Donations and volunteering"}
TARGETS = {"request_recall": 0.95, "category_accuracy": 0.88, "non_request_false_rate": 0.01}

Judge = Callable[[str], triage.TriageResult]


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def score_requests(rows: Iterable[dict], judge: Judge, errors: list[str] | None = None) -> dict[str, float]:
    """Request recall, category accuracy, urgent recall/precision over labelled real rows."""
    n_req = found = cat_ok = 0
    urg_tp = urg_fn = urg_fp = 0
    n_non = non_flagged = 0
    for row in rows:
        got = judge(row["text"])
        if not row["is_request"]:
            n_non += 1
            non_flagged += got.is_request
            continue
        n_req += 1
        found += got.is_request
        cat_ok += got.service_code == row["service_code"]
        urg_tp += row["urgent"] and got.urgent
        urg_fn += row["urgent"] and not got.urgent
        urg_fp += (not row["urgent"]) and got.urgent
        if errors is not None and (got.service_code != row["service_code"] or row["urgent"] != got.urgent):
            errors.append(
                f"want {row['service_code']}{'!' if row['urgent'] else ''} got {got.service_code}"
                f"{'!' if got.urgent else ''} {got.reasons[:2]}: {row['text'][:160]}"
            )
    return {
        "requests": n_req,
        "request_recall": found / n_req if n_req else 0.0,
        "category_accuracy": cat_ok / n_req if n_req else 0.0,
        "urgent_n": urg_tp + urg_fn,
        "urgent_recall": urg_tp / (urg_tp + urg_fn) if urg_tp + urg_fn else 0.0,
        "urgent_precision": urg_tp / (urg_tp + urg_fp) if urg_tp + urg_fp else 0.0,
        "non_requests": n_non,
        "non_requests_judged_requests": non_flagged / n_non if n_non else 0.0,
    }


def print_confusion(rows: Iterable[dict], judge: Judge) -> None:
    """Category confusion of labelled real requests: per wanted code, its recall and where the rest went."""
    pairs = [(r["service_code"], judge(r["text"]).service_code or "(none)") for r in rows if r["is_request"]]
    wanted = sorted({w for w, _ in pairs}, key=lambda c: -sum(w == c for w, _ in pairs))
    print(f"  category confusion ({len(pairs)} requests; want -> got, the largest misses):")
    misses: dict[tuple[str, str], int] = {}
    for w, g in pairs:
        if w != g:
            misses[(w, g)] = misses.get((w, g), 0) + 1
    for code in wanted:
        n = sum(w == code for w, _ in pairs)
        ok = sum(w == g == code for w, g in pairs)
        top = sorted(((k, v) for k, v in misses.items() if k[0] == code), key=lambda kv: -kv[1])[:4]
        got_as = sum(g == code for w, g in pairs if w != code)
        print(f"    {code:18s} n={n:5d} recall={ok / n:.3f} precision={ok / max(1, ok + got_as):.3f}  "
              + ", ".join(f"{g} {v}" for (_, g), v in top))  # fmt: skip
    total = sum(misses.values())
    print(
        f"    {total} misses; to or from other: {sum(v for (w, g), v in misses.items() if 'other' in (w, g))}"
    )


def print_scores(name: str, f: dict) -> None:
    line = (
        f"  {name:28s} n={f['requests']:4d}  request recall={f['request_recall']:.3f}  "
        f"category={f['category_accuracy']:.3f}  urgent recall={f['urgent_recall']:.3f} "
        f"(n={f['urgent_n']}) precision={f['urgent_precision']:.3f}"
    )
    if f["non_requests"]:
        line += f"  not_request rows judged requests={f['non_requests_judged_requests']:.3f} of {f['non_requests']}"
    print(line)


def non_request_texts() -> dict[str, list[str]]:
    """Real non-requests by source: CrisisLex T26 (three labels) and the DRM test file."""
    out: dict[str, list[str]] = {}
    missing = [str(p) for p in (CRISISLEX, DRM_TEST) if not p.exists()]
    if missing:  # a figure over no posts would read as a pass
        raise SystemExit(f"real non-requests not found: {', '.join(missing)} (set CIVICTRACKER_SHARED_DATA)")
    if CRISISLEX.exists():
        with open(CRISISLEX, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                label = (
                    r["informativeness"] if r["informativeness"] == "Not related" else r["information_type"]
                )
                if label in CRISIS_LABELS:
                    out.setdefault(f"CrisisLex: {label}", []).append(r["text"])
    if DRM_TEST.exists():
        with open(DRM_TEST, encoding="utf-8", newline="") as fh:
            for r in csv.DictReader(fh):
                kind = drm_non_request(r)
                if kind:
                    out.setdefault(f"DRM test: {kind}", []).append(r["message"])
    return out


def score_non_requests(judge: Judge) -> None:
    total = flagged = 0
    for label, texts in non_request_texts().items():
        k = sum(judge(t).is_request for t in texts)
        total += len(texts)
        flagged += k
        print(f"  {label:34s} {k:4d}/{len(texts):5d} = {k / len(texts):.2%}")
    if total:
        print(
            f"  all real non-requests judged requests: {flagged}/{total} = {flagged / total:.2%} (target <= 1%)"
        )


def shipped_judge(channel: str) -> Judge:
    return lambda text: triage.triage_text(text, channel_kind=channel)


def fold_of(row_id: str, k: int) -> int:
    return int(hashlib.sha256(f"cv:{row_id}".encode()).hexdigest(), 16) % k


def score_chatter(channel: str = "mention") -> None:
    """Real personal chatter judged requests: a fixed sample of CrisisLex T6 off-topic tweets (tuning only)."""
    import random

    if not CRISISLEX_T6.exists():
        raise SystemExit(f"real chatter not found: {CRISISLEX_T6} (set CIVICTRACKER_SHARED_DATA)")
    with open(CRISISLEX_T6, encoding="utf-8", newline="") as fh:
        texts = [r["text"] for r in csv.DictReader(fh) if r["label"] == "off-topic"]
    texts = random.Random(1).sample(texts, min(CHATTER_SAMPLE, len(texts)))
    model = fit_model()
    k = sum(triage.triage_text(t, channel_kind=channel, model=model).is_request for t in texts)
    print(f"  CrisisLex T6 off-topic (tuning set), model fitted on all training rows: judged requests "
          f"{k}/{len(texts)} = {k / len(texts):.2%}")  # fmt: skip


def cross_validate(k: int, show_errors: bool, confusion: bool = False) -> None:
    """Refit without each fold of the real training rows and score the fold (the test split is untouched).

    The folds also hold out the Disaster Response validation rows the model trains on, so the share of
    real non-requests judged requests has a tuning figure too (the CrisisLex / DRM test figure is not one).
    """
    real = read_jsonl(DATA_DIR / "real_boston.jsonl")
    drm = read_jsonl(DATA_DIR / "drm_negatives.jsonl")
    all_examples = training_examples()
    results: dict[str, triage.TriageResult] = {}
    for fold in range(k):
        held = [r for r in real + drm if fold_of(r["id"], k) == fold]
        held_texts = {r["text"] for r in held}
        kept = tuple(
            e
            for e in all_examples
            if not ((e.source.startswith("boston") or e.source == "drm") and e.text in held_texts)
        )
        model = fit_model(kept)
        for r in held:
            results[r["text"]] = triage.triage_text(r["text"], model=model)
    judge: Judge = results.__getitem__
    errors: list[str] = []
    hand = [r for r in real if r["source"] == "boston-hand"]
    print_scores("hand-labelled, pooled folds", score_requests(hand, judge, errors if show_errors else None))
    for folder in sorted({r["folder"] for r in real}):
        part = [r for r in real if r["folder"] == folder]
        print_scores(f"  {folder}", score_requests(part, judge))
    if confusion:
        print_confusion(hand, judge)
    flagged = sum(results[r["text"]].is_request for r in drm)
    print(f"  Disaster Response validation non-requests, pooled folds: judged requests {flagged}/{len(drm)} "
          f"= {flagged / len(drm):.2%}")  # fmt: skip
    if show_errors:
        for line in errors:
            print("   ", line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cv", type=int, default=0, help="k-fold figures over the real training split")
    parser.add_argument("--errors", action="store_true", help="with --cv: list the held-out folds' mistakes")
    parser.add_argument("--confusion", action="store_true", help="with --cv: the category confusion matrix")
    parser.add_argument("--chatter", action="store_true", help="with --cv: real chatter judged requests")
    parser.add_argument("--channel", default="mention", choices=("mention", "dm"))
    parser.add_argument(
        "--request-threshold", type=float, default=None, help="with --cv: try another mention threshold"
    )
    args = parser.parse_args()
    if args.request_threshold is not None:
        triage.REQUEST_THRESHOLD["mention"] = args.request_threshold
    if args.cv:
        cross_validate(args.cv, args.errors, args.confusion)
        if args.chatter:
            score_chatter()
        return
    judge = shipped_judge(args.channel)
    rows = read_jsonl(TEST)
    print(f"Real test split ({TEST.relative_to(ROOT)}), channel={args.channel}; targets: "
          f"request recall >= {TARGETS['request_recall']}, category >= {TARGETS['category_accuracy']}")  # fmt: skip
    hand = [r for r in rows if r["source"] == "boston-hand"]
    print_scores("hand-labelled (all)", score_requests(hand, judge))
    # Boston's folders: "other" (and "updated-other") and "dangerous" (Unsafe Dangerous Conditions).
    for name, folders in (("Other", {"other", "updated-other"}), ("Unsafe Dangerous", {"dangerous"})):
        print_scores(f"  hand, {name}", score_requests([r for r in hand if r["folder"] in folders], judge))
    by_folder = [r for r in rows if r["source"] == "boston-folder"]
    print_scores("Boston-labelled folders", score_requests(by_folder, judge))
    for folder in sorted({r["folder"] for r in by_folder}):
        print_scores(f"  {folder}", score_requests([r for r in by_folder if r["folder"] == folder], judge))
    print("Real non-requests (target: judged requests <= 1%)")
    score_non_requests(judge)


if __name__ == "__main__":
    main()
