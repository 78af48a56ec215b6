"""Language of a short post (en, es, pt, ht, another language's code, or und) and opt-out detection.

The word lists live in data/lang_lexicon.tsv and data/opt_out.txt. The city has reply templates for
en/es/pt/ht (LANGS); other languages are listed only so that such a post is named (fr, de, zh...) and is
never answered in a wrong template language.

The word lists decide when they know most of a post's words. When they know less than half of them (a
language we do not list, or vocabulary the lists miss), py3langid, whose model ships inside the package,
gives a second opinion, restricted to the languages residents of the area write in; it may only move the
post to a language we do not list, never between en/es/pt/ht, where the lists are more accurate on short
posts. bench/eval_lang.py compares the choices (accuracy by source and microseconds per post).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from civictracker.triage.regex_cache import compile_pattern
from civictracker.triage.text import clean, fold, words

LANGS = ("en", "es", "pt", "ht")
DATA_DIR = Path(__file__).with_name("data")
LEXICON_PATH = DATA_DIR / "lang_lexicon.tsv"
OPT_OUT_PATH = DATA_DIR / "opt_out.txt"

# A post longer than this whose words are mostly unknown to every list is in some language we do not list.
_MIN_CHARS_FOR_COVERAGE = 40
_MIN_COVERAGE = 0.2
# The second opinion: asked when the lists know less than this share of three or more words, and taken
# when the library is at least this sure. Tuned on the dev split of tests/data/lang_dev.jsonl.
_SECOND_OPINION_BELOW = 0.5
_SECOND_OPINION_MIN_WORDS = 3
_SECOND_OPINION_MIN_PROB = 0.9
# Languages residents of the Boston area write in: the library chooses among these only, so that three
# English street names are not read as Nigerian Pidgin or Guadeloupean Creole (of its 97 languages).
AREA_LANGS = ("en", "es", "pt", "ht", "fr", "de", "it", "nl", "pl", "tl", "vi", "zh", "ar", "ru", "ko", "ja",
              "hi", "bn", "am", "el", "he", "tr", "sw", "ro", "ca", "ga", "uk", "fa", "ur")  # fmt: skip

# Characters that (almost) only one language writes; each occurrence adds 3 to it (at most three times).
_CHAR_HINTS: dict[str, re.Pattern[str]] = {
    "es": compile_pattern(r"[ñ¿¡]"),
    "pt": compile_pattern(r"[ãõç]|ção|ções"),
    "ht": compile_pattern(r"\b\w*[èò]\w*\b"),
    "fr": compile_pattern(r"[œùûîïë]"),
    "de": compile_pattern(r"[äöß]"),
    "pl": compile_pattern(r"[ąęłśźż]"),
    "vi": compile_pattern(r"[ơưăđạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]"),
}
# Writing systems that name the language well enough for the record (first match wins: kana before Han).
_SCRIPTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("ja", compile_pattern(r"[\u3040-\u30ff]")),
    ("ko", compile_pattern(r"[\uac00-\ud7af\u1100-\u11ff]")),
    ("zh", compile_pattern(r"[\u4e00-\u9fff]")),
    ("ar", compile_pattern(r"[\u0600-\u06ff\u0750-\u077f]")),
    ("he", compile_pattern(r"[\u0590-\u05ff]")),
    ("ru", compile_pattern(r"[\u0400-\u04ff]")),
    ("el", compile_pattern(r"[\u0370-\u03ff]")),
    ("hi", compile_pattern(r"[\u0900-\u097f]")),
    ("bn", compile_pattern(r"[\u0980-\u09ff]")),
    ("th", compile_pattern(r"[\u0e00-\u0e7f]")),
    ("am", compile_pattern(r"[\u1200-\u137f]")),
)
# Any of the above at all: most posts have none, and then no pattern of its list needs counting.
_ANY_HINT = compile_pattern("|".join(f"(?:{p.pattern})" for p in _CHAR_HINTS.values()))
_ANY_SCRIPT = compile_pattern("|".join(f"(?:{p.pattern})" for _lang, p in _SCRIPTS))
_LETTERS = compile_pattern(r"[^\W\d_]{2,}")
_LATIN_LETTER = compile_pattern(r"[a-zA-Z\u00c0-\u024f]")


@dataclass(frozen=True)
class LanguageGuess:
    """The language recorded for a post and why (a dispatcher sees the reason)."""

    lang: str
    reason: str
    known_share: float = 0.0  # share of the words that some list knows (low: a language we do not list)
    counted: int = 0  # words read (digits aside)

    @property
    def recorded(self) -> str:
        """The language triage records and answers in: one of LANGS, or 'und' for any other."""
        return self.lang if self.lang in LANGS else "und"


@lru_cache(maxsize=1)
def _lexicon() -> tuple[tuple[str, ...], dict[str, tuple[tuple[int, int], ...]]]:
    """Languages in the word list, and word -> ((language index, weight), ...): one lookup per token."""
    langs: list[str] = list(LANGS)
    entries: dict[str, list[tuple[int, int]]] = {}
    for line in LEXICON_PATH.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lang, weight, word = line.split("\t")
        if lang not in langs:
            langs.append(lang)
        entries.setdefault(word, []).append((langs.index(lang), int(weight)))
    return tuple(langs), {word: tuple(pairs) for word, pairs in entries.items()}


def _script_language(text: str) -> str | None:
    """The language of a post written mostly in a non-Latin script (Chinese, Arabic, Cyrillic...)."""
    if not _ANY_SCRIPT.search(text):
        return None
    latin = len(_LATIN_LETTER.findall(text))
    for lang, pattern in _SCRIPTS:
        n = len(pattern.findall(text))
        if n and n >= latin / 4:  # a few Latin street names in a Chinese post keep it Chinese
            return lang
    return None


def _readable(text: object) -> str:
    """The cleaned text with URLs and handles removed: what a language can be read from."""
    return clean(text).replace("@USER", " ").replace("URL", " ")


def _score(body: str) -> tuple[dict[str, float], int, int]:
    """Score of each language (word weights plus character hints), known words, and words counted."""
    langs, lexicon = _lexicon()
    totals = [0.0] * len(langs)
    known = counted = 0
    for token in words(fold(body)):
        if token.isdigit():
            continue
        counted += 1
        pairs = lexicon.get(token)
        if pairs:
            known += 1
            for index, weight in pairs:
                totals[index] += weight
    scores = dict(zip(langs, totals, strict=True))
    lowered = "" if body.isascii() else body.lower()
    if _ANY_HINT.search(lowered):
        for lang, pattern in _CHAR_HINTS.items():
            hits = len(pattern.findall(lowered))
            if hits:
                scores[lang] = scores.get(lang, 0.0) + 3 * min(3, hits)
    return scores, known, counted


def language_scores(text: str) -> dict[str, float]:
    """Score of each listed language for the text (sum of word weights plus character hints)."""
    return _score(_readable(text))[0]


_model_cache: list[Path] = []  # where py3langid's model is cached uncompressed (use_model_cache)


def use_model_cache(cache_dir: Path) -> None:
    """Keep py3langid's model, cut to AREA_LANGS, in this folder: ~20 ms to load instead of ~0.6 s."""
    _model_cache[:] = [cache_dir]


def prepare_identifier() -> None:
    """Load py3langid's identifier now (building its cache file when use_model_cache named a folder)."""
    _library()


@lru_cache(maxsize=1)
def _library() -> Any:
    """py3langid's identifier over AREA_LANGS, loaded on first need, then shared (langid_cache.py)."""
    from civictracker.triage.langid_cache import load_identifier

    return load_identifier(list(AREA_LANGS), _model_cache[0] if _model_cache else None)


def _second_opinion(body: str, guess: LanguageGuess) -> LanguageGuess:
    """The library's language when it is sure and it is one we do not list; otherwise the lists' guess."""
    lang, prob = _library().classify(body)
    if lang in LANGS or prob < _SECOND_OPINION_MIN_PROB or (lang == "fr" and guess.lang == "ht"):
        return guess  # French and Haitian Creole share words: the lists tell them apart better
    why = f"{lang} by py3langid (p={prob:.2f}); the word lists know {guess.known_share:.0%} of the words"
    return LanguageGuess(lang, why, guess.known_share, guess.counted)


def identify_language(text: object, *, second_opinion: bool = True) -> LanguageGuess:
    """The post's language with the reason; 'und' when there is too little evidence (emoji, a URL, 'ok')."""
    body = _readable(text)
    guess = _from_word_lists(body)
    if (
        second_opinion
        and guess.known_share < _SECOND_OPINION_BELOW
        and guess.counted >= _SECOND_OPINION_MIN_WORDS
    ):
        return _second_opinion(body, guess)
    return guess


def _from_word_lists(body: str) -> LanguageGuess:
    """The lists' guess for cleaned text (no URLs or handles), before any second opinion."""
    if not _LETTERS.search(body):
        return LanguageGuess("und", "no words to read (empty, emoji, link or handle only)")
    if not body.isascii():
        script = _script_language(body)
        if script is not None:
            return LanguageGuess(script, f"written in the {script} script")
    scores, known, counted = _score(body)
    share = known / counted if counted else 0.0
    ranked = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)
    (best, best_score), (second, second_score) = ranked[0], ranked[1]
    if best_score == 0:
        why = "no word of any listed language"
    elif best_score == second_score:
        why = f"as much {best} as {second} ({best_score:g})"
    elif best_score < 2 and second_score > 0:
        why = f"too little evidence ({best} {best_score:g}, {second} {second_score:g})"
    elif len(body) > _MIN_CHARS_FOR_COVERAGE and share < _MIN_COVERAGE:
        why = f"few words in any listed language ({known}/{counted})"
    elif second_score > 0:
        return LanguageGuess(
            best, f"mostly {best} ({best_score:g} against {second} {second_score:g})", share, counted
        )
    else:
        return LanguageGuess(best, f"{best} words ({best_score:g})", share, counted)
    return LanguageGuess("und", why, share, counted)


def detect_language(text: object) -> str:
    """The language triage records and answers in: en/es/pt/ht, or 'und' for anything else.

    A language we have no templates or training data for is 'und' here, so that triage asks for more
    evidence before calling it a request and the reply goes out in the city's default language;
    identify_language names it (fr, zh...) with the reason, for a caller that records more.
    """
    return identify_language(text).recorded


# --- opt-out -------------------------------------------------------------------------------------------

_FILLER = compile_pattern(r"\b(please|pls|plz|por favor|tanpri|now|ok|okay|thanks|obrigado|gracias|mesi)\b")


@lru_cache(maxsize=1)
def _opt_out_phrases() -> frozenset[str]:
    """Whole-message opt-outs ("stop", "unsubscribe", "para"), from data/opt_out.txt."""
    lines = OPT_OUT_PATH.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_opt_out(text: str) -> bool:
    """True when the whole post asks us to stop writing to the author ("STOP", "unsubscribe", "para")."""
    s = fold(clean(text)).replace("@user", " ")
    s = re.sub(r"[^\w\s'-]", " ", s)
    s = _FILLER.sub(" ", s)
    s = re.sub(r"\s+", " ", s).strip()
    if not s or len(s) > 40:
        return False
    phrases = _opt_out_phrases()
    return s in phrases or s.replace("-", " ") in phrases
