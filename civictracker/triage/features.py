"""TF-IDF features of one text from a stored model's parts, as the fitted scikit-learn union computes them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from civictracker.triage.ngrams import build_analyzer, per_word_analyzer
from civictracker.triage.store import Part


class PartReader:
    """One vectorizer part at run time: text -> the columns of its n-grams found in the vocabulary."""

    # Words whose char n-gram columns are remembered; about 300 bytes each. Residents reuse words, so
    # most of a post's words are already here and skip slicing out and looking up ~30 n-grams each.
    WORD_CACHE_SIZE = 20_000

    def __init__(self, part: Part, offset: int) -> None:
        self.name = part.name
        self.tfidf = part.tfidf
        self.idf = part.idf
        self.offset = offset  # of the part's first column in the union
        self._lookup = dict(zip(part.terms, range(offset, offset + len(part.terms)), strict=True)).get
        self._analyze = build_analyzer(part.analyzer)
        self._per_word = per_word_analyzer(part.analyzer)
        self._word_cache: dict[str, list[int]] = {}

    def _word_columns(self, word: str) -> list[int]:
        cached = self._word_cache.get(word)
        if cached is None:
            assert self._per_word is not None
            cached = [j for j in map(self._lookup, self._per_word[1](word)) if j is not None]
            if len(self._word_cache) >= self.WORD_CACHE_SIZE:
                self._word_cache.clear()  # crude but bounded; refills with the words in use
            self._word_cache[word] = cached
        return cached

    def columns(self, text: str) -> list[int]:
        """Global column of every in-vocabulary n-gram of the text, repeats included, in text order."""
        if self._per_word is None:
            return [j for j in map(self._lookup, self._analyze(text)) if j is not None]
        out: list[int] = []
        for word in self._per_word[0](text):
            out.extend(self._word_columns(word))
        return out


def tfidf_row(parts: Sequence[PartReader], text: str) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and TF-IDF values of one text, identical to the fitted FeatureUnion's row."""
    all_idx: list[np.ndarray] = []
    all_val: list[np.ndarray] = []
    for part in parts:
        # Counter keeps first-appearance order, so ties in top_words() break as they always have.
        counts = Counter(part.columns(text))
        if not counts:
            continue
        idx = np.fromiter(counts, dtype=np.int64, count=len(counts))
        tfidf = part.tfidf
        if tfidf["binary"]:
            val = np.ones(idx.size)
        else:
            val = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if tfidf["sublinear_tf"]:
            val = 1.0 + np.log(val)
        if tfidf["use_idf"]:
            val *= part.idf[idx - part.offset]
        if tfidf["norm"] == "l2":  # each part is normalised on its own, as in the union
            val /= np.sqrt(np.dot(val, val))
        elif tfidf["norm"] == "l1":
            val /= np.abs(val).sum()
        all_idx.append(idx)
        all_val.append(val)
    if not all_idx:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(all_idx), np.concatenate(all_val)
