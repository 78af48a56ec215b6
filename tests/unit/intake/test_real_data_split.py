"""The real Boston split: training-only label batches never reach the fixed test split."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

import build_real_data as brd  # noqa: E402

TEST_SPLIT = ROOT / "bench" / "data" / "real_boston_test.jsonl"


def _case_hashing_into_test() -> str:
    return next(str(n) for n in range(10_000, 20_000) if brd.in_test(str(n)))


def _row(case_id: str) -> dict:
    return {"id": f"bos-{case_id}", "text": "Pothole on Main St", "service_code": "pothole"}


def test_hash_split_alone_sends_a_test_case_to_test() -> None:
    case = _case_hashing_into_test()
    train, test = brd.split_hand_rows([_row(case)], frozenset())
    assert (train, [r["id"] for r in test]) == ([], [f"bos-{case}"])


def test_training_only_case_trains_whatever_its_hash() -> None:
    case = _case_hashing_into_test()
    train, test = brd.split_hand_rows([_row(case)], frozenset({case}))
    assert ([r["id"] for r in train], test) == ([f"bos-{case}"], [])


def test_batch_number_decides_training_only(tmp_path: Path) -> None:
    (tmp_path / "labels_12.tsv").write_text("111\tpothole\t0\n", encoding="utf-8")
    (tmp_path / f"labels_{brd.FIRST_TRAIN_ONLY_BATCH}.tsv").write_text("222\ttrash\t0\n", encoding="utf-8")
    assert brd.train_only_ids(tmp_path) == frozenset({"222"})


def test_shipped_training_only_batches_are_outside_the_test_split() -> None:
    test_ids = {json.loads(line)["id"][4:] for line in TEST_SPLIT.read_text(encoding="utf-8").splitlines()}
    train_only = brd.train_only_ids(brd.LABELS)
    assert len(train_only) >= 5000
    assert not train_only & test_ids
