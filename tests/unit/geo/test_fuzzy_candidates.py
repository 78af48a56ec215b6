"""The fuzzy word search looks only at near-length words with near letter counts: it must find exactly
what a search of the whole vocabulary finds, ties in the same order."""

from __future__ import annotations

import random

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from civictracker.geo import Gazetteer
from civictracker.geo.mentions import _fuzzy_candidates, _fuzzy_vocab


def _misspellings(word: str, rnd: random.Random) -> list[str]:
    out = []
    for _ in range(3):
        letters = list(word)
        i = rnd.randrange(len(letters))
        edit = rnd.random()
        if edit < 0.25:
            del letters[i]
        elif edit < 0.5:
            letters.insert(i, rnd.choice("aeioustrnl"))
        elif edit < 0.75:
            letters[i] = rnd.choice("aeioustrnl")
        elif i + 1 < len(letters):
            letters[i], letters[i + 1] = letters[i + 1], letters[i]
        out.append("".join(letters))
    return out


def test_near_words_are_those_the_whole_vocabulary_gives(gz: Gazetteer) -> None:
    vocab = _fuzzy_vocab(gz)
    rnd = random.Random(14)
    words = [w for v in rnd.sample(vocab, 300) for w in (v, *_misspellings(v, rnd))]
    words += ["hampshre", "massachussets", "cambrige", "potholes", "sidewalk", "élan"]
    checked = 0
    for word in words:
        if len(word) < 4:
            continue
        max_d = 1 if len(word) <= 6 else 2
        whole = process.extract(word, vocab, scorer=DamerauLevenshtein.distance, score_cutoff=max_d, limit=3)
        near = process.extract(
            word,
            _fuzzy_candidates(gz, word, max_d),
            scorer=DamerauLevenshtein.distance,
            score_cutoff=max_d,
            limit=3,
        )
        assert [h[:2] for h in near] == [h[:2] for h in whole], word
        checked += 1
    assert checked > 1000
