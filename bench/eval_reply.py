"""Reply-intent accuracy on the reply set (dev/test) and on intake_dev.jsonl's replies (dev/holdout).

Usage: .venv/bin/python bench/eval_reply.py [--errors]

--errors lists the mistakes of the two dev splits only: tests/data/reply_intent.jsonl's test split and
intake_dev.jsonl's holdout stay unseen while tuning.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from civictracker.triage.reply import REPLY_INTENTS, classify_reply  # noqa: E402

REPLY_SET = ROOT / "tests" / "data" / "reply_intent.jsonl"
INTAKE = ROOT / "tests" / "data" / "intake_dev.jsonl"


def _rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def sets() -> dict[str, list[tuple[str, str, str]]]:
    """Name -> (text, wanted intent, style) rows."""
    replies = _rows(REPLY_SET)
    intake = [r for r in _rows(INTAKE) if r["channel"] == "reply"]
    out: dict[str, list[tuple[str, str, str]]] = {}
    for split in ("dev", "test"):
        out[f"reply set {split}"] = [
            (r["text"], r["intent"], r["style"]) for r in replies if r["split"] == split
        ]
    for split in ("dev", "holdout"):
        out[f"intake {split}"] = [
            (r["text"], r["reply_intent"], "intake") for r in intake if r.get("split", "dev") == split
        ]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the dev splits' mistakes")
    args = parser.parse_args()
    for name, rows in sets().items():
        ok = Counter()
        n = Counter()
        errors = []
        t0 = time.process_time()
        for text, want, style in rows:
            got, why = classify_reply(text)
            for key in ("all", want, style):
                n[key] += 1
                ok[key] += got == want
            if got != want:
                errors.append(f"want {want} got {got} {why}: {text}")
        us = (time.process_time() - t0) / max(1, len(rows)) * 1e6
        parts = [f"{k}={ok[k] / n[k]:.3f} ({n[k]})" for k in REPLY_INTENTS if n[k]]
        styles = sorted(k for k in n if k not in REPLY_INTENTS and k not in ("all", "intake"))
        print(f"[{name}] accuracy={ok['all'] / n['all']:.3f} ({ok['all']}/{n['all']})  " + "  ".join(parts))
        if styles:
            print("    by style: " + "  ".join(f"{k}={ok[k] / n[k]:.2f} ({n[k]})" for k in styles))
        print(f"    {us:.0f} us/reply")
        if args.errors and name.endswith("dev"):
            for line in errors:
                print("    ", line)


if __name__ == "__main__":
    main()
