"""Do the retired Cambridge hands teach the model? Leave one hand out: fit with the others added, score it.

An experiment (session 19), the evidence for training on civictracker/triage/data/cambridge_hands.jsonl: the
retired Cambridge hands, each written by a writer who never saw the project and each read as a held-out set
until it was spent. For each hand H: the model fitted on the other training examples alone (no hand) and the
model fitted with the posts (mentions and DMs) of every other hand added (weight W, R in the request head; as
shipped: 4 and 0) are both scored on all of H's mentions and DMs: request F1, category (requests whose
service is right, misses count), urgent recall. The reply head is fitted as shipped in both (the hands'
replies included).

Usage:  PYTHONPATH=. .venv/bin/python bench/exp_hands.py [--weight W] [--request-weight R] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from civictracker.triage import classify as triage  # noqa: E402
from civictracker.triage.dataset import HAND_SOURCE, hand_example, hand_rows, training_examples  # noqa: E402
from civictracker.triage.model import fit_model  # noqa: E402


def posts_by_hand() -> dict[str, list[dict]]:
    """Each hand's mentions and DMs, hands in file order (its replies teach the reply head in both models)."""
    out: dict[str, list[dict]] = {row["hand"]: [] for row in hand_rows()}
    for row in hand_rows():
        if row["channel"] != "reply":
            out[row["hand"]].append(row)
    return out


def score(rows: list[dict], model: object) -> dict[str, float]:
    results = triage.triage_texts([(r["text"], r["channel"]) for r in rows], model=model)  # type: ignore[arg-type]
    tp = fp = fn = cat = n_req = urg = n_urg = 0
    for r, res in zip(rows, results, strict=True):
        if r["is_request"]:
            n_req += 1
            tp += res.is_request
            fn += not res.is_request
            cat += res.is_request and res.service_code == r["service_code"]
            if r["urgent"]:
                n_urg += 1
                urg += res.is_request and res.urgent
        else:
            fp += res.is_request
    p = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return {
        "f1": 2 * p * rec / (p + rec) if p + rec else 0.0,
        "cat": cat / n_req if n_req else 0.0,
        "urgent": urg / n_urg if n_urg else 1.0,
        "n": len(rows),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--weight", type=float, default=4.0, help="weight of an added hand row")
    parser.add_argument("--request-weight", type=float, default=0.0, help="its weight in the request head")
    parser.add_argument("--only", nargs="*", help="these hands alone (default: every one)")
    args = parser.parse_args()
    from civictracker.triage import fit

    fit.SOURCE_WEIGHT[HAND_SOURCE] = args.weight
    fit.REQUEST_SOURCE_WEIGHT[HAND_SOURCE] = args.request_weight
    base = tuple(e for e in training_examples() if e.source != HAND_SOURCE)
    shipped = fit_model(base)
    rows = posts_by_hand()
    hands = args.only or list(rows)
    totals: dict[str, list[float]] = {"base": [0, 0, 0], "added": [0, 0, 0]}
    for name in hands:
        extra = tuple(hand_example(r) for other, posts in rows.items() if other != name for r in posts)
        added = fit_model(base + extra)
        a, b = score(rows[name], shipped), score(rows[name], added)
        print(f"{name:8s} n={a['n']:3.0f}  base F1 {a['f1']:.3f} cat {a['cat']:.3f} urg {a['urgent']:.3f}"
              f"   +others ({len(extra)} rows) F1 {b['f1']:.3f} cat {b['cat']:.3f} urg {b['urgent']:.3f}",
              flush=True)  # fmt: skip
        for key, s in (("base", a), ("added", b)):
            totals[key] = [t + v for t, v in zip(totals[key], (s["f1"], s["cat"], s["urgent"]), strict=True)]
    k = len(hands)
    for key, t in totals.items():
        print(f"mean {key:6s} F1 {t[0] / k:.3f} cat {t[1] / k:.3f} urgent {t[2] / k:.3f}")


if __name__ == "__main__":
    main()
