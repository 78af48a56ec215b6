"""Street-name and free-text normalization shared by the gazetteer and the extractor.

The street types and the corner, between and "and" words come from the city pack's lexicon (language.json
over citypack_defaults); a call without one reads the product's defaults.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .lexicon import Lexicon, alternation, default_lexicon
from .phrasing import english_location_phrases

ORDINALS: dict[str, str] = {
    "first": "1st",
    "second": "2nd",
    "third": "3rd",
    "fourth": "4th",
    "fifth": "5th",
    "sixth": "6th",
    "seventh": "7th",
    "eighth": "8th",
    "ninth": "9th",
    "tenth": "10th",
    "eleventh": "11th",
    "twelfth": "12th",
}
DIRECTIONS: dict[str, str] = {
    "north": "n",
    "n": "n",
    "south": "s",
    "s": "s",
    "east": "e",
    "e": "e",
    "west": "w",
    "w": "w",
}
# Other word-level equivalences seen in street names.
WORD_EQUIV: dict[str, str] = {
    "mount": "mt",
    "mt": "mt",
    "saint": "st",
    "monsignor": "msgr",
    "msgr": "msgr",
    "msr": "msgr",
    "centre": "center",
    "cpl": "corporal",
    "cardinal": "cardinal",
    "jfk": "jfk",
    "obrien": "obrien",
}

_APOSTROPHES = "'\u2019\u2018`\u00b4"
# Ordinals first: "21st" is one token, never "2" and "1st".
_TOKEN_RE = re.compile(r"\d+(?:st|nd|rd|th)\b|\d+(?:\s*-\s*\d+)?[a-z]?(?![a-z0-9])|[a-z0-9]+|&|/|@|\+")


def fold(text: str) -> str:
    """Lower-case, strip accents and apostrophes, drop lone surrogates: the form every lookup uses."""
    text = text.encode("utf-8", "replace").decode("utf-8") if _has_surrogate(text) else text
    text = text.replace("\u00df", "ss").replace("\u1e9e", "ss")  # German sharp s has no decomposition
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.lower()
    for ch in _APOSTROPHES:
        text = text.replace(ch, "")
    return text


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def norm_token(tok: str, lex: Lexicon) -> str:
    """Canonical form of one lower-case token (types, ordinals, directions, Mount/Saint...)."""
    typ = lex.street_types.get(tok)
    if typ is not None:
        return typ
    if tok in ORDINALS:
        return ORDINALS[tok]
    if tok in DIRECTIONS:
        return DIRECTIONS[tok]
    return WORD_EQUIV.get(tok, tok)


def _compound_re(lex: Lexicon) -> re.Pattern[str] | None:
    """German street names carry their type glued on ("Goethestrasse", "Goethestr.", "Marienplatz"): the
    lexicon's compound_types split off after a stem of 3+ letters ("strasse" alone stays one word), so
    "Goethestr. 13" meets "Goethestrasse" and the type reads as in "Goethe St"."""
    return lex.compiled("compound", _build_compound_re)


def _build_compound_re(lex: Lexicon) -> re.Pattern[str] | None:
    types = lex.compound_types
    return re.compile(rf"\b([a-z]{{3,}}?)({alternation(types)})\b") if types else None


def split_compound_types(folded: str, lex: Lexicon | None = None) -> str:
    """ "goethestrasse 13" -> "goethe strasse 13" (folded text in, folded text out)."""
    pattern = _compound_re(lex or default_lexicon())
    return folded if pattern is None else pattern.sub(r"\1 \2", folded)


def name_tokens(name: str, lex: Lexicon | None = None) -> tuple[str, ...]:
    """Normalized token tuple of a street or place name ("Mt. Auburn Street" -> ("mt","auburn","st"))."""
    lex = lex or default_lexicon()
    text = split_compound_types(fold(name), lex)
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return tuple(norm_token(t, lex) for t in text.split())


def split_type(tokens: tuple[str, ...], lex: Lexicon | None = None) -> tuple[tuple[str, ...], str | None]:
    """Split a trailing street type off a token tuple: ("hampshire","st") -> (("hampshire",), "st")."""
    types = (lex or default_lexicon()).canonical_types
    toks = tokens
    # "Elm St N": a direction after the type belongs to the type part.
    if len(toks) >= 3 and toks[-1] in {"n", "s", "e", "w"} and toks[-2] in types:
        return toks[:-2], toks[-2]
    if len(toks) >= 2 and toks[-1] in types:
        return toks[:-1], toks[-1]
    return toks, None


@dataclass(frozen=True, slots=True)
class Token:
    """One token of free text: its normalized form and character span in the cleaned text."""

    text: str  # normalized (norm_token applied for words)
    raw: str  # folded surface form
    start: int
    end: int


_URL_RE = re.compile(r"https?://\S+|www\.\S+", re.I)
_MENTION_RE = re.compile(r"(?<![\w@])@\w+")
_HASHTAG_RE = re.compile(r"#([A-Za-z]\w*)")
_CAMEL_RE = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=\d)|(?<=\d)(?=[A-Za-z]{2,})")
MAX_TEXT = 4000
_HALF_RE = re.compile(r"(?<![0-9/])(\d+)\s*-?\s*(?:1/2|\u00bd)(?![0-9])")
_NUMSUFFIX_RE = re.compile(r"(?<![0-9])(\d+)\s*-\s*([a-z])(?![a-z])")
# "1143-1147Irving St", "10min": a number glued to a word of three letters or more is two tokens.
_GLUED_RE = re.compile(r"(?<=\d)(?=[a-z]{3,})")


def _hashtag_words(m: re.Match[str]) -> str:
    # "#CentralSq" -> "Central Sq"; "#massave" stays one word and is split later against street names.
    return " " + _CAMEL_RE.sub(" ", m.group(1)).replace("_", " ") + " "


def _between_re(lex: Lexicon) -> re.Pattern[str]:
    """The reading language's ways to write "between" ("b/w", "btwn"), as one word "between"."""
    return lex.compiled("between", _build_between_re)


def _build_between_re(lex: Lexicon) -> re.Pattern[str]:
    words = {w for w in lex.words("between_words") if w != "between"} or {"between"}
    return re.compile(rf"(?<![a-z0-9]){alternation(words)}(?![a-z0-9])")


def clean_text(text: str, lex: Lexicon | None = None) -> str:
    """Blank out URLs and @mentions, unfold hashtags, fold case/accents, normalize "b/w" and "16-B"."""
    lex = lex or default_lexicon()
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    text = _URL_RE.sub(" ", text)
    text = _MENTION_RE.sub(" ", text)
    # Other languages' corner and between phrases in English first (case kept, so the rewrite can be
    # shown as the resident wrote it).
    text = english_location_phrases(text, lex)
    text = _HASHTAG_RE.sub(_hashtag_words, text)
    text = split_compound_types(fold(text), lex)
    text = _HALF_RE.sub(r"\1h ", text)  # "6 1/2 Acacia St": a half number is house 6, suffix "h"
    text = _NUMSUFFIX_RE.sub(r"\1\2", text)  # "16-B" -> "16b"
    text = _GLUED_RE.sub(" ", text)
    return _between_re(lex).sub(" between ", text)


def tokenize(text: str, lex: Lexicon | None = None) -> list[Token]:
    """Tokens of already-cleaned text; numbers keep ranges ("12-14") and letter suffixes ("150a")."""
    lex = lex or default_lexicon()
    out: list[Token] = []
    for m in _TOKEN_RE.finditer(text):
        raw = m.group(0)
        if raw[0].isdigit():
            raw = re.sub(r"\s+", "", raw)
            norm = raw
        else:
            norm = norm_token(raw, lex)
        out.append(Token(norm, raw, m.start(), m.end()))
    return out
