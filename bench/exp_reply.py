"""Reply intent on a hand the reader never saw: rules, reply head and their combination, one writer left out.

Usage: PYTHONPATH=. .venv/bin/python bench/exp_reply.py

For each writer of civictracker/triage/data/reply_posts.jsonl (the id's prefix), the reply head and its
combiner are fitted on the other writers' replies with the shipped code (fit.build_multiclass, REPLY_C,
fit._reply_combiner; the feature union fitted on the training posts once, as `make triage-model` does) and
read the left-out writer's replies (the retired Cambridge hands are writers too). Then the same fit on every
writer reads the dev sets the rules were tuned on (reply_intent.jsonl dev, intake_dev.jsonl dev, the ninth
Cambridge hand's dev rows). Never reads a test or holdout split.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from civictracker.triage.dataset import ReplyExample, reply_examples, training_examples  # noqa: E402
from civictracker.triage.fit import REPLY_C, _reply_combiner, build_multiclass, fitted_union  # noqa: E402
from civictracker.triage.reply_rules import read_rules, verdict_features  # noqa: E402
from civictracker.triage.text import model_text  # noqa: E402

DATA = ROOT / "tests" / "data"
# (file, the key of the intent, the splits read): dev rows only.
DEV_SETS = {
    "reply set dev": (DATA / "reply_intent.jsonl", "intent", {"dev"}),
    "intake dev": (DATA / "intake_dev.jsonl", "reply_intent", {"dev"}),
    # (the Cambridge hands read here up to session 18 are training rows now: cambridge_hands.jsonl)
    "ninth hand dev": (DATA / "cambridge_ninth_hand.jsonl", "reply_intent", {"dev"}),
}


def dev_rows(path: Path, key: str, splits: set[str]) -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["text"], r[key]) for r in rows if r.get(key) and r.get("split") in splits]


class Reader:
    """The reply head and combiner fitted on some replies, as fit.fit_stored_model fits them."""

    def __init__(self, union: Any, replies: Sequence[ReplyExample]) -> None:
        self.union = union
        x = self._x([r.text for r in replies])
        self.head = build_multiclass(REPLY_C).fit(x, [r.intent for r in replies])
        self.classes = [str(c) for c in self.head.classes_]
        combine = _reply_combiner(x, replies, self.classes)
        self.coef, self.bias = np.array(combine["coef"]), np.array(combine["intercept"])

    def _x(self, texts: Sequence[str]) -> Any:
        return self.union.transform([model_text(t) for t in texts]).tocsr()

    def read(self, texts: Sequence[str]) -> dict[str, list[str]]:
        scores = self.head.decision_function(self._x(texts))
        rules = [read_rules(t) for t in texts]
        inputs = np.hstack([scores, np.array([verdict_features(r, self.classes) for r in rules])])
        combined = (inputs @ self.coef.T + self.bias).argmax(axis=1)
        return {
            "rules": [r.intent for r in rules],
            "head": [self.classes[i] for i in scores.argmax(axis=1)],
            "combined": [self.classes[i] for i in combined],
        }


def accuracy(pred: list[str], gold: list[str]) -> float:
    return sum(p == g for p, g in zip(pred, gold, strict=True)) / len(gold)


def main() -> None:
    union, _ = fitted_union([e.text for e in training_examples()])
    replies = reply_examples()
    writers = sorted({r.writer for r in replies})
    print(f"{len(replies)} replies by {len(writers)} writers; REPLY_C={REPLY_C}")
    print("one writer left out (rules / head / combined):")
    for writer in writers:
        reader = Reader(union, [r for r in replies if r.writer != writer])
        held = [r for r in replies if r.writer == writer]
        gold = [r.intent for r in held]
        read = reader.read([r.text for r in held])
        print(
            f"  {writer:6} n={len(held):4}  "
            + "  ".join(f"{k} {accuracy(v, gold):.3f}" for k, v in read.items())
        )
    reader = Reader(union, replies)
    print("dev sets, fitted on every writer (rules / head / combined):")
    for name, (path, key, splits) in DEV_SETS.items():
        rows = dev_rows(path, key, splits)
        gold = [g for _, g in rows]
        read = reader.read([t for t, _ in rows])
        print(
            f"  {name:24} n={len(rows):4}  "
            + "  ".join(f"{k} {accuracy(v, gold):.3f}" for k, v in read.items())
        )


if __name__ == "__main__":
    main()
