"""TF-IDF features of one text from a stored model's parts, as the fitted scikit-learn union computes them."""

from __future__ import annotations

import json
from collections import _count_elements  # type: ignore[attr-defined]
from collections.abc import Callable, Sequence
from itertools import chain
from typing import Any

import numpy as np

from civictracker.triage.ngrams import Analyzer, build_analyzer, per_word_analyzer
from civictracker.triage.store import Part


class PartReader:
    """One vectorizer part at run time: text -> the columns of its n-grams found in the vocabulary."""

    def __init__(self, part: Part, offset: int) -> None:
        self.name = part.name
        self.tfidf = part.tfidf
        self.idf = part.idf
        self.offset = offset  # of the part's first column in the union
        self._lookup = dict(zip(part.terms, range(offset, offset + len(part.terms)), strict=True)).get
        self._analyze = shared_analyzer(part.analyzer)
        per_word = per_word_analyzer(part.analyzer)
        self._split = per_word[0] if per_word else None
        self._words = _WordColumns(self._columns_of_ngrams, per_word[1]) if per_word else None

    def _columns_of_ngrams(self, ngrams: list[str]) -> list[int]:
        return [j for j in map(self._lookup, ngrams) if j is not None]

    def count_into(self, counts: dict[int, int], text: str) -> None:
        """Add the text's in-vocabulary n-grams to `counts` (column -> count, in order of first appearance).

        Counted in C (collections' counting helper) over cached per-word columns: no per-n-gram Python.
        """
        if self._words is None or self._split is None:
            _count_elements(counts, map(self._lookup, self._analyze(text)))
            counts.pop(None, None)  # type: ignore[call-overload]  # out-of-vocabulary n-grams
        else:
            _count_elements(counts, chain.from_iterable(map(self._words.__getitem__, self._split(text))))


_SHARED: dict[str, Analyzer] = {}


def shared_analyzer(params: dict[str, Any]) -> Analyzer:
    """One analyzer per distinct parameters, remembering the n-grams of the last text it read.

    The triage and risk models read each post with the same word analyzer, and the risk model's text is
    the same as the triage model's when the post has no tone marker: the second reading is then a lookup.
    Callers only read the list it returns.
    """
    key = json.dumps(params, sort_keys=True)
    analyzer = _SHARED.get(key)
    if analyzer is None:
        analyzer = _SHARED[key] = _remembering_last(build_analyzer(params))
    return analyzer


def _remembering_last(analyze: Analyzer) -> Analyzer:
    last: tuple[str, list[str]] = ("", analyze(""))

    def analyze_once(text: str) -> list[str]:
        nonlocal last
        seen = last  # one read of the pair: another thread may replace it meanwhile
        if seen[0] == text:
            return seen[1]
        grams = analyze(text)
        last = (text, grams)
        return grams

    return analyze_once


class _WordColumns(dict[str, list[int]]):
    """word -> the columns of its char n-grams, filled on a miss and bounded (a dict lookup on a hit)."""

    # About 300 bytes a word. Residents reuse words, so most of a post's words are already here and skip
    # slicing out and looking up ~30 n-grams each.
    SIZE = 20_000

    def __init__(
        self, columns_of: Callable[[list[str]], list[int]], ngrams: Callable[[str], list[str]]
    ) -> None:
        super().__init__()
        self._columns_of = columns_of
        self._ngrams = ngrams

    def __missing__(self, word: str) -> list[int]:
        columns = self._columns_of(self._ngrams(word))
        if len(self) >= self.SIZE:
            self.clear()  # crude but bounded; refills with the words in use
        self[word] = columns
        return columns


class RowBuilder:
    """The TF-IDF row of one text over all parts of a feature union, as the fitted union computes it.

    One count of every part's columns (parts own disjoint column ranges, in order), and each elementwise
    step (sublinear tf, idf) done once over a run of parts that share their settings: the same numpy
    operations on the same values as part by part, so the row is bit for bit the same, in fewer calls.
    Only the norm is per part, as in the union.
    """

    def __init__(self, parts: Sequence[PartReader]) -> None:
        self.parts = list(parts)
        self.idf = np.concatenate([p.idf for p in self.parts]) if self.parts else np.zeros(0)
        self.offset = self.parts[0].offset if self.parts else 0

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and TF-IDF values of one text (its parts in order, columns by first appearance)."""
        counts: dict[int, int] = {}
        ends: list[int] = []  # where each non-empty part's columns end in the row
        settings: list[dict] = []
        for part in self.parts:
            before = len(counts)
            part.count_into(counts, text)
            if len(counts) > before:
                ends.append(len(counts))
                settings.append(part.tfidf)
        n = len(counts)
        if not n:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.fromiter(counts, dtype=np.int64, count=n)
        val = np.fromiter(counts.values(), dtype=np.float64, count=n)
        start = 0
        for stop, tfidf in _runs(ends, settings):
            _weigh(idx[start:stop], val[start:stop], tfidf, self.idf, self.offset)
            start = stop
        start = 0
        for stop, tfidf in zip(ends, settings, strict=True):
            _normalise(val[start:stop], tfidf["norm"])
            start = stop
        return idx, val


def _runs(ends: list[int], settings: list[dict]) -> list[tuple[int, dict]]:
    """(end, settings) of each run of consecutive parts whose tf and idf settings are the same."""
    runs: list[tuple[int, dict]] = []
    for end, tfidf in zip(ends, settings, strict=True):
        key = {k: tfidf[k] for k in ("binary", "sublinear_tf", "use_idf")}
        if runs and {k: runs[-1][1][k] for k in key} == key:
            runs[-1] = (end, runs[-1][1])
        else:
            runs.append((end, tfidf))
    return runs


def _weigh(idx: np.ndarray, val: np.ndarray, tfidf: dict, idf: np.ndarray, offset: int) -> None:
    """Term counts -> tf-idf weights, in place."""
    if tfidf["binary"]:
        val[:] = 1.0
    if tfidf["sublinear_tf"]:
        np.log(val, out=val)
        val += 1.0  # 1 + log(tf): addition is exact either way round
    if tfidf["use_idf"]:
        val *= idf[idx - offset] if offset else idf[idx]


def _normalise(val: np.ndarray, norm: str | None) -> None:
    """One part's weights to unit length, in place (each part of the union on its own)."""
    if norm == "l2":
        val /= np.sqrt(np.dot(val, val))
    elif norm == "l1":
        val /= np.abs(val).sum()
