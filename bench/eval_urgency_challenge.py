"""Print urgency figures on the urgency challenge set: urgent recall, precision and safety line, per split.

Usage: .venv/bin/python bench/eval_urgency_challenge.py [--errors] [--split tune|check|all] [--data FILE]

The set is bench/data/urgency_challenge.jsonl (see bench/data/README.md): posts to a city account written
in one hand outside the team's dev and training data, half immediate dangers to people and half posts
that come close (old "dangerous" potholes, a tree that might fall, a power cut, gas prices, a fire drill,
a fire yesterday, figures of speech). Posts are read as `triage --jsonl` reads them (triage_texts, as
mentions).

- recall: urgent posts judged an urgent request (the target is 1.0);
- precision: posts judged urgent requests that are urgent;
- safety line: urgent posts with a hazard kind whose first kind (the one whose safety line the first
  reply gives) is one the row accepts; "any line" counts those given any safety line at all.

--errors lists the tune split's mistakes only: tune on it, and read the check split's figures (never its
rows) once before a change and once at the end.

--data FILE scores another set of the same form with no `split` (all its rows, errors listed with
--errors), e.g. bench/data/urgency_tune15.jsonl, whose hazard names are the author's own: they are read
as the kinds of rules.HAZARD_KINDS below (dark signals and ice alone have no kind).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from civictracker.triage.classify import triage_texts  # noqa: E402

DATA = ROOT / "bench" / "data" / "urgency_challenge.jsonl"
# urgency_tune15.jsonl names hazards in its author's words (written before reading rules.py): the kinds
# whose safety line is right for each. A hole may be an open manhole or a road caving in (collapse).
_KINDS_OF = {
    "wires": ("electric",),
    "electrical": ("electric",),
    "hole": ("open_manhole", "collapse"),
    "open_hole": ("open_manhole", "collapse"),  # urgency_check16-19's name for it (was never matched)
    "water_main": ("water",),
    "tree_fall": ("tree", "electric"),
    "signal_out": (),
    "ice": (),
}


def _accepted_kinds(hazards: list[str] | None) -> list[str] | None:
    """The safety-line kinds a row accepts (None: it has none, like dark signals or ice alone)."""
    kinds = [k for h in hazards or () for k in _KINDS_OF.get(h, (h,))]
    return kinds or None


def load(path: Path = DATA) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(rows: list[dict]) -> tuple[dict[str, float], list[str]]:
    """Figures for one split, and one line per mistake."""
    results = triage_texts([(row["text"], "mention") for row in rows])
    rows = [{**row, "hazards": _accepted_kinds(row["hazards"])} for row in rows]
    tp = fp = fn = 0
    kinds = first_ok = any_line = 0
    errors: list[str] = []
    for row, result in zip(rows, results, strict=True):
        flagged = result.is_request and result.urgent
        if row["urgent"]:
            if not flagged:
                fn += 1
                errors.append(
                    f"MISS  {row['id']} want {row['hazards']}: {result.reasons[:4]} | {row['text']}"
                )
            else:
                tp += 1
            if row["hazards"]:
                kinds += 1
                any_line += flagged and bool(result.hazards)
                ok = flagged and bool(result.hazards) and result.hazards[0] in row["hazards"]
                first_ok += ok
                if flagged and not ok:
                    errors.append(
                        f"KIND  {row['id']} want {row['hazards']} got {result.hazards} | {row['text']}"
                    )
        elif flagged:
            fp += 1
            errors.append(f"FALSE {row['id']} {result.hazards} {result.reasons[-2:]} | {row['text']}")
    figures = {
        "posts": len(rows),
        "urgent": tp + fn,
        "recall": tp / (tp + fn) if tp + fn else 0.0,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "false_alarms": fp,
        "safety_first": first_ok / kinds if kinds else 0.0,
        "safety_any": any_line / kinds if kinds else 0.0,
    }
    return figures, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the tune split's mistakes")
    parser.add_argument("--split", choices=("tune", "check", "all"), default="tune")
    parser.add_argument("--data", type=Path, help="score this file (every row) instead of the challenge")
    args = parser.parse_args()
    if args.data:
        rows = [{**r, "split": "tune"} for r in load(args.data)]
        splits: tuple[str, ...] = ("tune",)
    else:
        rows = load()
        splits = ("tune", "check") if args.split == "all" else (args.split,)
    for split in splits:
        f, errors = evaluate([r for r in rows if r["split"] == split])
        print(
            f"[{split}] posts={f['posts']} urgent={f['urgent']}  recall={f['recall']:.3f} "
            f"precision={f['precision']:.3f} (false alarms {f['false_alarms']})  "
            f"safety line first={f['safety_first']:.3f} (any line {f['safety_any']:.3f})"
        )
        if args.errors and split == "tune":
            for line in errors:
                print("   ", line)


if __name__ == "__main__":
    main()
