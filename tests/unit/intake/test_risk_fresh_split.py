"""The fresh escalation tests (batches 6, 8, 9, 10) share no post with any training, tuning or older evaluation file."""

from __future__ import annotations

import json
import re
from pathlib import Path

from civictracker.triage.store import TRIAGE_DIR

RISK_SETS = Path(__file__).resolve().parents[3] / "bench" / "data" / "risk"
FRESH_SPLITS = ("fresh", "fresh2", "fresh3", "fresh4")


def _ids(name: str) -> set[str]:
    lines = (RISK_SETS / name).read_text(encoding="utf-8").splitlines()
    return {line.split("\t")[1] for line in lines if line and not line.startswith("#")}


def test_fresh_split_is_labelled_and_disjoint_from_the_older_splits() -> None:
    boston, crisis = _ids("fresh_boston.tsv"), _ids("fresh_crisislex.tsv")
    assert len(boston) >= 200 and len(crisis) >= 250
    assert not boston & _ids("boston_labels.tsv")
    assert not crisis & _ids("crisislex_labels.tsv")


def test_second_fresh_split_is_labelled_and_disjoint_from_every_other_set() -> None:
    boston, crisis = _ids("fresh2_boston.tsv"), _ids("fresh2_crisislex.tsv")
    assert len(boston) >= 200 and len(crisis) >= 250
    labels = [
        line.split("\t")[2]
        for name in ("fresh2_boston.tsv", "fresh2_crisislex.tsv")
        for line in (RISK_SETS / name).read_text(encoding="utf-8").splitlines()
        if line[:1] != "#"
    ]
    assert labels.count("high_risk") >= 120
    others = set().union(*(_ids(p.name) for p in RISK_SETS.glob("*.tsv") if not p.name.startswith("fresh2_")))
    assert not (boston | crisis) & others


def test_third_fresh_split_is_labelled_and_disjoint_from_every_other_set() -> None:
    # ids and labels only: batch 9 is the clean test, no text of it is read here
    boston, crisis = _ids("fresh3_boston.tsv"), _ids("fresh3_crisislex.tsv")
    assert len(boston) >= 240 and len(crisis) >= 260
    labels = [
        line.split("\t")[2]
        for name in ("fresh3_boston.tsv", "fresh3_crisislex.tsv")
        for line in (RISK_SETS / name).read_text(encoding="utf-8").splitlines()
        if line[:1] != "#"
    ]
    assert set(labels) <= {"none", "angry", "abusive", "high_risk"}
    assert labels.count("high_risk") >= 100
    others = set().union(*(_ids(p.name) for p in RISK_SETS.glob("*.tsv") if not p.name.startswith("fresh3_")))
    assert not (boston | crisis) & others


def test_fourth_fresh_split_is_labelled_and_disjoint_from_every_other_set() -> None:
    # ids and labels only: batch 10 is the clean test, no text of it is read here
    boston, crisis = _ids("fresh4_boston.tsv"), _ids("fresh4_crisislex.tsv")
    assert len(boston) == 250 and len(crisis) == 275
    labels = [
        line.split("\t")[2]
        for name in ("fresh4_boston.tsv", "fresh4_crisislex.tsv")
        for line in (RISK_SETS / name).read_text(encoding="utf-8").splitlines()
        if line[:1] != "#"
    ]
    assert len(labels) == 525 and set(labels) <= {"none", "angry", "abusive", "high_risk"}
    assert labels.count("high_risk") >= 100
    others = set().union(*(_ids(p.name) for p in RISK_SETS.glob("*.tsv") if not p.name.startswith("fresh4_")))
    assert not (boston | crisis) & others


def test_no_training_file_holds_a_fresh_id() -> None:
    fresh = set().union(
        *(_ids(f"{prefix}_{source}.tsv") for prefix in FRESH_SPLITS for source in ("boston", "crisislex"))
    )
    data = TRIAGE_DIR / "data"
    files = [p for p in data.iterdir() if p.suffix in (".jsonl", ".tsv", ".txt", ".json")]
    assert any(p.name == "risk_boston.jsonl" for p in files) and any(
        p.name == "real_boston.jsonl" for p in files
    )
    for path in files:
        tokens = set(re.findall(r"[A-Z]?\d[\d-]{7,}", path.read_text(encoding="utf-8")))
        assert not tokens & fresh, f"{path.name} holds fresh test ids: {sorted(tokens & fresh)[:5]}"
    # the Boston training rows carry their ids (real_boston.jsonl as "bos-<id>")
    for name in ("risk_boston.jsonl", "real_boston.jsonl"):
        for line in (data / name).read_text(encoding="utf-8").splitlines():
            assert json.loads(line)["id"].removeprefix("bos-") not in fresh
