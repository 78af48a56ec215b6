"""Draw the candidates of the fresh escalation tests (batches 6, 8-10): never-labelled CrisisLex and Boston posts.

Usage: PYTHONPATH=. .venv/bin/python bench/sample_risk_fresh.py > /tmp/fresh_candidates.tsv
       PYTHONPATH=. .venv/bin/python bench/sample_risk_fresh.py --seed 1416 --other-danger 180 \
           --exclude fresh_crisislex.tsv fresh_boston.tsv boston_batch7.tsv > /tmp/fresh2_candidates.tsv
       PYTHONPATH=. .venv/bin/python bench/sample_risk_fresh.py --seed 1418 --other-danger 180 --anger 35 \
           --anger-wide --exclude fresh_crisislex.tsv fresh_boston.tsv fresh2_crisislex.tsv fresh2_boston.tsv \
           boston_batch7.tsv > /tmp/fresh3_candidates.tsv
       PYTHONPATH=. .venv/bin/python bench/sample_risk_fresh.py --seed 1420 --other-danger 180 --anger 35 \
           --anger-wide --fill --exclude fresh_crisislex.tsv fresh_boston.tsv fresh2_crisislex.tsv fresh2_boston.tsv \
           fresh3_crisislex.tsv fresh3_boston.tsv boston_batch7.tsv > /tmp/fresh4_candidates.tsv

Prints source, folder or event, id and text (text only to read while labelling; the stored files keep ids and
labels). Excludes every id already in bench/data/risk/, every retweet, and every Boston id or text in the risk
or triage training files, so the fresh split shares nothing with what was trained or tuned before it.
Seed 1414 drew batch 6; seed 1416 with batch 6 and 7 excluded drew batch 8 (the second fresh test); seed 1418
with batches 6-8 excluded and the wider anger list drew batch 9 (the third); seed 1420 with batches 6-9
excluded and --fill (the anger pool is spent: its shortfall is drawn at random) drew batch 10 (the fourth).
How the draws were labelled: bench/data/risk/LABELLING.md, "Batch 6, fresh test" ... "Batch 10, fourth fresh test".
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.shared_data import SHARED_DATA as SHARED  # noqa: E402

RISK = ROOT / "bench" / "data" / "risk"
TRAIN = ROOT / "civictracker" / "triage" / "data"
SEED = 1414
EMERGENCY_TYPES = {"Affected individuals", "Caution and advice", "Infrastructure and utilities"}
ANGER = re.compile(
    r"\b(fuck\w*|shit\w*|damn|idiot\w*|stupid|disgrace\w*|pathetic|angry|furious|wtf|hate|"
    r"pinche|mierda|puta\w*|idiota\w*|porra|merda|caralho|vergonha|cazzo|vergogna)\b",
    re.I,
)
# After batch 8 no unlabelled non-retweet matches ANGER: --anger-wide adds these words so that batch 9 still has
# anger and abuse to measure. Off by default, so that earlier seeds draw what they drew.
ANGER_WIDE = re.compile(
    r"\b(bullshit|crap\w*|hell|ass|asshole\w*|bitch\w*|bastard\w*|moron\w*|dumb\w*|pissed|scum\w*|"
    r"ridiculous|disgust\w*|shame\w*|outrag\w*|useless|incompetent|greed\w*|liars?|corrupt\w*|"
    r"hypocrit\w*|sick of|screw\w*|"
    r"pendej\w*|cabr[oó]n\w*|est[uú]pid\w*|verg[uü]enza|maldit\w*|carajo|co[ñn]o|ladr[oó]n\w*|ladrones|"
    r"burr[oa]s?|absurd\w*|safad\w*|descaso|revolta\w*|raiva|nojo\w*|palha[cç]ada|"
    r"schifo|stronz\w*|incazz\w*|ladri|vergognoso)\b",
    re.I,
)
DANGER = re.compile(
    r"\b(fire|smoke|smoking|gas|wires?|sparks?|sparking|injur\w*|hurt|unconscious|passed out|collaps\w*|"
    r"falling|fell|flood\w*|shot|shoot\w*|gun\w*|stab\w*|fight\w*|bleed\w*|blood|ambulance|emergency|"
    r"danger\w*|hazard\w*|explo\w*|carbon monoxide|trapped|attack\w*|threat\w*|kill\w*|overdos\w*|weapon)\b",
    re.I,
)


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def _labelled_ids(extra: list[str]) -> set[str]:
    ids = set()
    for name in ("crisislex_labels.tsv", "boston_labels.tsv", *extra):
        for line in (RISK / name).read_text(encoding="utf-8").splitlines():
            if line and line[0] != "#":
                ids.add(line.split("\t")[1])
    return ids


def _trained() -> tuple[set[str], set[str]]:
    ids, texts = set(), set()
    for name in ("real_boston.jsonl", "risk_boston.jsonl"):
        for line in (TRAIN / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            ids.add(row["id"].removeprefix("bos-"))
            texts.add(_norm(row["text"]))
    return ids, texts


def _angry(text: str, wide: bool) -> bool:
    return bool(ANGER.search(text) or (wide and ANGER_WIDE.search(text)))


def crisislex(
    rng: random.Random, skip: set[str], anger_n: int = 40, wide: bool = False, fill: bool = False
) -> list[tuple[str, str, str, str]]:
    with open(SHARED / "crisislex" / "crisislex_t26.csv", encoding="utf-8") as fh:
        rows = [
            r
            for r in csv.DictReader(fh)
            if r["tweet_id"] not in skip and not re.match(r"\s*RT\b", r["text"]) and " RT @" not in r["text"]
        ]
    seen: set[str] = set()
    rows = [r for r in rows if not (_norm(r["text"]) in seen or seen.add(_norm(r["text"])))]
    rng.shuffle(rows)
    emergency = [r for r in rows if r["information_type"] in EMERGENCY_TYPES][:150]
    taken = {r["tweet_id"] for r in emergency}
    anger = [r for r in rows if r["tweet_id"] not in taken and _angry(r["text"], wide)][:anger_n]
    taken |= {r["tweet_id"] for r in anger}
    # --fill: once the anger pool is spent (batch 10), draw its shortfall at random so the batch keeps its size
    rand_n = 90 + (anger_n - len(anger) if fill else 0)
    rand = [r for r in rows if r["tweet_id"] not in taken][:rand_n]
    return [("crisislex", r["event"], r["tweet_id"], r["text"]) for r in emergency + anger + rand]


def boston(rng: random.Random, skip: set[str], other_danger: int) -> list[tuple[str, str, str, str]]:
    ids, texts = _trained()
    out = []
    for folder, danger_n, random_n in (("unsafe_dangerous", 10_000, 0), ("other", other_danger, 70)):
        with gzip.open(SHARED / "boston_open311_text" / f"{folder}.jsonl.gz", "rt", encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh]
        rows = [
            r
            for r in rows
            if r["id"] not in skip and r["id"] not in ids and _norm(r["description"]) not in texts
        ]
        seen: set[str] = set()
        rows = [r for r in rows if not (_norm(r["description"]) in seen or seen.add(_norm(r["description"])))]
        rng.shuffle(rows)
        danger = [r for r in rows if folder == "unsafe_dangerous" or DANGER.search(r["description"])][
            :danger_n
        ]
        taken = {r["id"] for r in danger}
        rand = [r for r in rows if r["id"] not in taken][:random_n]
        out += [("boston", folder, r["id"], r["description"]) for r in danger + rand]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--exclude", nargs="*", default=[], help="more id files of bench/data/risk/ to skip")
    parser.add_argument("--anger", type=int, default=40, help="CrisisLex posts matching an anger word")
    parser.add_argument("--anger-wide", action="store_true", help="match the wider anger word list too")
    parser.add_argument("--fill", action="store_true", help="draw the anger stratum's shortfall at random")
    parser.add_argument("--other-danger", type=int, default=110, help="'other' rows matching a danger word")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    skip = _labelled_ids(args.exclude)
    # CrisisLex first, then Boston: the one rng is consumed in this order, as for the earlier seeds
    cases = crisislex(rng, skip, args.anger, args.anger_wide, args.fill)
    drawn = cases + boston(rng, skip, args.other_danger)
    for source, group, ident, text in drawn:
        print(f"{source}\t{group}\t{ident}\t{' '.join(text.split())}")


if __name__ == "__main__":
    main()
