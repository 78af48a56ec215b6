"""Precision and recall of the escalation signal (triage.risk.assess_risk) per level, on dev and test splits.

Usage: PYTHONPATH=. .venv/bin/python bench/eval_risk.py [--split dev|test|both|fresh|fresh2|fresh3|fresh4]
       [--errors]

Sets (bench/data/risk/): written_dev.tsv / written_test.tsv (written for civictracker, 4 languages);
boston_labels.tsv (hand-labelled real Boston 311 text; buckets 6-7 of sha1(id) % 10 are dev, 8-9 test,
0-5 are the training rows in triage/data/risk_boston.jsonl); crisislex_labels.tsv (560 hand-labelled real
CrisisLex T26 tweets; ids and labels only, the text is read from ../shared/data/crisislex at run time;
sha1(tweet_id) % 10 < 4 is dev, the rest test). How they were labelled: bench/data/risk/LABELLING.md.
The thresholds in risk.py were tuned on dev only. `--split fresh` reads the fresh test of batch 6
(fresh_crisislex.tsv, fresh_boston.tsv: 532 posts never labelled before, drawn by bench/sample_risk_fresh.py);
nothing trains or tunes on it (tests/unit/intake/test_risk_fresh_split.py checks that the training files hold
none of its ids). Batch 6 was read twice as a test in session 14 and is a development set since: `--errors`
prints its misread posts. `--split fresh2` reads the second fresh test of batch 8 (fresh2_crisislex.tsv,
fresh2_boston.tsv, drawn the same way with another seed), read twice as a test in session 14 and a
development set since session 15 (`--errors` prints its misread posts too); neither is ever trained on.
`--split fresh3` reads the third fresh test of batch 9 (fresh3_crisislex.tsv, fresh3_boston.tsv: 525 posts,
seed 1418): labelled before any model read it, read twice as a test in session 15 (main before and after
risk15's thresholds) and a development set since (`--errors` prints its misread posts, as for
batches 6 and 8); never trained on. `--split fresh4` reads the fourth fresh test of batch 10
(fresh4_crisislex.tsv, fresh4_boston.tsv: 525 posts, seed 1420), the clean test now: labelled before any
model read it, read twice in session 15 (main with risk15's pair, then with risk16's); never with --errors.
CIVICTRACKER_SHARED_DATA names the shared data folder when
it is not ../shared/data (a git worktree).
Target: high-risk recall >= 0.95 on test. "flag" counts any level above none as flagged.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.shared_data import SHARED_DATA as SHARED  # noqa: E402
from civictracker.triage.risk import LEVELS, assess_risk  # noqa: E402

DATA = ROOT / "bench" / "data" / "risk"


def _bucket(key: str) -> int:
    return int(hashlib.sha1(key.encode()).hexdigest(), 16) % 10


def _rows(path: Path) -> list[list[str]]:
    return [
        line.split("\t") for line in path.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"
    ]


def _boston_texts(wanted: set[str]) -> dict[str, str]:
    texts = {}
    for name in ("other", "unsafe_dangerous"):
        with gzip.open(SHARED / "boston_open311_text" / f"{name}.jsonl.gz", "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row["id"] in wanted:
                    texts[row["id"]] = row["description"]
    return texts


def _crisislex(labels: dict[str, str]) -> list[tuple[str, str]]:
    with open(SHARED / "crisislex" / "crisislex_t26.csv", encoding="utf-8") as fh:
        return [(r["text"], labels[r["tweet_id"]]) for r in csv.DictReader(fh) if r["tweet_id"] in labels]


def load_fresh(prefix: str = "fresh") -> dict[str, list[tuple[str, str]]]:
    """source -> [(text, label)] of a fresh split (batch 6, 8, 9, 10: "fresh", "fresh2" ... "fresh4"): real posts."""
    boston = {i: label for _f, i, label in _rows(DATA / f"{prefix}_boston.tsv")}
    texts = _boston_texts(set(boston))
    crisis = {tid: label for _e, tid, label in _rows(DATA / f"{prefix}_crisislex.tsv")}
    return {"boston": [(texts[i], label) for i, label in boston.items()], "crisislex": _crisislex(crisis)}


def load(split: str) -> dict[str, list[tuple[str, str]]]:
    """source -> [(text, label)] of one split."""
    if split in ("fresh", "fresh2", "fresh3", "fresh4"):
        return load_fresh(split)
    sets: dict[str, list[tuple[str, str]]] = {"written": []}
    sets["written"] = [(text, label) for label, _lang, text in _rows(DATA / f"written_{split}.tsv")]
    wanted = {"dev": (6, 7), "test": (8, 9)}[split]
    boston = {i: label for _f, i, label in _rows(DATA / "boston_labels.tsv") if _bucket(i) in wanted}
    texts = _boston_texts(set(boston))
    sets["boston"] = [(texts[i], label) for i, label in boston.items()]
    labels = {tid: label for _e, tid, label in _rows(DATA / "crisislex_labels.tsv")}
    sets["crisislex"] = _crisislex(
        {tid: label for tid, label in labels.items() if (_bucket(tid) < 4) == (split == "dev")}
    )
    return sets


def report(name: str, pairs: list[tuple[str, str]], errors: bool) -> None:
    predicted = [(assess_risk(text, lang="en").level, gold, text) for text, gold in pairs]
    print(f"  {name}: {len(pairs)} posts")
    for level in (*LEVELS[1:], "flag"):

        def hit(lv: str, target: str = level) -> bool:
            return lv != "none" if target == "flag" else lv == target

        tp = sum(hit(p) and hit(g) for p, g, _ in predicted)
        fp = sum(hit(p) and not hit(g) for p, g, _ in predicted)
        fn = sum(hit(g) and not hit(p) for p, g, _ in predicted)
        prec = tp / (tp + fp) if tp + fp else float("nan")
        rec = tp / (tp + fn) if tp + fn else float("nan")
        print(f"    {level:9s} precision {prec:.3f}  recall {rec:.3f}  (gold {tp + fn}, flagged {tp + fp})")
    if errors:
        for p, g, text in predicted:
            if p != g:
                print(f"      gold {g:9s} got {p:9s} | {' '.join(text.split())[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--split", choices=("dev", "test", "both", "fresh", "fresh2", "fresh3", "fresh4"), default="both"
    )
    parser.add_argument(
        "--errors", action="store_true", help="print the misread posts (dev, fresh, fresh2, fresh3)"
    )
    args = parser.parse_args()
    for split in ("dev", "test") if args.split == "both" else (args.split,):
        sets = load(split)
        print(f"{split}:")
        for name, pairs in sets.items():
            report(name, pairs, args.errors and split in ("dev", "fresh", "fresh2", "fresh3"))
        report("all", [p for pairs in sets.values() for p in pairs], False)


if __name__ == "__main__":
    main()
