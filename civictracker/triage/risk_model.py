"""The anger/abuse/danger model read at run time: a pickle-free file (store.py's format) and its scores.

Built only by `make risk-model` (risk_fit.py, scikit-learn); a process loads triage/data/risk_model.npz on
first use and never trains. Three logistic heads share word 1-2 gram and char 3-5 gram TF-IDF features:
anger (angry or abusive), abuse (abusive), danger (high risk). A stale file (training inputs changed since
the build) still works but logs a warning naming the build command.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np

from civictracker.triage.features import PartReader, RowBuilder, linear_scores
from civictracker.triage.store import (
    DATA_DIR,
    TRIAGE_DIR,
    StoredModel,
    inputs_sha256,
    load_model,
    loaded_once,
)

log = logging.getLogger(__name__)

RISK_MODEL_PATH = DATA_DIR / "risk_model.npz"
RISK_BUILD_COMMAND = "make risk-model (or: python -m civictracker.triage.risk_fit --build)"
RISK_TRAINING_FILES = (
    "data/risk_posts.tsv",
    "data/risk_boston.jsonl",
    "data/risk_drm.jsonl",
    "data/tone_lexicon.tsv",
    "data/high_risk_cues.tsv",
    "risk_fit.py",
    "risk_rules.py",
    "tone.py",
)
HEADS = ("anger", "abuse", "danger")


def risk_training_inputs() -> dict[str, str]:
    """sha256 of each file the risk model is fitted from (line endings normalised)."""
    import hashlib

    return {
        name: hashlib.sha256((TRIAGE_DIR / name).read_bytes().replace(b"\r\n", b"\n")).hexdigest()
        for name in RISK_TRAINING_FILES
        if (TRIAGE_DIR / name).is_file()
    }


class RiskModel:
    """Scores of the three heads for one text, and the words that pushed a head up (for the reasons)."""

    def __init__(self, stored: StoredModel) -> None:
        self._parts: list[PartReader] = []
        offset = 0
        for part in stored.parts:
            self._parts.append(PartReader(part, offset))
            offset += len(part.terms)
        self._rows = RowBuilder(self._parts)
        assert [h.name for h in stored.heads] == list(HEADS), "risk model heads out of order"
        assert stored.parts[0].name == "word", "the word part must come first (top_words relies on it)"
        self.word_names = stored.parts[0].terms
        self.weights = np.ascontiguousarray(stored.weights, dtype=np.float64)
        self.bias = np.asarray(stored.bias, dtype=np.float64)

    def probabilities(self, text: str) -> tuple[dict[str, float], tuple[np.ndarray, np.ndarray]]:
        """P(head) for each head of a tone.risk_text()-form text, and its feature row."""
        idx, val = self._rows.row(text)
        raw = val @ self.weights[idx] + self.bias
        probs = 1.0 / (1.0 + np.exp(-raw))
        return {name: float(probs[i]) for i, name in enumerate(HEADS)}, (idx, val)

    def probabilities_many(
        self, texts: Sequence[str]
    ) -> list[tuple[dict[str, float], tuple[np.ndarray, np.ndarray]]]:
        """probabilities() of each text, the texts' rows built together (the same values, fewer calls)."""
        if len(texts) <= 1:  # one text (the web path): the same operations on a 1-D row, fewer of them
            return [self.probabilities(text) for text in texts]
        rows = self._rows.rows(texts)
        raw = linear_scores(rows, self.weights, self.bias)
        probs = (1.0 / (1.0 + np.exp(-raw))).tolist()
        return [(dict(zip(HEADS, p, strict=True)), row) for p, row in zip(probs, rows, strict=True)]

    def top_words(self, row: tuple[np.ndarray, np.ndarray], head: str, n: int = 3) -> list[str]:
        idx, val = row
        mask = idx < len(self.word_names)
        idx, val = idx[mask], val[mask]
        if idx.size == 0:
            return []
        contrib = val * self.weights[idx, HEADS.index(head)]
        order = (-contrib).argsort()[:n]  # the method np.argsort() wraps: same sort, no wrapper
        return [str(self.word_names[idx[i]]) for i in order if contrib[i] > 0]


@loaded_once
def get_risk_model() -> RiskModel:
    """The process-wide risk model, loaded from the shipped file on first use (never trained here)."""
    stored = load_model(RISK_MODEL_PATH, check_inputs=False)
    built = stored.header.get("training_inputs", {}).get("sha256")
    try:
        current = inputs_sha256(risk_training_inputs())
    except OSError:
        current = built
    if current != built:
        log.warning("risk model is stale; rebuild it with: %s", RISK_BUILD_COMMAND)
    return RiskModel(stored)
