"""Batched triage (triage_texts, the models' *_many methods) answers exactly as one post at a time."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

from civictracker.triage import classify
from civictracker.triage.classify import get_model, triage_text, triage_texts
from civictracker.triage.risk_model import get_risk_model
from civictracker.triage.text import model_text
from civictracker.triage.tone import risk_text

DEV = Path(__file__).resolve().parents[2] / "data" / "intake_dev.jsonl"
ODD = [
    "",
    "😀😀",
    "https://t.co/x",
    "RT @user: fire on main st",
    "x" * 3000,
    "Привет",
    "GAS SMELL at 5 Pearl St!!",
]


def _posts() -> list[tuple[str, str]]:
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    channels = ("mention", "dm", "reply")
    return [(r["text"], channels[i % 3]) for i, r in enumerate(rows[:120])] + [(t, "dm") for t in ODD]


def test_triage_texts_answers_as_triage_text(monkeypatch: pytest.MonkeyPatch) -> None:
    posts = _posts()
    one_by_one = [dataclasses.asdict(triage_text(t, channel_kind=c)) for t, c in posts]
    monkeypatch.setattr(classify, "TRIAGE_BATCH", 17)  # batches of several sizes, the last one short
    assert [dataclasses.asdict(r) for r in triage_texts(posts)] == one_by_one
    assert triage_texts([]) == []
    nothing = [("", "dm"), ("😀", "mention"), ("https://t.co/x", "reply")]  # a batch with no row to score
    assert [dataclasses.asdict(r) for r in triage_texts(nothing)] == [
        dataclasses.asdict(triage_text(t, channel_kind=c)) for t, c in nothing
    ]


def test_rows_and_scores_of_a_batch_are_bit_for_bit_those_of_each_text() -> None:
    texts = [model_text(t) for t, _ in _posts()]
    model = get_model()
    rows, raw = model.scores_many(texts)
    for text, (idx, val), scores in zip(texts, rows, raw, strict=True):
        (idx1, val1), raw1 = model.scores(text)
        assert idx.tobytes() == idx1.tobytes() and val.tobytes() == val1.tobytes(), text
        assert scores.tobytes() == raw1.tobytes(), text
    risk = get_risk_model()
    rtexts = [risk_text(t) for t, _ in _posts()]
    for text, (probs, (idx, val)) in zip(rtexts, risk.probabilities_many(rtexts), strict=True):
        probs1, (idx1, val1) = risk.probabilities(text)
        assert probs == probs1 and idx.tobytes() == idx1.tobytes() and val.tobytes() == val1.tobytes()


def test_an_empty_text_has_an_empty_row_in_a_batch() -> None:
    rows, raw = get_model().scores_many(["pothole", "", "streetlight out"])
    assert rows[1][0].size == 0 and np.array_equal(raw[1], get_model().bias)
    assert rows[0][0].size and rows[2][0].size
