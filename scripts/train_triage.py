"""Rebuild the triage training inputs and report how the model trains (the model itself trains at first use).

Usage:
  .venv/bin/python scripts/train_triage.py --extract-drm   # rewrite data/drm_negatives.jsonl
  .venv/bin/python scripts/train_triage.py                 # train once, print sizes, timing, CV figures

The triage model is not persisted: it is rebuilt deterministically from the shipped data on first use in
each process (well under 2 s). That keeps the repository free of pickles tied to one scikit-learn version
and guarantees the running model is exactly the one the shipped data describes.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DRM_DIR = ROOT.parent / "shared" / "data" / "disaster_response_messages"
DRM_OUT = ROOT / "civictracker" / "intake" / "data" / "drm_negatives.jsonl"


def extract_drm(limit_news: int = 450) -> None:
    """Copy a fixed sample of disaster_response_messages (CC BY 4.0) as non-request examples.

    News sentences teach that a report *about* a flood or a fire elsewhere is not a service request;
    the Hurricane Sandy board's offers of help are the donations/volunteering chatter a city account sees.
    """
    rows: list[dict[str, str]] = []
    for name in ("disaster_response_validation.csv", "disaster_response_test.csv"):
        with open(DRM_DIR / name, encoding="utf-8", newline="") as fh:
            rows.extend(csv.DictReader(fh))
    news = [r for r in rows if r["genre"] == "news" and 30 <= len(r["message"]) <= 220]
    offers = [r for r in rows if r["event"] == "usa_sandy" and r["offer"] == "1" and len(r["message"]) <= 220]
    rng = random.Random(7)
    news = rng.sample(news, min(limit_news, len(news)))
    with open(DRM_OUT, "w", encoding="utf-8") as out:
        for r in sorted(news, key=lambda r: int(r["id"])):
            out.write(json.dumps({"id": f"drm-{r['id']}", "text": r["message"], "is_request": False,
                                  "kind": "news", "lang": "en"}, ensure_ascii=False) + "\n")  # fmt: skip
        for r in sorted(offers, key=lambda r: int(r["id"])):
            out.write(json.dumps({"id": f"drm-{r['id']}", "text": r["message"], "is_request": False,
                                  "kind": "chatter", "lang": "en"}, ensure_ascii=False) + "\n")  # fmt: skip
    print(f"wrote {len(news)} news + {len(offers)} offers to {DRM_OUT.relative_to(ROOT)}")


def report() -> None:
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline

    from civictracker.intake import triage
    from civictracker.intake.triage_data import training_examples

    t0, c0 = time.perf_counter(), time.process_time()
    examples = training_examples()
    model = triage.get_model()
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"examples: {len(examples)}  by source {dict(Counter(e.source for e in examples))}")
    print(f"  requests {sum(e.is_request for e in examples)}, urgent {sum(e.urgent for e in examples)}, "
          f"langs {dict(Counter(e.lang for e in examples))}")  # fmt: skip
    print(f"features: {model.n_features}  train time (load + fit): {elapsed:.2f} s wall, {cpu:.2f} s CPU")
    texts = [triage.model_text(e.text) for e in examples]
    y = [e.is_request for e in examples]
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    pipe = make_pipeline(triage.build_vectorizer(), triage.build_classifier())
    scores = cross_val_score(pipe, texts, y, cv=cv, scoring="f1")
    print(f"request-or-not 5-fold CV F1 on training data (templated, optimistic): {scores.mean():.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract-drm", action="store_true", help="rewrite drm_negatives.jsonl")
    args = parser.parse_args()
    if args.extract_drm:
        extract_drm()
    report()


if __name__ == "__main__":
    main()
