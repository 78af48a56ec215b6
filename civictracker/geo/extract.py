"""Find every location phrase in informal text: addresses, intersections, between-spans, streets, places."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from rapidfuzz import process
from rapidfuzz.distance import DamerauLevenshtein

from .gazetteer import WEAK_NAMES, Gazetteer
from .normalize import STREET_TYPES, TYPE_EVIDENCE, Token, clean_text, fold, tokenize
from .stopwords import COMMON_WORDS, COUNT_WORDS, MONTH_WORDS, QUANTITY_UNITS
from .types import LocationPhrase

# Words between two street names that make them an intersection ("cor of A & B", "A at B", "A/B").
CONNECTORS = frozenset(
    {
        "&",
        "and",
        "at",
        "/",
        "@",
        "x",
        "corner",
        "cor",
        "crn",
        "intersection",
        "near",
        "by",
        "off",
        "crossing",
        "n",
        "meets",
        "with",
        "+",
        "across",
        "from",
    }
)
FILLERS = frozenset(
    {"of", "the", "on", "st", "in", "a", "just", "right", "corner", "cor", "intersection", "to"}
)
NEAR_WORDS = frozenset({"near", "by", "off", "across", "from"})
CORNER_WORDS = frozenset({"corner", "cor", "crn", "intersection"})
BETWEEN_WORDS = ("between", "btwn", "btw", "bw", "betw", "betwn", "btween", "b/w", "b-w", "from", "bet")
SPAN_END_WORDS = frozenset({"and", "&", "/", "to", "till", "until", "thru", "through", "-", "n"})
WHOLE_WORDS = frozenset({"all", "entire", "whole", "length", "along", "entirety", "full"})
REAR_WORDS = frozenset({"rear", "r", "back"})
# Words before a number that make it a route or bus, not a house ("route 2", "the 1 bus"); "no"/"number"
# only when the street has no type ("No. 150 Hampshire St" is an address).
ROUTE_WORDS = frozenset({"route", "rt", "bus"})
# What may follow a house number written after its street ("Hampshire St 150, Cambridge MA 02139", "Inman
# St 12 apt 3"): the end of the text, punctuation, the rest of a postal address, or a unit. Anything else
# makes the number a count or a time ("Broadway 2 vehicles", "Elm St 2 nights", "Hampshire St 12 noon").
AFTER_NUMBER_PUNCT = frozenset(
    ",.;:!?#()-\u2013\u2014"
)  # a spaced dash parts like a comma ("2-3" is a range)
UNIT_WORDS = frozenset(
    {"apt", "apartment", "unit", "ste", "suite", "fl", "floor", "rm", "room", "rear", "usa"}
)
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
# The phrase.place of an address whose number was written after the street: geocode falls back to the
# street when the number is no address there.
NUMBER_AFTER = "number after street"
DIRECTION_TOKENS = frozenset({"n", "s", "e", "w"})
# Common words never "corrected" into a street name by fuzzy matching.
STOPWORDS = frozenset(
    [
        "the",
        "and",
        "that",
        "this",
        "there",
        "their",
        "they",
        "them",
        "then",
        "than",
        "with",
        "from",
        "have",
        "has",
        "had",
        "been",
        "being",
        "were",
        "was",
        "what",
        "when",
        "where",
        "which",
        "while",
        "will",
        "would",
        "could",
        "should",
        "about",
        "after",
        "again",
        "also",
        "because",
        "before",
        "below",
        "between",
        "both",
        "down",
        "during",
        "each",
        "few",
        "further",
        "here",
        "into",
        "more",
        "most",
        "near",
        "other",
        "over",
        "same",
        "some",
        "such",
        "only",
        "own",
        "very",
        "just",
        "still",
        "please",
        "thanks",
        "thank",
        "help",
        "today",
        "tonight",
        "yesterday",
        "week",
        "weeks",
        "month",
        "night",
        "morning",
        "evening",
        "since",
        "outside",
        "inside",
        "front",
        "back",
        "side",
        "corner",
        "block",
        "blocks",
        "street",
        "streets",
        "road",
        "roads",
        "avenue",
        "lane",
        "near",
        "around",
        "across",
        "along",
        "behind",
        "beside",
        "left",
        "right",
        "north",
        "south",
        "east",
        "west",
        "city",
        "town",
        "area",
        "neighborhood",
        "neighbourhood",
        "pothole",
        "potholes",
        "light",
        "lights",
        "trash",
        "garbage",
        "water",
        "sewer",
        "flooding",
        "flooded",
        "flood",
        "tree",
        "trees",
        "branch",
        "sidewalk",
        "sidewalks",
        "broken",
        "missing",
        "dumped",
        "parked",
        "cars",
        "truck",
        "trucks",
        "crosswalk",
        "signal",
        "noise",
        "rats",
        "snow",
        "plow",
        "plowed",
        "report",
        "reported",
        "fixed",
        "still",
        "again",
        "never",
        "always",
        "every",
        "someone",
        "anyone",
        "people",
        "walking",
        "driving",
        "biking",
        "bike",
        "bikes",
        "lane",
        "lanes",
        "huge",
        "giant",
        "deep",
        "big",
        "small",
        "another",
        "overflowing",
        "blocked",
        "blocking",
        "hazard",
        "dangerous",
    ]
)
STOPWORDS = STOPWORDS | COMMON_WORDS
# A place name corrected from a word shorter than this needs another word of the name typed exactly:
# four- and five-letter words sit one edit from too many names ("sofa" -> "SoMa").
PLACE_FUZZY_MIN = 6
# Words before a one-word place name that is also a common word ("at Central", "in Porter"): only there
# does it name the place ("to"/"from" Central name a trip, not where the problem is).
PLACE_CONTEXT_BEFORE = frozenset({"at", "in", "near", "by", "around", "outside", "@"})
# ...and words after it that make it an adjective or a region instead ("central Cambridge", "central air").
PLACE_CONTEXT_NOT_AFTER = frozenset(
    {"cambridge", "boston", "mass", "massachusetts", "ma", "time", "air", "heat", "heating", "ac", "part"}
)
# "cross street is Prospect", "cross st: Prospect": the words name the hint, not Cross St.
CROSS_WORDS = frozenset({"street", "streets", "st", "sts", "str"})
_CROSS_HINT_RE = re.compile(r"\s*(?::|=|-|is\b|are\b|would be\b)")
_NUM_RE = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?([a-z])?$")
_ORD_RE = re.compile(r"^\d+(st|nd|rd|th)$")
_PARTING_RE = re.compile(r"[.,;:!?|()\[\]]")


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


def _is_number(tok: Token) -> bool:
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


def correct(gz: Gazetteer, word: str) -> str | None:
    """The city's own name token closest to a misspelt word, or None (restricted to the city's names)."""
    cache: dict[str, str | None] = gz.__dict__.setdefault("_fuzzy_cache", {})
    if word in cache:
        return cache[word]
    out: str | None = None
    if len(word) >= 4 and word.isalpha() and word not in STOPWORDS and word not in STREET_TYPES:
        max_d = 1 if len(word) <= 6 else 2
        hits = process.extract(
            word, _fuzzy_vocab(gz), scorer=DamerauLevenshtein.distance, score_cutoff=max_d, limit=3
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
    counted, counted_of = quantity_tokens(toks)
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


def quantity_tokens(toks: list[Token]) -> tuple[set[int], set[int]]:
    """Tokens of counts, times and dates ("3rd day", "6 hours", "10 min", "March 3rd"): no street starts
    there and no house number is read there. Second set: the word after "<count> <unit> of" ("4 inches of
    water"), which names a street only when written with its type."""
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
            and not (unit + 1 < n and toks[unit + 1].text in TYPE_EVIDENCE)
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
    if i + 1 < n and words[i + 1] in PLACE_CONTEXT_NOT_AFTER:
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
            if nxt in TYPE_EVIDENCE:
                # A type the street does not have ("windsor ave" for Windsor St) still names it.
                end += 1
                # ...but a common word with a type its street lacks ("the new place") stays weak.
                typed = not (ln == 1 and key[0] in WEAK_NAMES)
                type_ok = False
            elif ln == 1 and key[0] in STOPWORDS and base.bridges == len(base.streets):
                continue  # "for weeks" is not Weeks Footbridge: a common word needs the word "bridge"
        if key[-1] not in TYPE_EVIDENCE and full is not None and not any(w in TYPE_EVIDENCE for w in key):
            typed = len(key) > 1 or key[0] not in WEAK_NAMES  # "broadway" names itself; "main" does not
        weak = not typed and len(key) == 1 and key[0] in WEAK_NAMES
        m = Mention(i, end, streets, typed=typed, fuzzy=fuzzy or not type_ok, weak=weak, exact=exact)
        if fuzzy and not m.typed:
            m.weak = True  # a corrected word alone is too weak to be a street; it must come with a type
        return m
    return None


def _postal_words(gz: Gazetteer) -> frozenset[tuple[str, ...]]:
    """Token tuples that may end a postal address in this city: its name and its state's name and code."""
    cache = gz.__dict__.get("_postal_words")
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
        gz.__dict__["_postal_words"] = cache
    return cache


def _ends_address(gz: Gazetteer, toks: list[Token], n: int, cleaned: str) -> bool:
    """The number at token n ends a postal address: end of text, punctuation, city/state/ZIP or a unit."""
    if n + 1 >= len(toks):
        return True
    gap = cleaned[toks[n].end : toks[n + 1].start]
    mark = gap.strip()
    if mark:
        # "12:30", "3.5": a punctuation mark inside a number is a time or a decimal, not the address's end.
        return mark[0] in AFTER_NUMBER_PUNCT and not (gap == mark[0] and toks[n + 1].text[0].isdigit())
    nxt = toks[n + 1].text
    if nxt in UNIT_WORDS or (len(nxt) == 5 and nxt.isdigit()):
        return True
    words = [t.text for t in toks[n + 1 : n + 4]]
    return any(tuple(words[: len(p)]) == p for p in _postal_words(gz))


def _number_after(gz: Gazetteer, toks: list[Token], ms: list[Mention], k: int, cleaned: str) -> int | None:
    """Token index of a house number written after a typed street ("Hampshire St 150"), or None."""
    m = ms[k]
    n = m.j
    if not m.typed or m.weak or n >= len(toks) or not _is_number(toks[n]):
        return None
    if len(toks[n].text) >= 5 and toks[n].text[0] == "0":
        return None  # a ZIP code
    if "#" in cleaned[toks[m.j - 1].end : toks[n].start]:
        return None  # "Inman St #3": a unit of a house whose number is not given
    later = ms[k + 1] if k + 1 < len(ms) else None
    # "Hampshire St 150 Cambridge St": the number starts the next address unless a comma parts them.
    next_owns = (
        later is not None and later.i == n + 1 and bool(later.streets) and later.typed and not later.weak
    )
    if next_owns and later is not None and "," not in cleaned[toks[n].end : toks[later.i].start]:
        return None
    return n if _ends_address(gz, toks, n, cleaned) else None


def _gap_words(toks: list[Token], a: int, b: int) -> list[str]:
    return [t.text for t in toks[a:b]]


def _gap_is_connector(gap: list[str]) -> bool:
    if not gap or len(gap) > 4:
        return False
    return all(g in CONNECTORS or g in FILLERS for g in gap) and any(g in CONNECTORS for g in gap)


def _joined(gap: list[str]) -> str:
    return "".join(gap)


def _is_between(gap: list[str]) -> bool:
    j = _joined([g for g in gap if g not in ("the", "on", ",")])
    return j in BETWEEN_WORDS or j in ("b/w", "bw") or gap == ["b", "/", "w"] or j in {"inbetween"}


def extract_mentions(gz: Gazetteer, text: str) -> tuple[list[Token], list[Mention], str]:
    """Tokens and name mentions of a text (used by extract_locations and geocode)."""
    cleaned = clean_text(text)
    toks = tokenize(cleaned)
    return toks, find_mentions(gz, toks), cleaned


def extract_locations(text: str, gazetteer: Gazetteer) -> list[LocationPhrase]:
    """Every location phrase in a post, with its kind and character span (in the cleaned text)."""
    if not isinstance(text, str) or not text.strip():
        return []
    toks, mentions, cleaned = extract_mentions(gazetteer, text)
    return assemble(gazetteer, toks, mentions, cleaned)


@dataclass(slots=True)
class _CrossHint:
    cross: int  # the mention of the words "cross street" (not Cross St)
    pair: tuple[int, int] | None  # the street the post is on, then the cross street it names
    span: tuple[int, int] = (0, 0)  # token span of the phrase


def _cross_street_hints(toks: list[Token], ms: list[Mention], cleaned: str) -> list[_CrossHint]:
    """ "on Broadway, cross street is Prospect": the cross street and the street named elsewhere meet."""
    out: list[_CrossHint] = []
    for k, m in enumerate(ms):
        c = m.i
        if toks[c].text != "cross" or c + 1 >= len(toks) or toks[c + 1].raw not in CROSS_WORDS:
            continue
        if not _CROSS_HINT_RE.match(cleaned, toks[c + 1].end) or k + 1 >= len(ms):
            continue
        h = k + 1
        if not ms[h].streets or ms[h].i > c + 4:
            continue
        if (
            h + 1 < len(ms)
            and ms[h + 1].streets
            and _gap_is_connector(_gap_words(toks, ms[h].j, ms[h + 1].i))
        ):
            out.append(_CrossHint(k, None))  # "cross streets are Prospect and Broadway": already a corner
            continue
        # The street the post is on: the nearest other street named before the hint, else after it.
        on = next((q for q in range(k - 1, -1, -1) if ms[q].streets and not ms[q].weak), None)
        if on is None:
            on = next((q for q in range(h + 1, len(ms)) if ms[q].streets and not ms[q].weak), None)
        if on is not None:
            out.append(_CrossHint(k, (on, h), (min(ms[on].i, ms[h].i), max(ms[on].j, ms[h].j))))
    return out


def assemble(gz: Gazetteer, toks: list[Token], ms: list[Mention], cleaned: str) -> list[LocationPhrase]:
    """Group mentions and the words around them into phrases."""
    out: list[LocationPhrase] = []
    used = [False] * len(ms)
    taken: set[int] = set()  # number tokens already read as the house number of a street before them

    def phrase(kind: str, a: int, b: int, mentions: list[Mention], **kw: object) -> LocationPhrase:
        start, end = toks[a].start, toks[b - 1].end
        lp = LocationPhrase(
            kind=kind,
            text=cleaned[start:end],
            start=start,
            end=end,
            streets=[list(m.streets) for m in mentions],
            fuzzy=any(m.fuzzy for m in mentions),
            typed=all(m.typed for m in mentions),
            exact=[m.exact for m in mentions],
            weak=[m.weak for m in mentions],
        )
        for k, v in kw.items():
            setattr(lp, k, v)
        return lp

    for hint in _cross_street_hints(toks, ms, cleaned):
        used[hint.cross] = True
        if hint.pair is not None:
            out.append(phrase("intersection", *hint.span, [ms[q] for q in hint.pair], strength=0.9))
            used[hint.pair[0]] = used[hint.pair[1]] = True
    k = 0
    while k < len(ms):
        m = ms[k]
        if used[k]:
            k += 1
            continue
        streetlike = bool(m.streets)
        # "A between B and C", "A b/w B & C", "A from B to C"
        if k + 2 < len(ms) and streetlike and all(x.streets for x in ms[k + 1 : k + 3]):
            g1 = _gap_words(toks, m.j, ms[k + 1].i)
            g2 = _gap_words(toks, ms[k + 1].j, ms[k + 2].i)
            if _is_between(g1) and len(g2) <= 2 and any(g in SPAN_END_WORDS for g in g2):
                out.append(
                    phrase(
                        "between",
                        m.i,
                        ms[k + 2].j,
                        [m, ms[k + 1], ms[k + 2]],
                        strength=0.9 if not (m.weak and ms[k + 1].weak) else 0.6,
                    )
                )
                used[k] = used[k + 1] = used[k + 2] = True
                k += 3
                continue
            # "between B and C on A"
            g0 = _gap_words(toks, max(0, m.i - 2), m.i)
            if (
                any(_is_between([g]) for g in g0)
                and any(g in SPAN_END_WORDS for g in g1)
                and len(g1) <= 2
                and g2
                and g2[-1] in {"on", "along", "of"}
                and len(g2) <= 2
            ):
                out.append(phrase("between", m.i, ms[k + 2].j, [ms[k + 2], m, ms[k + 1]], strength=0.85))
                used[k] = used[k + 1] = used[k + 2] = True
                k += 3
                continue
        # Address: a house number just before the name ("150 hampshire", "12-14 elm", "150 rear windsor").
        num_i = m.i - 1
        if num_i >= 0 and toks[num_i].text in REAR_WORDS:
            num_i -= 1
        route = num_i >= 1 and (
            toks[num_i - 1].text in ROUTE_WORDS or (toks[num_i - 1].text in {"no", "number"} and not m.typed)
        )
        # "year 2019. Massachusetts plates": punctuation between the number and the name parts them.
        parted = num_i >= 0 and bool(_PARTING_RE.search(cleaned, toks[num_i].end, toks[m.i].start))
        if (
            streetlike
            and num_i >= 0
            and num_i not in taken
            and _is_number(toks[num_i])
            and not route
            and not parted
        ):
            out.append(
                phrase(
                    "address", num_i, m.j, [m], number=toks[num_i].text, strength=1.0 if not m.weak else 0.7
                )
            )
            used[k] = True
            # "150 hampshire at windsor": the cross street is context, not another phrase.
            if (
                k + 1 < len(ms)
                and ms[k + 1].streets
                and _gap_is_connector(_gap_words(toks, m.j, ms[k + 1].i))
            ):
                used[k + 1] = True
                k += 1
            k += 1
            continue
        # Number after the street ("Hampshire St 150", "Hampshire Street 150, Cambridge").
        after = _number_after(gz, toks, ms, k, cleaned)
        if streetlike and after is not None:
            # "Broadway 2" names Broadway: the number never moves the post to Broadway Ter.
            named = replace(m, streets=m.streets[: m.exact]) if m.exact else m
            out.append(
                phrase(
                    "address",
                    m.i,
                    after + 1,
                    [named],
                    number=toks[after].text,
                    strength=0.9,
                    place=NUMBER_AFTER,
                )
            )
            taken.add(after)
            used[k] = True
            k += 1
            continue
        # Intersection chain: A & B [& C]
        chain = [m]
        kk = k
        near = False
        cornered = any(g in CORNER_WORDS for g in _gap_words(toks, max(0, m.i - 3), m.i))
        while streetlike and kk + 1 < len(ms) and ms[kk + 1].streets:
            gap = _gap_words(toks, ms[kk].j, ms[kk + 1].i)
            # "corner of Mass Ave Ellery St": two typed names side by side after "corner of" meet there.
            side_by_side = cornered and not gap and ms[kk].typed and ms[kk + 1].typed and not ms[kk + 1].weak
            if not _gap_is_connector(gap) and not side_by_side:
                break
            if not gap:
                chain.append(ms[kk + 1])
                kk += 1
                break
            if "from" in gap and "across" not in gap:
                break
            if gap[-1] == "the" and ms[kk + 1].weak:
                break  # "near the school", "by the park": a common noun, not School St
            # "A near B" is a weaker intersection than "A & B".
            if any(g in NEAR_WORDS for g in gap) and not any(
                g in {"&", "and", "/", "@", "at", "corner", "cor"} for g in gap
            ):
                near = True
            chain.append(ms[kk + 1])
            kk += 1
            if len(chain) == 3:
                break
        if len(chain) >= 2:
            corner = cornered
            out.append(
                phrase(
                    "intersection",
                    m.i,
                    chain[-1].j,
                    chain,
                    strength=0.6 if near else (1.0 if corner else 0.9),
                )
            )
            for q in range(k, kk + 1):
                used[q] = True
            k = kk + 1
            continue
        if m.place is not None:
            p = gz.places[m.place]
            kind = "area" if p.kind == "area" else "place"
            out.append(phrase(kind, m.i, m.j, [], place=p.name, fuzzy=m.fuzzy))
            used[k] = True
            k += 1
            continue
        # Whole street or a plain street mention.
        before = _gap_words(toks, max(0, m.i - 3), m.i)
        whole = any(g in WHOLE_WORDS for g in before)
        strength = 0.8 if whole else (0.5 if not m.weak else 0.2)
        if m.weak and not (before and before[-1] in {"on", "along", "of"}):
            strength = 0.0
        if strength > 0:
            out.append(phrase("street", m.i, m.j, [m], strength=strength, place="whole" if whole else None))
        used[k] = True
        k += 1
    return out
