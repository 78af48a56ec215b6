"""Other languages' corner, between and "and" phrases rewritten into the English the extractor reads."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .lexicon import Lexicon, alternation, default_lexicon, raw_pattern

# Any word of a name ("Goethe", "O'Brien", "21st").
_NAME_WORD = r"(?:[^\W\d_][\w'\u2019.-]*|\d{1,3}(?:st|nd|rd|th))"
_NEVER = re.compile(r"(?!)()")  # matches nothing (a word list left empty); one group, as \\1 needs


@dataclass(frozen=True)
class Rewrites:
    """The compiled rewrites of one lexicon, applied in order by english_location_phrases."""

    hint: re.Pattern[str]
    at_number: re.Pattern[str]
    corner: re.Pattern[str]
    between: re.Pattern[str]
    between_pairs: re.Pattern[str]
    near: re.Pattern[str]
    join_after_type: re.Pattern[str]
    join_compound: re.Pattern[str]
    join_in_pair: re.Pattern[str]


def _compile(source: str, words: set[str] | frozenset[str]) -> re.Pattern[str]:
    return re.compile(source, re.IGNORECASE) if words else _NEVER


def rewrites_of(lex: Lexicon) -> Rewrites:
    """The lexicon's rewrites, compiled once per lexicon and process."""
    return lex.compiled("rewrites", _build)


def _build(lex: Lexicon) -> Rewrites:
    foreign = lex.foreign
    spellings = {s for s, canon in lex.street_types.items() if canon in lex.type_evidence}
    type_word = alternation(spellings)
    # Words that start a phrase, never a street name ("St e of Inman", "St y de la casa").
    function_words = lex.words("function_words") | foreign["function_words"]
    not_name = rf"(?!{alternation(function_words)}\b)" if function_words else ""
    typed_ahead = rf"(?={not_name}{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}?\s+{type_word}\b)"
    # ...or a bare name closing the phrase ("esquina da Cambridge St com Prospect", "entre Elm y Oak").
    street_ahead = (
        rf"(?={not_name}{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}?(?:\s+{type_word}\b|\s*(?:[,.;:!?\n]|$)))"
    )
    ands, at_words = foreign["and_words"], foreign["at_number_words"]
    and_words = alternation(ands, raw=True)
    # A post's own words: its corner, near and between phrases, and the words only that language uses.
    # Never one-letter words ("e" is east, "y" a typo) unless a pack lists them as hints.
    hints = foreign["hint_words"] | foreign["corner_words"] | foreign["between_words"] | foreign["near_words"]
    pair_words = {a for a, _ in lex.between_pairs}
    pair_ands = {b for _, b in lex.between_pairs}
    compound = {raw_pattern(w) for w in lex.compound_types}
    glued = "(?:" + "|".join(sorted(compound, key=len, reverse=True)) + r")\.?" if compound else ""
    return Rewrites(
        hint=_compile(rf"\b{alternation(hints, raw=True)}\b", hints),
        # "en el 12 Inman St", "no 205 Broadway St" (pt: at the): the article before a house number.
        at_number=_compile(
            rf"\b{alternation(at_words, raw=True)}\s+(?=\d{{1,5}}[a-zA-Z]?\s+{typed_ahead})", at_words
        ),
        corner=_compile(rf"\b{alternation(foreign['corner_words'], raw=True)}\s+", foreign["corner_words"]),
        between=_compile(
            rf"\b{alternation(foreign['between_words'], raw=True)}\s+(?=[^\W\d_])", foreign["between_words"]
        ),
        # Creole "ant A ak B": "ant" alone is an English word, so only with its "ak" partner.
        between_pairs=_compile(
            rf"\b{alternation(pair_words, raw=True)}\s+(?=[^,.;:!?\n]{{2,40}}?\s+"
            rf"{alternation(pair_ands, raw=True)}\s+[^\W\d_])",
            pair_words,
        ),
        near=_compile(
            rf"\b{alternation(foreign['near_words'], raw=True)}\s+{typed_ahead}", foreign["near_words"]
        ),
        # "y/e/ak/com/con" after a street type is "and" only before another street name.
        join_after_type=_compile(rf"\b({type_word})\.?\s+{and_words}\s+{street_ahead}", ands),
        # German "Goethestrasse und Haydnstrasse": the type is glued to the name, no word boundary before it.
        join_compound=_compile(
            rf"(?<=[^\W\d_])({glued})\s+{and_words}\s+(?=[^\W\d_])", ands if glued else frozenset()
        ),
        join_in_pair=_compile(
            rf"((?:corner of|between) [^,.;:!?\n]{{2,40}}?)\s+{and_words}\s+(?=[^\W\d_])", ands
        ),
    )


def english_location_phrases(text: str, lex: Lexicon | None = None) -> str:
    """Non-English corner/between phrases and "no 205 X" in the English form the extractor reads."""
    rw = rewrites_of(lex or default_lexicon())
    if not rw.hint.search(text):
        return text  # the common case (English text) costs one search
    s = rw.at_number.sub("at ", text)
    s = rw.corner.sub("corner of ", s)
    s = rw.between.sub("between ", s)
    s = rw.between_pairs.sub("between ", s)
    s = rw.near.sub("near ", s)
    s = rw.join_after_type.sub(r"\1 and ", s)
    s = rw.join_compound.sub(r"\1 and ", s)
    return rw.join_in_pair.sub(r"\1 and ", s)
