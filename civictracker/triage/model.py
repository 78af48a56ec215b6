"""The shipped triage model as plain arrays: one feature row per text, the heads' raw scores, and the words
that pushed a row toward a head (the reasons). Loaded once per process from the model file (store.py)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import numpy as np

from civictracker.triage.features import PartReader, RowBuilder, linear_scores
from civictracker.triage.reply_rules import RuleReading, verdict_features
from civictracker.triage.store import StoredModel, load_model, loaded_once

if TYPE_CHECKING:
    from collections.abc import Sequence

    from civictracker.triage.dataset import Example


class TriageModel:
    """The shipped model as plain arrays: TF-IDF features of one text, then one small dense dot for all heads.

    Built from a store.StoredModel: load_model() at run time, fit.fit_stored_model() when
    building the file or evaluating a refit.
    """

    def __init__(self, stored: StoredModel) -> None:
        self.stored = stored
        self._parts: list[PartReader] = []
        offset = 0
        for part in stored.parts:
            self._parts.append(PartReader(part, offset))
            offset += len(part.terms)
        self.n_features = offset
        self._rows = RowBuilder(self._parts)
        # The reasons quote word features only; the word part comes first, so they are columns [0, n).
        word = stored.parts[0]
        assert word.name == "word", "the word n-gram part must be the first part (top_words relies on it)"
        self.n_word_features = len(word.terms)
        self.word_names = word.terms
        self._word_tokens = re.compile(word.analyzer["token_pattern"]).findall
        # Heads read for some posts only (a reply's intent, an urgent post's danger) come after the triage
        # heads and are kept apart: a post's triage never pays for them.
        reply, hazard = stored.head("reply"), stored.head("hazard")
        assert hazard.column == reply.column + reply.n_columns
        self.reply_intents = [str(c) for c in reply.classes]
        self.hazard_kinds = [str(c) for c in hazard.classes]
        # Weights stay float32 as stored (n_features, n_columns): a product with a float64 feature row casts
        # the few rows it gathers, the same values as casting the whole matrix first, so the same scores to
        # the bit, without a 90 MB float64 copy at every process start (0.46 s -> 0.08 s here).
        # Each head group is a view of its columns, not a copy: a post's product gathers its few rows
        # anyway, and three copies of 44 MB cost ~0.05-0.1 s of every cold start here.
        every = np.asarray(stored.weights)
        bias = np.asarray(stored.bias, dtype=np.float64)
        self.weights = every[:, : reply.column]
        self.bias = bias[: reply.column]
        self.reply_weights = every[:, reply.column : hazard.column]
        self.reply_bias = bias[reply.column : hazard.column]
        self.hazard_weights = every[:, hazard.column :]
        self.hazard_bias = bias[hazard.column :]
        if not reply.combine:
            raise ValueError("the reply head has no combiner (rebuild the model)")
        self.reply_combine_coef = np.asarray(reply.combine["coef"], dtype=np.float64)
        self.reply_combine_bias = np.asarray(reply.combine["intercept"], dtype=np.float64)
        request, urgent = stored.head("request"), stored.head("urgent")
        category, kind = stored.head("category"), stored.head("kind")
        # The binary heads' column scores True: triage_text reads raw[0] and raw[1] as their logits.
        assert (request.column, urgent.column) == (0, 1)
        assert request.classes == [False, True] and urgent.classes == [False, True]
        self.categories = [str(c) for c in category.classes]
        self.category_index: dict[str, int] = {}  # as categories.index(): the first column of a class
        for i, c in enumerate(self.categories):
            self.category_index.setdefault(c, i)
        self.kinds = [str(c) for c in kind.classes]
        self._cat0 = category.column
        self._kind0 = kind.column
        assert self._kind0 == self._cat0 + len(self.categories) == 2 + len(self.categories)
        assert self.weights.shape[1] == self._kind0 + len(self.kinds) == reply.column
        assert self.reply_weights.shape[1] == len(self.reply_intents)
        assert self.hazard_weights.shape[1] == len(self.hazard_kinds)

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and TF-IDF values of one text, identical to the fitted FeatureUnion's row."""
        return self._rows.row(text)

    def scores(self, text: str) -> tuple[tuple[np.ndarray, np.ndarray], np.ndarray]:
        """The feature row (indices, values) of a text and the raw scores of every head."""
        idx, val = self._rows.row(text)
        return (idx, val), val @ self.weights[idx] + self.bias

    def known_word_share(self, mtext: str, row: tuple[np.ndarray, np.ndarray]) -> float:
        """Share of the distinct words of a post (model_text; digits, links and handles aside) that are
        words of the model's vocabulary, read off its feature row: low for a language it has no data for."""
        tokens = {t for t in self._word_tokens(mtext) if not t.isdigit()} - {"url", "user"}
        if not tokens:
            return 0.0
        idx = row[0]
        names = self.word_names
        known = sum(1 for j in idx[idx < self.n_word_features].tolist() if " " not in names[j])
        return known / len(tokens)

    def read_reply(self, mtext: str, rules: RuleReading) -> tuple[str, float, list[str]]:
        """A reply's intent from the reply head's scores and the rules' verdict (the head's combiner).

        Returns the intent, its probability, and the words that pushed the head toward it."""
        idx, val = row = self._rows.row(mtext)
        scores = val @ self.reply_weights[idx] + self.reply_bias
        inputs = np.concatenate([scores, verdict_features(rules, self.reply_intents)])
        probs = _softmax(self.reply_combine_coef @ inputs + self.reply_combine_bias)
        best = int(probs.argmax())
        words = _words_toward(self, row, self.reply_weights, best)
        return self.reply_intents[best], float(probs[best]), words

    def read_hazard(self, row: tuple[np.ndarray, np.ndarray]) -> tuple[str, float, list[str]]:
        """The likeliest danger of a post ("none" or a rules.HAZARD_KINDS kind), its probability, and the
        words that pushed the hazard head toward it."""
        idx, val = row
        probs = _softmax(val @ self.hazard_weights[idx] + self.hazard_bias)
        best = int(probs.argmax())
        return (
            self.hazard_kinds[best],
            float(probs[best]),
            _words_toward(self, row, self.hazard_weights, best),
        )

    def scores_many(self, texts: Sequence[str]) -> tuple[list[tuple[np.ndarray, np.ndarray]], np.ndarray]:
        """The feature row of each text and the raw scores, a row per text: as scores(), in fewer calls."""
        if not texts:
            return [], np.zeros((0, self.weights.shape[1]))
        rows = self._rows.rows(texts)
        return rows, linear_scores(rows, self.weights, self.bias)

    def top_words(self, row: tuple[np.ndarray, np.ndarray], column: int, n: int = 3) -> list[str]:
        """Word features that pushed this post most toward one head's column (for the reasons)."""
        return _words_toward(self, row, self.weights, column, n)


def _words_toward(
    model: TriageModel, row: tuple[np.ndarray, np.ndarray], weights: np.ndarray, column: int, n: int = 3
) -> list[str]:
    """Word features of a row that pushed it most toward one column of a weight matrix (the triage heads',
    or the reply or hazard head's): only the row's own weights are read, never a whole column."""
    idx, val = row
    mask = idx < model.n_word_features
    idx = idx[mask]
    if idx.size == 0:
        return []
    contrib = val[mask] * weights[idx, column]
    order = (-contrib).argsort()[:n]  # the method np.argsort() wraps: same sort, no wrapper
    return [str(model.word_names[idx[i]]) for i in order if contrib[i] > 0]


def fit_model(examples: Sequence[Example] | None = None) -> TriageModel:
    """A model fitted in this process (evaluation scripts refit per fold); get_model() never calls this."""
    from civictracker.triage.fit import fit_stored_model

    return TriageModel(fit_stored_model(examples))


@loaded_once
def get_model() -> TriageModel:
    """The process-wide model, loaded from the shipped file on first use (thread-safe; never trained here)."""
    return TriageModel(load_model())


def _softmax(z: np.ndarray) -> np.ndarray:
    # The ufunc reductions ndarray.max()/.sum() call, without their Python wrappers (same arithmetic).
    e = np.exp(z - np.maximum.reduce(z, axis=None))
    return e / np.add.reduce(e, axis=None)
