"""Write triage/data/risk_ordinary.jsonl: ordinary posts the risk model's danger head learns as not high risk.

Usage: PYTHONPATH=. .venv/bin/python scripts/build_risk_ordinary.py

Rows (danger head only; their anger was never read, so the anger and abuse heads do not train on them):
- real Boston 311 descriptions of the triage training file (triage/data/real_boston.jsonl, hand-labelled
  by the triage annotators) that they marked not urgent (no immediate danger to people), less every case
  labelled for the escalation signal (bench/data/risk/*.tsv: its dev, test and fresh splits and the rows
  risk_boston.jsonl already holds) and every text of the triage test split;
- the team's written social posts (triage/data/social_posts.jsonl) marked not urgent that name no weapon,
  no one harmed and no hazard (high_risk_reasons finds nothing): chatter, praise, questions, events in
  en/es/pt/ht, so a language or the social register alone does not read as danger. Posts that do name a
  harm (news of a disaster elsewhere, sympathy with a death toll) are left out: a casualty count while the
  event goes on is high risk in bench/data/risk/README.md.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from civictracker.triage.risk_rules import high_risk_reasons  # noqa: E402
from civictracker.triage.text import model_text  # noqa: E402

DATA = ROOT / "civictracker" / "triage" / "data"
RISK_SETS = ROOT / "bench" / "data" / "risk"
OUT = DATA / "risk_ordinary.jsonl"


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def _risk_labelled() -> set[str]:
    ids = set()
    for path in RISK_SETS.glob("*.tsv"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#") and len(line.split("\t")) == 3:
                ids.add(line.split("\t")[1])
    for line in (DATA / "risk_boston.jsonl").read_text(encoding="utf-8").splitlines():
        ids.add(json.loads(line)["id"])
    return ids


def main() -> None:
    skip = _risk_labelled()
    test_lines = (ROOT / "bench" / "data" / "real_boston_test.jsonl").read_text(encoding="utf-8").splitlines()
    test_texts = {_norm(json.loads(line)["text"]) for line in test_lines}
    rows, seen = [], set()
    for line in (DATA / "real_boston.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        bos_id = row["id"].removeprefix("bos-")
        key = _norm(row["text"])
        ordinary = row["source"] == "boston-hand" and not row["urgent"]
        if not ordinary or bos_id in skip or key in test_texts or key in seen:
            continue
        seen.add(key)
        rows.append({"id": row["id"], "text": row["text"], "label": "none", "source": "boston-ordinary"})
    for line in (DATA / "social_posts.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        key = _norm(row["text"])
        if row["urgent"] or key in seen or high_risk_reasons(model_text(row["text"])):
            continue
        seen.add(key)
        rows.append({"id": row["id"], "text": row["text"], "label": "none", "source": "social-ordinary"})
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {OUT}: {len(rows)} rows")


if __name__ == "__main__":
    main()
