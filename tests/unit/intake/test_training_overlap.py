"""No training post copies or nearly copies a post of any evaluation set (scripts/check_overlap.py)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "scripts"))

import check_overlap  # noqa: E402


def test_fold_ignores_case_accents_and_punctuation() -> None:
    assert check_overlap.fold("¡La calle está  INUNDADA!") == check_overlap.fold("la calle esta inundada")


def test_no_training_post_copies_an_evaluation_post(capsys) -> None:  # type: ignore[no-untyped-def]
    assert check_overlap.main([]) == 0, capsys.readouterr().out
