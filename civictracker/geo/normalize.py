"""Street-name and free-text normalization shared by the gazetteer and the extractor."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).with_name("data")

# Street types: every spelling residents or data use -> one canonical token (data/street_types.json).
STREET_TYPES: dict[str, str] = {
    spelling: canonical
    for canonical, spellings in json.loads((DATA / "street_types.json").read_text(encoding="utf-8")).items()
    if not canonical.startswith("_")
    for spelling in spellings
}
# Tokens that make a name a street on their own ("X St"); "green"/"hill"/"connector" are real types in a
# few names but far too common as words to count as evidence that a word sequence is a street.
TYPE_EVIDENCE = frozenset(v for v in STREET_TYPES.values() if v not in {"green", "hill", "connector"})
# Long forms for printing a canonical type as a resident would say it.
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


def norm_token(tok: str) -> str:
    """Canonical form of one lower-case token (types, ordinals, directions, Mount/Saint...)."""
    if tok in STREET_TYPES:
        return STREET_TYPES[tok]
    if tok in ORDINALS:
        return ORDINALS[tok]
    if tok in DIRECTIONS:
        return DIRECTIONS[tok]
    return WORD_EQUIV.get(tok, tok)


# German street names carry their type glued on ("Goethestrasse", "Goethestr.", "Marienplatz", "Lindenweg"):
# split it off, so the type reads as in "Goethe St" and "Goethestr. 13" meets "Goethestrasse". A stem of 3+
# letters: "strasse" alone stays one word.
_COMPOUND_TYPE_RE = re.compile(r"\b([a-z]{3,}?)(strasse|str|platz|weg)\b")


def split_compound_types(folded: str) -> str:
    """ "goethestrasse 13" -> "goethe strasse 13" (folded text in, folded text out)."""
    return _COMPOUND_TYPE_RE.sub(r"\1 \2", folded)


def name_tokens(name: str) -> tuple[str, ...]:
    """Normalized token tuple of a street or place name ("Mt. Auburn Street" -> ("mt","auburn","st"))."""
    text = split_compound_types(fold(name))
    text = re.sub(r"[^a-z0-9]+", " ", text)
    return tuple(norm_token(t) for t in text.split())


def split_type(tokens: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """Split a trailing street type off a token tuple: ("hampshire","st") -> (("hampshire",), "st")."""
    toks = tokens
    # "Elm St N": a direction after the type belongs to the type part.
    if len(toks) >= 3 and toks[-1] in {"n", "s", "e", "w"} and toks[-2] in STREET_TYPES.values():
        return toks[:-2], toks[-2]
    if len(toks) >= 2 and toks[-1] in STREET_TYPES.values():
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
_BETWEEN_RE = re.compile(r"(?<![a-z0-9])(?:b/w|b-w|b\\w|btwn|btw|betw|betwn|btween|inbetween|bw)(?![a-z0-9])")
MAX_TEXT = 4000
_HALF_RE = re.compile(r"(?<![0-9/])(\d+)\s*-?\s*(?:1/2|\u00bd)(?![0-9])")
_NUMSUFFIX_RE = re.compile(r"(?<![0-9])(\d+)\s*-\s*([a-z])(?![a-z])")
# "1143-1147Irving St", "10min": a number glued to a word of three letters or more is two tokens.
_GLUED_RE = re.compile(r"(?<=\d)(?=[a-z]{3,})")


def _hashtag_words(m: re.Match[str]) -> str:
    # "#CentralSq" -> "Central Sq"; "#massave" stays one word and is split later against street names.
    return " " + _CAMEL_RE.sub(" ", m.group(1)).replace("_", " ") + " "


# The extractor reads English corner phrases; Spanish, Portuguese, Haitian Creole and German residents write
# "esquina de A y B", "na esquina da A com B", "kwen A ak B", "entre A y B", "Ecke A und B", "zwischen A und
# B": these become "corner of A and B" and "between A and B" first (case kept, so the rewrite can be shown
# as the resident wrote it).
_SUFFIX = r"(?:st|street|ave|avenue|rd|road|pl|place|dr|drive|pkwy|parkway|sq|square|way|ter|terrace|ct|ln)"
_CORNER_RE = re.compile(
    r"\b(?:(?:en )?la esquina (?:de|con|entre)|(?:na )?esquina (?:da|de|do|com|entre)|(?:nan |o )?kwen"
    r"|(?:en )?el cruce (?:de|entre)|(?:no )?cruzamento (?:da|de|do|entre)|(?:nan )?kafou"
    r"|(?:an der )?ecke|(?:an der )?kreuzung(?: von)?)\s+",
    re.IGNORECASE,
)
_BETWEEN_FOREIGN_RE = re.compile(r"\b(?:entre|zwischen)\s+(?=[^\W\d_])", re.IGNORECASE)
# Creole "ant A ak B": "ant" alone is an English word, so only with its "ak" partner.
_BETWEEN_HT_RE = re.compile(r"\bant\s+(?=[^,.;:!?\n]{2,40}?\s+ak\s+[^\W\d_])", re.IGNORECASE)
# Any written street type ("St", "Avenue", "Sq", "Pkwy"): the evidence that the words before it name a street.
_TYPE_WORD = (
    "(?:" + "|".join(sorted((k for k, v in STREET_TYPES.items() if v in TYPE_EVIDENCE), key=len)[::-1]) + ")"
)
_NAME_WORD = r"(?:[^\W\d_][\w'\u2019.-]*|\d{1,3}(?:st|nd|rd|th))"
# Words that start English or foreign phrases, never a street name ("St e of Inman", "St y de la casa").
_NOT_NAME = r"(?!(?:of|the|a|an|to|in|on|at|for|from|and|or|de|del|da|do|la|el|los|las|que)\b)"
_TYPED_STREET_AHEAD = rf"(?={_NOT_NAME}{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}?\s+{_TYPE_WORD}\b)"
# ...or a bare name closing the phrase ("esquina da Cambridge St com Prospect", "entre Windsor y Prospect").
_STREET_AHEAD = (
    rf"(?={_NOT_NAME}{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,2}}?(?:\s+{_TYPE_WORD}\b|\s*(?:[,.;:!?\n]|$)))"
)
# "y/e/ak/com/con" between two streets is "and" only in a foreign post and before another street name.
_JOIN_AFTER_SUFFIX_RE = re.compile(rf"\b({_SUFFIX})\.?\s+(?:y|e|ak|com|con)\s+{_STREET_AHEAD}", re.IGNORECASE)
_JOIN_IN_PAIR_RE = re.compile(
    r"((?:corner of|between) [^,.;:!?\n]{2,40}?)\s+(?:y|e|ak|com|con|und)\s+(?=[^\W\d_])", re.IGNORECASE
)
# German "Goethestrasse und Haydnstrasse": the type is glued to the name, so no word boundary before it.
_JOIN_DE_RE = re.compile(r"(?<=[^\W\d_])(stra(?:ss|\u00df)e|str\.?|platz|weg)\s+und\s+(?=[^\W\d_])", re.I)
# "no 205 Broadway St" (pt: at the), "en el 12 Inman St": the article before a house number reads as "No."
# there. "no 5 Church volunteers" is English: only before a typed street, and "no/na/nu/nan" only in a
# foreign post (the extractor reads "no 150 Hampshire St" as an address anyway; this is for the display).
_AT_NUMBER_RE = re.compile(
    rf"\b(?:en el|en la)\s+(?=\d{{1,5}}[a-zA-Z]?\s+{_TYPED_STREET_AHEAD})", re.IGNORECASE
)
_AT_NUMBER_FOREIGN_RE = re.compile(
    rf"\b(?:no|na|nu|nan)\s+(?=\d{{1,5}}[a-zA-Z]?\s+{_TYPED_STREET_AHEAD})", re.IGNORECASE
)
# Words only a Spanish, Portuguese or Haitian Creole post uses. Never one-letter words ("e" is east, "y"
# a typo) nor English homographs ("con artist", "example.com", "an ant").
_FOREIGN_HINT_RE = re.compile(
    r"\b(?:esquina|kwen|entre|cruce|cruzamento|kafou|ak|calle|rua|avenida|lari|perto|cerca|frente|una|uma|muy"
    r"|pou|sou|n[a\u00e3]o|est[a\u00e1]|tambi[e\u00e9]n|tamb[e\u00e9]m|en el|en la"
    r"|ecke|kreuzung|zwischen|und)\b",
    re.IGNORECASE,
)


def english_location_phrases(text: str) -> str:
    """Non-English corner/between phrases and "no 205 X" in the English form the extractor reads."""
    if not _FOREIGN_HINT_RE.search(text):
        return text  # the common case (English text) costs one search
    s = _AT_NUMBER_RE.sub("at ", text)
    s = _AT_NUMBER_FOREIGN_RE.sub("at ", s)
    s = _CORNER_RE.sub("corner of ", s)
    s = _BETWEEN_FOREIGN_RE.sub("between ", s)
    s = _BETWEEN_HT_RE.sub("between ", s)
    s = _JOIN_AFTER_SUFFIX_RE.sub(r"\1 and ", s)
    s = _JOIN_DE_RE.sub(r"\1 and ", s)
    return _JOIN_IN_PAIR_RE.sub(r"\1 and ", s)


def clean_text(text: str) -> str:
    """Blank out URLs and @mentions, unfold hashtags, fold case/accents, normalize "b/w" and "16-B"."""
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT]
    text = _URL_RE.sub(" ", text)
    text = _MENTION_RE.sub(" ", text)
    text = english_location_phrases(text)
    text = _HASHTAG_RE.sub(_hashtag_words, text)
    text = split_compound_types(fold(text))
    text = _HALF_RE.sub(r"\1h ", text)  # "6 1/2 Acacia St": a half number is house 6, suffix "h"
    text = _NUMSUFFIX_RE.sub(r"\1\2", text)  # "16-B" -> "16b"
    text = _GLUED_RE.sub(" ", text)
    return _BETWEEN_RE.sub(" between ", text)


def tokenize(text: str) -> list[Token]:
    """Tokens of already-cleaned text; numbers keep ranges ("12-14") and letter suffixes ("150a")."""
    out: list[Token] = []
    for m in _TOKEN_RE.finditer(text):
        raw = m.group(0)
        if raw[0].isdigit():
            raw = re.sub(r"\s+", "", raw)
            norm = raw
            if re.fullmatch(r"\d+(st|nd|rd|th)", raw):
                norm = raw
        else:
            norm = norm_token(raw)
        out.append(Token(norm, raw, m.start(), m.end()))
    return out
