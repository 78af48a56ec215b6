"""Print emergency triage figures: recall and precision of "urgent request" on emergencies, per split.

Usage: .venv/bin/python bench/eval_emergency.py [--errors] [--split dev|test|all]

The set is tests/data/emergency_eval.jsonl (see tests/data/emergency_eval.md): real Boston Open311
"Unsafe Dangerous Conditions" rows picked by reading them (emergencies, and alarming rows that are not),
plus posts written for this project in English, Spanish, Portuguese and Haitian Creole. A row is an
emergency when a dispatcher must treat it at once (gas, live wires, fire or smoke, carbon monoxide,
someone trapped, collapse, an open manhole, water into homes, a tree on a house, car or wires).

- recall: emergencies judged an urgent request (the target is 1.0);
- precision: urgent requests that are emergencies (the negatives are "gas station", "fire hydrant",
  "fireworks", a smoke detector test, news of a fire elsewhere, slang...);
- hazard: emergencies whose expected hazard kind is in TriageResult.hazards (it picks the safety line);
- category: emergencies filed under one of the services the row accepts.

--errors lists the dev split's mistakes only: tune on dev, and read the test split's figures once.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from civictracker.triage.classify import triage_text  # noqa: E402

DATA = ROOT / "tests" / "data" / "emergency_eval.jsonl"


def load(path: Path = DATA) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(rows: list[dict]) -> tuple[dict[str, float], list[str]]:
    """Figures for one split, and one line per mistake."""
    tp = fp = fn = 0
    hazard_ok = category_ok = 0
    by_lang: Counter[str] = Counter()
    found_by_lang: Counter[str] = Counter()
    errors: list[str] = []
    for row in rows:
        result = triage_text(row["text"])
        flagged = result.is_request and result.urgent
        short = row["text"][:140]
        if row["emergency"]:
            by_lang[row["lang"]] += 1
            if not flagged:
                fn += 1
                errors.append(f"MISS  {row['id']} want {row['hazard']}: {result.reasons[:3]} | {short}")
                continue
            tp += 1
            found_by_lang[row["lang"]] += 1
            if row["hazard"] in result.hazards:
                hazard_ok += 1
            else:
                errors.append(f"KIND  {row['id']} want {row['hazard']} got {result.hazards} | {short}")
            if result.service_code in row["services"]:
                category_ok += 1
            else:
                errors.append(f"CAT   {row['id']} want {row['services']} got {result.service_code} | {short}")
        elif flagged:
            fp += 1
            errors.append(f"FALSE {row['id']} {result.service_code} {result.reasons[-2:]} | {short}")
    positives = tp + fn
    figures = {
        "posts": len(rows),
        "emergencies": positives,
        "recall": tp / positives if positives else 0.0,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "false_alarms": fp,
        "hazard_kind": hazard_ok / tp if tp else 0.0,
        "category": category_ok / tp if tp else 0.0,
    }
    for lang in sorted(by_lang):
        figures[f"recall_{lang}"] = found_by_lang[lang] / by_lang[lang]
    return figures, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the dev split's mistakes")
    parser.add_argument("--split", choices=("dev", "test", "all"), default="all")
    args = parser.parse_args()
    rows = load()
    splits = ("dev", "test") if args.split == "all" else (args.split,)
    for split in splits:
        part = [r for r in rows if r["split"] == split]
        f, errors = evaluate(part)
        langs = " ".join(f"{k[7:]}={v:.2f}" for k, v in f.items() if k.startswith("recall_"))
        print(
            f"[{split}] posts={f['posts']} emergencies={f['emergencies']}  recall={f['recall']:.3f} "
            f"precision={f['precision']:.3f} (false alarms {f['false_alarms']})  "
            f"hazard kind={f['hazard_kind']:.3f}  category={f['category']:.3f}  recall by language: {langs}"
        )
        if args.errors and split == "dev":
            for line in errors:
                print("   ", line)


if __name__ == "__main__":
    main()
