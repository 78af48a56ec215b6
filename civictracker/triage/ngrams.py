"""scikit-learn's text analyzers (word, char, char_wb n-grams) rebuilt from saved parameters, without sklearn.

Importing scikit-learn costs about 0.7 s (it pulls in scipy.stats), more than triaging 1,000 posts, so the
run-time model uses this copy of TfidfVectorizer.build_analyzer() for the parameters listed in
SUPPORTED_PARAMS. It produces the same n-grams as scikit-learn's (tests/unit/intake/test_triage_model_store.py
compares them on every training text); the build refuses parameters it does not reproduce.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from typing import Any

Analyzer = Callable[[str], list[str]]

# The TfidfVectorizer parameters a saved part carries; any other parameter must keep its default.
SUPPORTED_PARAMS = ("analyzer", "ngram_range", "lowercase", "strip_accents", "token_pattern", "stop_words")
ANALYZERS = ("word", "char", "char_wb")
_WHITE_SPACES = re.compile(r"\s\s+")  # as sklearn's _VectorizerMixin._white_spaces


def _strip_accents_unicode(s: str) -> str:
    if s.isascii():
        return s
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _strip_accents_ascii(s: str) -> str:
    return unicodedata.normalize("NFKD", s).encode("ASCII", "ignore").decode("ASCII")


_STRIP_ACCENTS: dict[Any, Callable[[str], str] | None] = {
    None: None,
    "unicode": _strip_accents_unicode,
    "ascii": _strip_accents_ascii,
}


def _word_ngrams(tokens: list[str], min_n: int, max_n: int) -> list[str]:
    if max_n == 1:
        return tokens
    out = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), min(max_n, len(tokens)) + 1):
        # zip of n shifted copies (the shortest ends it): the n-grams of joined slices, in order, in C
        out.extend(map(" ".join, zip(*(tokens[k:] for k in range(n)), strict=False)))
    return out


def _char_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    text = _WHITE_SPACES.sub(" ", text)
    out = list(text) if min_n == 1 else []
    for n in range(max(min_n, 2), min(max_n, len(text)) + 1):
        out.extend([text[i : i + n] for i in range(len(text) - n + 1)])
    return out


def _word_char_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """The char_wb n-grams of one whitespace-free word, padded with a space on each side."""
    w = f" {word} "
    size = len(w)
    out: list[str] = []
    for n in range(min_n, max_n + 1):
        if n >= size:  # a short word is one n-gram, counted once (as sklearn does)
            out.append(w)
            break
        out.extend([w[i : i + n] for i in range(size - n + 1)])
    return out


def _char_wb_ngrams(text: str, min_n: int, max_n: int) -> list[str]:
    out: list[str] = []
    for word in _WHITE_SPACES.sub(" ", text).split():
        out.extend(_word_char_ngrams(word, min_n, max_n))
    return out


def check_params(params: dict[str, Any]) -> None:
    """Raise ValueError if this module cannot reproduce sklearn's analyzer for these parameters."""
    unknown = set(params) - set(SUPPORTED_PARAMS)
    if unknown:
        raise ValueError(f"analyzer parameters not supported at run time: {sorted(unknown)}")
    if params.get("analyzer", "word") not in ANALYZERS:
        raise ValueError(f"analyzer must be one of {ANALYZERS} (a callable cannot be saved)")
    if params.get("strip_accents") not in _STRIP_ACCENTS:
        raise ValueError("strip_accents must be None, 'unicode' or 'ascii'")
    stop_words = params.get("stop_words")
    if stop_words is not None and not isinstance(stop_words, list):
        raise ValueError("stop_words must be saved as the resolved list of words")
    if params.get("analyzer", "word") == "word" and re.compile(params["token_pattern"]).groups > 1:
        raise ValueError("token_pattern may have at most one capturing group")


def _preprocessor(params: dict[str, Any]) -> Callable[[str], str]:
    lowercase = params.get("lowercase", True)
    strip = _STRIP_ACCENTS[params.get("strip_accents")]

    def preprocess(text: str) -> str:
        if lowercase:
            text = text.lower()
        return strip(text) if strip is not None else text

    return preprocess


def per_word_analyzer(params: dict[str, Any]) -> tuple[Callable[[str], list[str]], Analyzer] | None:
    """For char_wb: (text -> words, word -> n-grams) whose concatenation is build_analyzer(params).

    Every char_wb n-gram lies inside one word, so a caller can cache what a word yields (triage does).
    None for the other analyzers, whose n-grams span words.
    """
    check_params(params)
    if params.get("analyzer", "word") != "char_wb":
        return None
    preprocess = _preprocessor(params)
    min_n, max_n = params.get("ngram_range", (1, 1))

    def split(text: str) -> list[str]:
        return preprocess(text).split()  # split() on any whitespace run, as after _WHITE_SPACES

    return split, lambda word: _word_char_ngrams(word, min_n, max_n)


def build_analyzer(params: dict[str, Any]) -> Analyzer:
    """The function text -> n-grams that TfidfVectorizer(**params).build_analyzer() would return."""
    check_params(params)
    kind = params.get("analyzer", "word")
    min_n, max_n = params.get("ngram_range", (1, 1))
    preprocess = _preprocessor(params)

    if kind == "word":
        tokenize = re.compile(params["token_pattern"]).findall
        stop = frozenset(params.get("stop_words") or ())

        def analyze_words(text: str) -> list[str]:
            tokens = tokenize(preprocess(text))
            if stop:
                tokens = [t for t in tokens if t not in stop]
            return _word_ngrams(tokens, min_n, max_n)

        return analyze_words

    ngrams = _char_wb_ngrams if kind == "char_wb" else _char_ngrams

    def analyze_chars(text: str) -> list[str]:
        return ngrams(preprocess(text), min_n, max_n)

    return analyze_chars
