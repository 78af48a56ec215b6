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
    """One analyzer per distinct parameters, remembering the n-grams of the texts it read last.

    The triage and risk models read each post with the same word analyzer, and the risk model's text is
    the same as the triage model's when the post has no tone marker: the second reading is then a lookup,
    also when a batch of posts is read by one model, then by the other. Callers only read the lists.
    """
    key = json.dumps(params, sort_keys=True)
    analyzer = _SHARED.get(key)
    if analyzer is None:
        analyzer = _SHARED[key] = _remembering_recent(build_analyzer(params))
    return analyzer


# Texts whose n-grams an analyzer keeps: at least a batch of posts (classify.TRIAGE_BATCH) read by both
# models, at most twice as many (a repeat of a post triaged a while ago is read again, as in traffic).
RECENT_TEXTS = 320


def _remembering_recent(analyze: Analyzer) -> Analyzer:
    recent: dict[str, list[str]] = {}
    older: dict[str, list[str]] = {}  # the generation before `recent`: bounded, yet never all forgotten

    def analyze_once(text: str) -> list[str]:
        nonlocal recent, older
        grams = recent.get(text)
        if grams is None:
            grams = older.get(text)
            if grams is None:
                grams = analyze(text)
            if len(recent) >= RECENT_TEXTS:
                older, recent = recent, {}
            recent[text] = grams
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
    """The TF-IDF rows of texts over all parts of a feature union, as the fitted union computes them.

    One count of every part's columns per text (parts own disjoint column ranges, in order); then each
    elementwise step (sublinear tf, idf, the division by the norm) done once over all the texts' values, and
    only the norm's sum of squares per text and part, as in the union. The same numpy operations on the same
    values as part by part and text by text, so every row is bit for bit the same, in far fewer calls.
    """

    def __init__(self, parts: Sequence[PartReader]) -> None:
        self.parts = list(parts)
        self.idf = np.concatenate([p.idf for p in self.parts]) if self.parts else np.zeros(0)
        self.offset = self.parts[0].offset if self.parts else 0
        # Column ranges [start, end) of runs of consecutive parts that weigh terms alike, and how they do.
        self._weighings = _runs_of_parts(self.parts)

    def row(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Column indices and TF-IDF values of one text (its parts in order, columns by first appearance)."""
        return self.rows((text,))[0]

    def rows(self, texts: Sequence[str]) -> list[tuple[np.ndarray, np.ndarray]]:
        """row() of each text; the rows are views of two arrays shared by the batch (callers only read)."""
        counted: list[dict[int, int]] = []
        segments: list[tuple[int, int, str | None]] = []  # (start, stop, norm) of each text's non-empty parts
        total = 0
        for text in texts:
            counts: dict[int, int] = {}
            for part in self.parts:
                before = len(counts)
                part.count_into(counts, text)
                if len(counts) > before:
                    segments.append((total + before, total + len(counts), part.tfidf["norm"]))
            counted.append(counts)
            total += len(counts)
        idx = np.fromiter(chain.from_iterable(counted), dtype=np.int64, count=total)
        val = np.fromiter(chain.from_iterable(map(dict.values, counted)), dtype=np.float64, count=total)
        if total:
            self._weigh_all(idx, val)
            _normalise_all(val, segments)
        out = []
        start = 0
        for counts in counted:
            stop = start + len(counts)
            out.append((idx[start:stop], val[start:stop]))
            start = stop
        return out

    def _weigh_all(self, idx: np.ndarray, val: np.ndarray) -> None:
        """Term counts -> tf-idf weights of every text at once, each column by its part's settings."""
        if len(self._weighings) == 1:
            _weigh(idx, val, self._weighings[0][2], self.idf, self.offset)
            return
        for start, end, tfidf in self._weighings:  # elementwise, so a masked copy gives the same values
            mask = (idx >= start) & (idx < end)
            some = val[mask]
            _weigh(idx[mask], some, tfidf, self.idf, self.offset)
            val[mask] = some


def linear_scores(
    rows: Sequence[tuple[np.ndarray, np.ndarray]], weights: np.ndarray, bias: np.ndarray
) -> np.ndarray:
    """Each sparse row times the heads' weight matrix, plus the bias: a row of raw scores per row."""
    # One product per row, as a single row's scores are made: its order of sums sets the last bit.
    return np.array([val @ weights[idx] for idx, val in rows]) + bias


def _runs_of_parts(parts: Sequence[PartReader]) -> list[tuple[int, int, dict]]:
    """(first column, end column, settings) of each run of consecutive parts that weigh terms alike."""
    runs: list[tuple[int, int, dict]] = []
    keys = ("binary", "sublinear_tf", "use_idf")
    for part in parts:
        end = part.offset + len(part.idf)
        if runs and all(runs[-1][2][k] == part.tfidf[k] for k in keys):
            runs[-1] = (runs[-1][0], end, runs[-1][2])
        else:
            runs.append((part.offset, end, part.tfidf))
    return runs


def _normalise_all(val: np.ndarray, segments: list[tuple[int, int, str | None]]) -> None:
    """Each (text, part) segment of `val` to unit length, in place: the sums per segment, one division."""
    if all(norm == "l2" for _start, _stop, norm in segments):
        # sqrt and division are correctly rounded: dividing all at once by each segment's norm is exact
        # the same as segment by segment; the sum of squares keeps its own call (its order sets its bits).
        dot = np.dot
        norms = [dot(v, v) for v in (val[a:b] for a, b, _n in segments)]
        sizes = [b - a for a, b, _n in segments]
        val /= np.repeat(np.sqrt(np.array(norms)), sizes)
        return
    for start, stop, norm in segments:
        _normalise(val[start:stop], norm)


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
