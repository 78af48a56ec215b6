"""A city's street words per language (street types, corner, between and "and" words) from its pack."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from civictracker.paths import PACKAGE_DIR

from .types import PackError, read_pack_json

T = TypeVar("T")
LANGUAGE_FILE = "language.json"
DEFAULT_FILE = PACKAGE_DIR / "citypack_defaults" / LANGUAGE_FILE
# The language whose words the extractor reads as written; every other language's words are rewritten
# into its forms ("esquina de A y B" -> "corner of A and B") before the extractor reads the text.
READING_LANGUAGE = "en"
# The English words the rewrites produce: the extractor always knows them, whatever a pack's "en" says.
CORE_WORDS = {"and_words": "and", "corner_words": "corner", "between_words": "between", "near_words": "near"}
_WORD_LISTS = (
    "weak_types",
    "compound_types",
    "and_words",
    "corner_words",
    "near_words",
    "between_words",
    "span_start_words",
    "span_end_words",
    "at_number_words",
    "function_words",
    "hint_words",
)
FIELDS = frozenset(_WORD_LISTS) | {"street_types", "between_pairs"}
# ISO 639-1: a language code a pack may use (a misspelt "sp" or "german" is an error, not a silent no-op).
_ISO639_1_CODES = """
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de
dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id
ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu
lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu
rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr
ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
"""
_ISO639_1 = frozenset(_ISO639_1_CODES.split())


def fold_word(text: str) -> str:
    """Lower case without accents ("Straße" -> "strasse"): how every word is compared."""
    text = text.replace("\u00df", "ss").replace("\u1e9e", "ss")
    text = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in text if not unicodedata.combining(ch)).lower()


def raw_pattern(word: str) -> str:
    """Regex source matching a word or phrase as a resident types it: any case (with re.I), with or
    without its accents, "ss" or "ß", any run of spaces between its words."""
    parts = []
    for ch in word.lower():
        if ch.isspace():
            parts.append(r"\s+")
            continue
        folded = fold_word(ch)
        parts.append(f"(?:{re.escape(ch)}|{re.escape(folded)})" if folded != ch else re.escape(ch))
    return "".join(parts).replace("ss", "(?:ss|\u00df)")


def alternation(words: set[str] | frozenset[str], raw: bool = False) -> str:
    """One regex alternation of words, longest first ("en la esquina de" before "esquina de")."""
    ordered = sorted(words, key=lambda w: (-len(w), w))
    return "(?:" + "|".join(raw_pattern(w) if raw else re.escape(w) for w in ordered) + ")"


@dataclass(frozen=True)
class Lexicon:
    """The merged words of a pack's languages: the reading language's word sets as the extractor uses them,
    the other languages' words as they are rewritten, and the street types of all of them."""

    languages: tuple[str, ...]
    street_types: Mapping[str, str]  # every spelling -> one canonical token ("strasse" -> "st")
    type_evidence: frozenset[str]  # canonical types that make words before them a street
    compound_types: frozenset[str]  # folded spellings glued onto a name ("goethestrasse")
    reading: Mapping[str, frozenset[str]]  # the reading language's word lists, with CORE_WORDS
    foreign: Mapping[str, frozenset[str]]  # every other language's word lists, merged (folded: no)
    between_pairs: tuple[tuple[str, str], ...]  # ("ant", "ak"): a between word only with its "and"
    source: str = ""  # the files it came from, for messages
    _compiled: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def canonical_types(self) -> frozenset[str]:
        return frozenset(self.street_types.values())

    def words(self, name: str) -> frozenset[str]:
        return self.reading.get(name, frozenset())

    def compiled(self, key: str, build: Callable[[Lexicon], T]) -> T:
        """What build(self) makes (a regex, a word set), made once per lexicon and process."""
        try:
            got: T = self._compiled[key]
        except KeyError:
            got = self._compiled[key] = build(self)
        return got

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_compiled"] = {}  # compiled patterns are rebuilt on first use in each process
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def _read(path: Path) -> dict[str, Any]:
    data = read_pack_json(path)
    if not isinstance(data, dict):
        raise PackError(f'{path} must hold a JSON object of languages ({{"de": {{...}}}})')
    return {k: v for k, v in data.items() if not k.startswith("_")}


def _word_list(path: Path, lang: str, name: str, value: object) -> list[str]:
    if not isinstance(value, list):
        raise PackError(f"{path}: {lang}.{name} must be a list of words, not {type(value).__name__}")
    out = []
    for i, word in enumerate(value):
        if not isinstance(word, str) or not word.strip():
            raise PackError(f"{path}: {lang}.{name}[{i}] must be a word, not {word!r}")
        out.append(" ".join(word.split()).lower())
    return out


def _check_language(path: Path, lang: str, words: object) -> dict[str, Any]:
    """One language's fields, checked for shape: PackError names the file and the field."""
    if lang not in _ISO639_1:
        raise PackError(f"{path}: {lang!r} is not a language code (ISO 639-1, two letters such as 'de')")
    if not isinstance(words, dict):
        raise PackError(f"{path}: {lang} must be an object of word lists")
    unknown = sorted(set(words) - FIELDS)
    if unknown:
        raise PackError(f"{path}: {lang}.{unknown[0]} is not a field (known: {', '.join(sorted(FIELDS))})")
    out: dict[str, Any] = {}
    for name in _WORD_LISTS:
        if name in words:
            out[name] = _word_list(path, lang, name, words[name])
    if "street_types" in words:
        types = words["street_types"]
        if not isinstance(types, dict):
            raise PackError(f"{path}: {lang}.street_types must map a canonical type to its spellings")
        out["street_types"] = {
            str(canon).lower(): _word_list(path, lang, f"street_types.{canon}", spellings)
            for canon, spellings in types.items()
        }
    if "between_pairs" in words:
        pairs = words["between_pairs"]
        if not isinstance(pairs, list) or not all(
            isinstance(p, list) and len(_word_list(path, lang, "between_pairs", p)) == 2 for p in pairs
        ):
            raise PackError(f"{path}: {lang}.between_pairs must be a list of [between word, and word] pairs")
        out["between_pairs"] = [tuple(_word_list(path, lang, "between_pairs", p)) for p in pairs]
    return out


def merged_languages(pack_dir: Path | None) -> tuple[dict[str, dict[str, Any]], str]:
    """The defaults' languages with the pack's language.json over them: a language's field the pack
    names replaces the default one, a language the pack adds is added."""
    merged = {lang: _check_language(DEFAULT_FILE, lang, w) for lang, w in _read(DEFAULT_FILE).items()}
    source = str(DEFAULT_FILE)
    path = Path(pack_dir) / LANGUAGE_FILE if pack_dir is not None else None
    if path is not None and path.is_file():
        for lang, words in _read(path).items():
            merged[lang] = {**merged.get(lang, {}), **_check_language(path, lang, words)}
        source = str(path)
    return merged, source


def build_lexicon(languages: Mapping[str, Mapping[str, Any]], source: str = "") -> Lexicon:
    """The lexicon of checked languages (merged_languages): spellings of one type must agree."""
    types: dict[str, str] = {}
    weak: set[str] = set()
    compound: set[str] = set()
    reading: dict[str, set[str]] = {name: set() for name in _WORD_LISTS}
    foreign: dict[str, set[str]] = {name: set() for name in _WORD_LISTS}
    pairs: list[tuple[str, str]] = []
    for lang, words in languages.items():
        for canon, spellings in words.get("street_types", {}).items():
            for spelling in [canon, *spellings]:
                key = fold_word(spelling).rstrip(".")
                if types.setdefault(key, canon) != canon:
                    raise PackError(
                        f"{source}: {lang}.street_types: {spelling!r} is both {types[key]!r} and {canon!r}"
                    )
        weak.update(words.get("weak_types", ()))
        compound.update(fold_word(w) for w in words.get("compound_types", ()))
        target = reading if lang == READING_LANGUAGE else foreign
        for name in _WORD_LISTS:
            target[name].update(words.get(name, ()))
        pairs.extend(words.get("between_pairs", ()))
    for name in sorted(compound - set(types)):
        raise PackError(f"{source}: compound_types {name!r} is no spelling in any language's street_types")
    for name, word in CORE_WORDS.items():
        reading[name].add(word)
    return Lexicon(
        languages=tuple(languages),
        street_types=types,
        type_evidence=frozenset(types.values()) - weak,
        compound_types=frozenset(compound),
        reading={k: frozenset(v) for k, v in reading.items()},
        foreign={k: frozenset(v) for k, v in foreign.items()},
        between_pairs=tuple(pairs),
        source=source,
    )


def load_lexicon(pack_dir: Path | None) -> Lexicon:
    """The lexicon of a pack folder (its language.json over the defaults); PackError for bad data."""
    languages, source = merged_languages(pack_dir)
    return build_lexicon(languages, source)


@lru_cache(maxsize=1)
def default_lexicon() -> Lexicon:
    """The product's default words (citypack_defaults/language.json), for a gazetteer built without a pack."""
    return load_lexicon(None)


def language_files(pack_dir: Path) -> list[Path]:
    """The files a pack's lexicon is read from (part of the gazetteer cache key)."""
    return [DEFAULT_FILE, Path(pack_dir) / LANGUAGE_FILE]
