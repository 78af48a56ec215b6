"""Street and place names in a post's tokens: exact, misspelt-and-corrected, or a common word in context."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from .gazetteer import Gazetteer
from .lexicon import default_lexicon
from .normalize import Token, fold
from .stopwords import COUNT_WORDS, FUZZY_STOPWORDS, MONTH_WORDS, QUANTITY_UNITS

# US states by name and postal code ("Cambridge, Massachusetts", "MA 02139"): only the pack's own state
# counts, so "Elm St 2 or 3" is not Oregon.
_US_STATE_CODES = (
    "alabama:al alaska:ak arizona:az arkansas:ar california:ca colorado:co connecticut:ct delaware:de "
    "florida:fl georgia:ga hawaii:hi idaho:id illinois:il indiana:in iowa:ia kansas:ks kentucky:ky "
    "louisiana:la maine:me maryland:md massachusetts:ma michigan:mi minnesota:mn mississippi:ms "
    "missouri:mo montana:mt nebraska:ne nevada:nv new_hampshire:nh new_jersey:nj new_mexico:nm "
    "new_york:ny north_carolina:nc north_dakota:nd ohio:oh oklahoma:ok oregon:or pennsylvania:pa "
    "rhode_island:ri south_carolina:sc south_dakota:sd tennessee:tn texas:tx utah:ut vermont:vt "
    "virginia:va washington:wa west_virginia:wv wisconsin:wi wyoming:wy"
)
US_STATES = {name.replace("_", " "): code for name, code in re.findall(r"(\w+):(\w+)", _US_STATE_CODES)}
# Words of a pack's name that are no part of the city's name ("City of Cambridge, Massachusetts").
CITY_NAME_FILLERS = frozenset({"city", "town", "of", "the", "county", "village", "borough", "township"})
DIRECTION_TOKENS = frozenset({"n", "s", "e", "w"})
# A place name corrected from a word shorter than this needs another word of the name typed exactly:
# four- and five-letter words sit one edit from too many names ("sofa" -> "SoMa").
PLACE_FUZZY_MIN = 6
# Words before a one-word place name that is also a common word ("at Central", "in Porter"): only there
# does it name the place ("to"/"from" Central name a trip, not where the problem is).
PLACE_CONTEXT_BEFORE = frozenset({"at", "in", "near", "by", "around", "outside", "@"})
# ...and words after it that make it an adjective instead ("central air"), or a region: the city's and
# its state's names ("central Cambridge") and the pack's geo.region_words, added per gazetteer.
PLACE_CONTEXT_NOT_AFTER = frozenset({"time", "air", "heat", "heating", "ac", "part"})
# Words before "B" in "A and B Streets", where a plural type names both streets.
PLURAL_JOINS = frozenset({"and", "&"})
_NUM_RE = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?([a-z])?$")
_ORD_RE = re.compile(r"^\d+(st|nd|rd|th)$")


@dataclass(slots=True)
class Mention:
    """A street or place name found at tokens [i, j)."""

    i: int
    j: int
    streets: tuple[str, ...]
    typed: bool
    fuzzy: bool
    weak: bool
    place: int | None = None
    exact: int = 0  # how many leading streets the words name exactly (name and typed type, or a full name)


def is_number(tok: Token) -> bool:
    return tok.text[0].isdigit() and not _ORD_RE.match(tok.text) and bool(_NUM_RE.match(tok.text))


def _fuzzy_vocab(gz: Gazetteer) -> list[str]:
    cache = gz.__dict__.get("_fuzzy_vocab")
    if cache is None:
        words = set(gz.vocab)
        for key in gz.place_index:
            words.update(t for t in key if t.isalpha())
        cache = sorted(w for w in words if len(w) >= 4)
        gz.__dict__["_fuzzy_vocab"] = cache
    return cache


def _letter_counts(words: list[str]) -> np.ndarray:
    """Each word's count of every letter a-z (other characters not counted), one row per word."""
    counts = np.zeros((len(words), 26), dtype=np.int16)
    for row, word in enumerate(words):
        for ch in word:
            col = ord(ch) - 97
            if 0 <= col < 26:
                counts[row, col] += 1
    return counts


def _fuzzy_candidates(gz: Gazetteer, word: str, max_d: int) -> list[str]:
    """The vocabulary words `word` can be within `max_d` edits of, in the vocabulary's own order (so ties
    come out as they would from all of it). Two tests that no such word fails: the lengths differ by at
    most max_d, and the letter counts by at most 2 * max_d in all (an insertion or deletion moves them by
    1, a substitution by 2, a transposition by 0); the edit distance itself is left to rapidfuzz."""
    by_size: dict[tuple[int, int], tuple[list[str], np.ndarray]] = gz.__dict__.setdefault(
        "_fuzzy_by_size", {}
    )
    key = (len(word), max_d)
    bucket = by_size.get(key)
    if bucket is None:
        words = [w for w in _fuzzy_vocab(gz) if abs(len(w) - len(word)) <= max_d]
        bucket = by_size[key] = (words, _letter_counts(words))
    words, counts = bucket
    if not words:
        return words
    near = np.abs(counts - _letter_counts([word])[0]).sum(axis=1) <= 2 * max_d
    return [words[i] for i in np.flatnonzero(near)]


def correct(gz: Gazetteer, word: str) -> str | None:
    """The city's own name token closest to a misspelt word, or None (restricted to the city's names)."""
    cache: dict[str, str | None] = gz.__dict__.setdefault("_fuzzy_cache", {})
    if word in cache:
        return cache[word]
    out: str | None = None
    if (
        len(word) >= 4
        and word.isalpha()
        and word not in FUZZY_STOPWORDS
        and word not in gz.lexicon.street_types
    ):
        max_d = 1 if len(word) <= 6 else 2
        hits = process.extract(
            word,
            _fuzzy_candidates(gz, word, max_d),
            scorer=DamerauLevenshtein.distance,
            score_cutoff=max_d,
            limit=3,
        )
        if hits:
            best_d = hits[0][1]
            best = [h[0] for h in hits if h[1] == best_d]
            # Same first letter keeps "hampshre"->"hampshire" but stops "rats"->"bates"; a tie is no answer.
            best = [b for b in best if b[0] == word[0] or (best_d == 1 and len(word) >= 6)]
            if len(best) == 1:
                out = best[0]
    if len(cache) > 50_000:
        cache.clear()
    cache[word] = out
    return out


def find_mentions(gz: Gazetteer, toks: list[Token]) -> list[Mention]:
    """Longest street/place names at each position, exact first, then with misspelt words corrected."""
    words = [t.text for t in toks]
    raws = [t.raw for t in toks]
    n = len(words)
    fixed: list[str | None] = [None] * n
    out: list[Mention] = []
    counted, counted_of = quantity_tokens(toks, gz.lexicon.type_evidence)
    i = 0
    while i < n:
        w = words[i]
        if (w[0].isdigit() and not _ORD_RE.match(w)) or w in {"&", "/", "@"} or i in counted:
            i += 1
            continue
        m = None
        if w in gz.name_first or w in gz.place_first:
            m = _match_at(gz, words, raws, i, n, fuzzy=False)
        if m is None and any(_fixed_word(gz, words, fixed, k) for k in range(i, min(n, i + 3))):
            alt = list(words)
            for k in range(i, min(n, i + gz.max_name_len)):
                alt[k] = _fixed_word(gz, words, fixed, k) or words[k]
            m = _match_at(gz, alt, raws, i, n, fuzzy=True, orig=words)
        if (m is None or (m.weak and m.j == i + 1 and m.place is None)) and w in gz.place_context:
            m = _context_place(gz, words, i, n, m) or m
        if m is not None and i in counted_of and (m.weak or not m.typed or m.place is not None):
            m = None  # "4 inches of water": the measured thing, unless written as a street ("of Water St")
        if m is not None:
            out.append(m)
            i = m.j
        else:
            i += 1
    return out


def _is_count(tok: Token) -> bool:
    return tok.text[0].isdigit() or tok.raw in COUNT_WORDS


def quantity_tokens(
    toks: list[Token], type_evidence: frozenset[str] | None = None
) -> tuple[set[int], set[int]]:
    """Tokens of counts, times and dates ("3rd day", "6 hours", "10 min", "March 3rd"): no street starts
    there and no house number is read there. Second set: the word after "<count> <unit> of" ("4 inches of
    water"), which names a street only when written with its type."""
    if type_evidence is None:
        type_evidence = default_lexicon().type_evidence
    counted: set[int] = set()
    counted_of: set[int] = set()
    n = len(toks)
    for i, tok in enumerate(toks):
        if not _is_count(tok):
            continue
        unit = i + 1
        # A unit followed by a street type is the street's name ("10 Day St", "2 Mile Rd").
        if (
            unit < n
            and toks[unit].raw in QUANTITY_UNITS
            and not (unit + 1 < n and toks[unit + 1].text in type_evidence)
        ):
            counted.update((i, unit))
            if unit + 2 < n and toks[unit + 1].text == "of":
                counted_of.add(unit + 2)
        elif tok.text[0].isdigit() and (
            (i > 0 and toks[i - 1].raw in MONTH_WORDS)
            or (unit + 1 < n and toks[unit].text == "of" and toks[unit + 1].raw in MONTH_WORDS)
        ):
            counted.add(i)  # a date: "March 3rd", "the 3rd of March"
    return counted, counted_of


def _context_place(gz: Gazetteer, words: list[str], i: int, n: int, street: Mention | None) -> Mention | None:
    """A one-word place name that is also a common word, read as the place only after "at"/"in"/"near"."""
    if i == 0 or words[i - 1] not in PLACE_CONTEXT_BEFORE:
        return None
    if i + 1 < n and words[i + 1] in _not_after_place(gz):
        return None
    streets = street.streets if street is not None else ()
    # The street reading stays (weak) so "Mass Ave at Central" can still be the corner of two streets.
    return Mention(i, i + 1, streets, typed=False, fuzzy=False, weak=True, place=gz.place_context[words[i]])


def _fixed_word(gz: Gazetteer, words: list[str], fixed: list[str | None], k: int) -> str | None:
    w = words[k]
    if len(w) < 4 or w in gz.vocab or not w.isalpha():
        return None
    if fixed[k] is None:
        fixed[k] = correct(gz, w) or ""
    return fixed[k] or None


def _match_at(
    gz: Gazetteer,
    words: list[str],
    raws: list[str],
    i: int,
    n: int,
    fuzzy: bool,
    orig: list[str] | None = None,
) -> Mention | None:
    place: Mention | None = None
    # Places (landmarks, POIs, neighbourhoods).
    pl = gz.place_first.get(words[i], 0)
    for ln in range(min(pl, n - i), 0, -1):
        idx = gz.place_index.get(tuple(words[i : i + ln]))
        if idx and (orig is None or _fuzzy_place_ok(words[i : i + ln], orig[i : i + ln])):
            place = Mention(i, i + ln, (), typed=True, fuzzy=fuzzy, weak=False, place=idx[0])
            break
    street = _street_at(gz, words, raws, i, n, fuzzy)
    if place is None:
        return street
    if street is None or place.j > street.j:
        return place
    if street.j > place.j:
        return street
    if street.fuzzy and not place.fuzzy and not (i > 0 and words[i - 1][0].isdigit()):
        # "Sullivan Square" names the square exactly, Sullivan Rd only with a type it lacks; after a house
        # number ("1 Peabody Ter") the words are the address's street.
        return place
    if gz.places[place.place or 0].kind in ("landmark", "area"):
        # Same words name a landmark and a street ("Fresh Pond", "Central Sq"): keep both readings; the
        # words around decide (an intersection pattern makes it the street).
        place.streets, place.typed, place.weak = street.streets, street.typed, street.weak
        return place
    return street


def _fuzzy_place_ok(fixed: list[str], orig: list[str]) -> bool:
    """A corrected place name counts when its corrected words are long, or another word is exact."""
    changed = [f for f, o in zip(fixed, orig, strict=True) if f != o]
    return len(changed) < len(fixed) or all(len(f) >= PLACE_FUZZY_MIN for f in changed)


def _street_at(
    gz: Gazetteer, words: list[str], raws: list[str], i: int, n: int, fuzzy: bool
) -> Mention | None:
    longest = gz.name_first.get(words[i], 0)
    for ln in range(min(longest, n - i), 0, -1):
        key = tuple(words[i : i + ln])
        full = gz.full_index.get(key)
        base = gz.base_index.get(key)
        if full is None and base is None:
            continue
        if ln == 1 and len(raws[i]) <= 2 and (full is None or key[0] in DIRECTION_TOKENS):
            continue  # a bare "w" or "n" is a direction or noise, never a street by itself
        type_ok = True
        if full is not None:
            streets = full.streets
            if base is not None:
                # "Gold Star Road" is Gold Star Rd, and also the base of Gold Star Road Ct/Pl.
                # A bridge named without "Bridge" is no extra reading of a full name ("Mass Ave").
                streets = streets + tuple(s for s in base.streets if s not in streets and s not in gz.bridges)
            exact = len(full.streets)
            typed = True
            end = i + ln
        else:
            assert base is not None
            streets = base.streets
            exact = 0
            typed = False
            end = i + ln
            nxt = words[end] if end < n else ""
            if i > 0 and words[i - 1] in PLURAL_JOINS and _plural_type(gz, nxt):
                # "between West Canton and May Streets": a plural type after "A and B" types the name
                # (only there: "Cambridge streets are icy" names no street).
                end += 1
                typed = True
            elif nxt in gz.lexicon.type_evidence:
                # A type the street does not have ("windsor ave" for Windsor St) still names it.
                end += 1
                # ...but a common word with a type its street lacks ("the new place") stays weak.
                typed = not (ln == 1 and key[0] in gz.weak_names)
                type_ok = False
            elif ln == 1 and key[0] in FUZZY_STOPWORDS and base.bridges == len(base.streets):
                continue  # "for weeks" is not Weeks Footbridge: a common word needs the word "bridge"
        evidence = gz.lexicon.type_evidence
        if key[-1] not in evidence and full is not None and not any(w in evidence for w in key):
            typed = len(key) > 1 or key[0] not in gz.weak_names  # "broadway" names itself; "main" does not
        weak = not typed and len(key) == 1 and key[0] in gz.weak_names
        m = Mention(i, end, streets, typed=typed, fuzzy=fuzzy or not type_ok, weak=weak, exact=exact)
        if fuzzy and not m.typed:
            m.weak = True  # a corrected word alone is too weak to be a street; it must come with a type
        return m
    return None


def _plural_type(gz: Gazetteer, word: str) -> bool:
    """ "streets", "sts", "avenues", "aves": a street type written in the plural (for two names at once)."""
    lex = gz.lexicon
    return len(word) > 2 and word[-1] == "s" and lex.street_types.get(word[:-1]) in lex.type_evidence


def postal_words(gz: Gazetteer) -> frozenset[tuple[str, ...]]:
    """Token tuples that may end a postal address in this city: its name and its state's name and code."""
    cache = gz.__dict__.get("postal_words")
    if cache is None:
        out: set[tuple[str, ...]] = set()
        for part in fold(gz.name).split(","):
            words = tuple(w for w in re.findall(r"[a-z]+", part) if w not in CITY_NAME_FILLERS)
            if not words:
                continue
            out.add(words)
            code = US_STATES.get(" ".join(words))
            if code is not None:
                out.add((code,))
        cache = frozenset(out)
        gz.__dict__["postal_words"] = cache
    return cache


def _not_after_place(gz: Gazetteer) -> frozenset[str]:
    """Words that make a one-word place name before them an adjective or a region, for this city."""
    cache = gz.__dict__.get("_not_after_place")
    if cache is None:
        own = {words[0] for words in postal_words(gz) if len(words) == 1}
        cache = PLACE_CONTEXT_NOT_AFTER | gz.region_words | frozenset(own)
        gz.__dict__["_not_after_place"] = cache
    return cache
