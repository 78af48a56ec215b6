"""Dump every triage answer on a fixed set of texts, so a speed change can be diffed against main's answers.

Usage: PYTHONPATH=. .venv/bin/python bench/check_triage_same.py OUT.jsonl [--cli | --raw] [--batch] [--shared N]

Texts: the dev and held-out sets in tests/data, the real test split and storm days in bench/data, the
written risk sets, bad input, and the first N real Boston descriptions and CrisisLex tweets from the shared
data folder (CIVICTRACKER_SHARED_DATA, default ../shared/data). Without --cli each line is the whole
TriageResult (risk score, reasons, hazards, kind, reads_as; floats as repr); with --cli it is what
`flask civictracker triage --jsonl` prints (location and reply intent too); with --raw, the triage and
risk models' raw scores as exact hex floats. With --batch the posts are read together (triage_texts(),
the models' *_many() methods), which must answer exactly as post by post. Run on two branches, then
`cmp` or `diff` the files: nothing here reads or prints an error rate.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import gzip
import hashlib
import json
import os
import subprocess
import sys
from itertools import islice
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = Path(os.environ.get("CIVICTRACKER_SHARED_DATA", ROOT.parent / "shared" / "data"))
JSONL_SETS = (
    "tests/data/intake_dev.jsonl",
    "tests/data/cambridge_ninth_hand.jsonl",
    "tests/data/emergency_eval.jsonl",
    "tests/data/lang_dev.jsonl",
    "tests/data/reply_intent.jsonl",
    "tests/data/geocode_dev.jsonl",
    "bench/data/real_boston_test.jsonl",
    "bench/data/storm_day.jsonl",
    "bench/data/storm_day_test.jsonl",
    "bench/data/realstyle_geocode_dev.jsonl",
    "bench/data/realstyle_geocode_test.jsonl",
)
BAD_INPUT = ("", "   ", "😀😀😀", "x" * 10_000, "https://t.co/abc", "@a @b @c", "RT @user: fire on main st",
             "fuego en la calle y the wires are down ap boule", "Привет, как дела на улице Кембридж", "ok")  # fmt: skip


def _channel(row: dict) -> str:
    value = row.get("channel") or row.get("kind") or "mention"
    return value if value in ("mention", "dm", "reply") else "mention"


def posts(shared_n: int) -> list[dict]:
    out = []
    for name in JSONL_SETS:
        for line in (ROOT / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                out.append({"id": f"{name}:{row.get('id')}", "text": row["text"], "channel": _channel(row)})
    for name in ("written_dev.tsv", "written_test.tsv"):
        for i, line in enumerate((ROOT / "bench/data/risk" / name).read_text(encoding="utf-8").splitlines()):
            if line and not line.startswith("#"):
                out.append({"id": f"{name}:{i}", "text": line.split("\t", 2)[2], "channel": "mention"})
    out += [{"id": f"bad:{i}", "text": t, "channel": "dm"} for i, t in enumerate(BAD_INPUT)]
    if shared_n:
        with gzip.open(SHARED / "boston_open311_text" / "other.jsonl.gz", "rt", encoding="utf-8") as fh:
            for line in islice(fh, 0, shared_n * 15, 15):  # spread over the file
                row = json.loads(line)
                out.append({"id": f"boston:{row['id']}", "text": row["description"], "channel": "mention"})
        with open(SHARED / "crisislex" / "crisislex_t26.csv", encoding="utf-8", newline="") as fh:
            for row in islice(csv.DictReader(fh), 0, shared_n * 9, 9):
                out.append({"id": f"crisislex:{row['tweet_id']}", "text": row["text"], "channel": "mention"})
    return out


def dump_triage(batch: list[dict], out: Path, together: bool = False) -> None:
    from civictracker.triage.classify import triage_text, triage_texts

    if together:
        results = triage_texts([(p["text"], p["channel"]) for p in batch])
    else:
        results = [triage_text(p["text"], channel_kind=p["channel"]) for p in batch]
    with out.open("w", encoding="utf-8") as fh:
        for p, result in zip(batch, results, strict=True):
            fh.write(json.dumps({"id": p["id"], **dataclasses.asdict(result)}, ensure_ascii=False) + "\n")


def dump_raw(batch: list[dict], out: Path, together: bool = False) -> None:
    """The two models' raw outputs, as exact hex floats: a speed change must leave every bit alone."""
    from civictracker.triage.classify import get_model
    from civictracker.triage.risk_model import get_risk_model
    from civictracker.triage.text import model_text
    from civictracker.triage.tone import risk_text

    model, risk = get_model(), get_risk_model()
    mtexts, rtexts = [model_text(p["text"]) for p in batch], [risk_text(p["text"]) for p in batch]
    if together:
        rows, raws = model.scores_many(mtexts)
        scored, risks = list(zip(rows, raws, strict=True)), risk.probabilities_many(rtexts)
    else:
        scored, risks = [model.scores(t) for t in mtexts], [risk.probabilities(t) for t in rtexts]
    with out.open("w", encoding="utf-8") as fh:
        for p, ((idx, val), raw), (probs, _row) in zip(batch, scored, risks, strict=True):
            digest = hashlib.sha1(idx.tobytes() + val.tobytes()).hexdigest()  # the whole row, every bit
            row = {"id": p["id"], "row": digest, "raw": [float(x).hex() for x in raw]}
            fh.write(json.dumps({**row, "risk": {k: v.hex() for k, v in probs.items()}}) + "\n")


def dump_cli(batch: list[dict], out: Path) -> None:
    stdin = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in batch).encode()
    flask = Path(sys.executable).with_name("flask")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [str(flask), "--app", "wsgi", "civictracker", "triage", "--jsonl"]
    done = subprocess.run(cmd, input=stdin, cwd=ROOT, env=env, capture_output=True, check=True)
    out.write_bytes(done.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--cli", action="store_true", help="dump the CLI's answers instead of triage_text's")
    ap.add_argument("--raw", action="store_true", help="dump the models' raw scores (exact) instead")
    ap.add_argument("--batch", action="store_true", help="triage all posts in one triage_texts() call")
    ap.add_argument("--shared", type=int, default=3000, help="texts from each shared set (0: none)")
    args = ap.parse_args()
    batch = posts(args.shared)
    if args.cli:
        dump_cli(batch, args.out)
    else:
        (dump_raw if args.raw else dump_triage)(batch, args.out, args.batch)
    print(f"{len(batch)} posts -> {args.out}")


if __name__ == "__main__":
    main()
