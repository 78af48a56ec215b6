"""Find every location phrase in informal text: addresses, intersections, between-spans, streets, places."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .gazetteer import Gazetteer
from .lexicon import Lexicon
from .mentions import Mention, find_mentions, is_number, postal_words
from .normalize import Token, clean_text, name_tokens, tokenize
from .stopwords import COMMON_WORDS, FUZZY_STOPWORDS
from .types import LocationPhrase

# English words that pad a corner phrase ("corner of the", "right on"); the words that join two streets
# ("&", "at"), mark a corner, a nearby point or a span come from the pack's lexicon (its "en" words).
FILLERS = frozenset({"of", "the", "on", "st", "in", "a", "just", "right", "to"})


@dataclass(frozen=True, slots=True)
class ReadingWords:
    """The reading language's corner, near, between and span words, as the extractor reads them."""

    connectors: frozenset[str]  # words between two street names that make them an intersection
    fillers: frozenset[str]
    near: frozenset[str]  # "A near B": a weaker intersection than "A & B"
    corner: frozenset[str]
    joins: frozenset[str]  # "and" and corner words: a real corner even with a near word in the gap
    between: frozenset[str]
    span_end: frozenset[str]


def reading_words(lex: Lexicon) -> ReadingWords:
    """The lexicon's reading words, built once per lexicon and process."""
    return lex.compiled("reading", _reading_words)


def _reading_words(lex: Lexicon) -> ReadingWords:
    ands, corner, near = lex.words("and_words"), lex.words("corner_words"), lex.words("near_words")
    return ReadingWords(
        connectors=ands | corner | near,
        fillers=FILLERS | corner,
        near=near,
        corner=corner,
        joins=ands | corner,
        between=lex.words("between_words") | lex.words("span_start_words"),
        span_end=lex.words("span_end_words"),
    )


# Words after which a common-word name is read as a street, weakly: "on Memorial", "to cross Howard",
# "turn onto Grove" (a bare "Howard" elsewhere names nothing).
WEAK_STREET_BEFORE = frozenset({"on", "along", "of", "onto", "cross", "crossing"})
CORNER_ANDS = frozenset({"and", "&"})
ARTICLES = frozenset({"the", "a", "an", "this", "that", "my", "our", "your", "their", "his", "her"})
# Nouns after "the <Name>" that make the name a facility's ("the Hurley school", "the Morse playground").
FACILITY_NOUNS = frozenset(
    {"school", "playground", "library", "church", "hospital", "station", "field", "pool", "rink", "garden"}
)
WHOLE_WORDS = frozenset({"all", "entire", "whole", "length", "along", "entirety", "full"})
REAR_WORDS = frozenset({"rear", "r", "back"})
# "12 and 14 Elm St": two house numbers of one frontage; farther apart they are no pair ("2 and 40 Elm St").
NUMBER_PAIR_JOINS = frozenset({"and", "&", "or"})
NUMBER_PAIR_MAX_GAP = 20
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
# The phrase.place of an address whose number was written after the street: geocode falls back to the
# street when the number is no address there.
NUMBER_AFTER = "number after street"
# "cross street is Prospect", "cross st: Prospect": the words name the hint, not Cross St.
CROSS_WORDS = frozenset({"street", "streets", "st", "sts", "str"})
_CROSS_HINT_RE = re.compile(r"\s*(?::|=|-|is\b|are\b|would be\b)")
_PARTING_RE = re.compile(r"[.,;:!?|()\[\]]")
# A form's cross-street field ("The closest intersecting street: Bay", "Nearest cross street - Riverside"):
# the name after it is a street even when it is a common word or a neighbourhood's name.
LABEL_WORDS = frozenset({"closest", "nearest", "intersecting", "cross"})
_LABEL_GAP_RE = re.compile(r"\s*(?::|=|-|is|are|would be)\s*")
# Strength of a street read only as a cross-street field's value: just under a plainly named street's 0.5.
LABELLED_STRENGTH = 0.45


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
    return any(tuple(words[: len(p)]) == p for p in postal_words(gz))


def _number_after(gz: Gazetteer, toks: list[Token], ms: list[Mention], k: int, cleaned: str) -> int | None:
    """Token index of a house number written after a typed street ("Hampshire St 150"), or None."""
    m = ms[k]
    n = m.j
    if not m.typed or m.weak or n >= len(toks) or not is_number(toks[n]):
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


def _gap_is_connector(gap: list[str], words: ReadingWords) -> bool:
    if not gap or len(gap) > 4:
        return False
    connectors = words.connectors
    return all(g in connectors or g in words.fillers for g in gap) and any(g in connectors for g in gap)


def _joined(gap: list[str]) -> str:
    return "".join(gap)


def _is_between(gap: list[str], words: ReadingWords) -> bool:
    # "b / w" is three tokens: joined, it is the word "b/w" of the list.
    return _joined([g for g in gap if g not in ("the", "on", ",")]) in words.between


def extract_mentions(gz: Gazetteer, text: str) -> tuple[list[Token], list[Mention], str]:
    """Tokens and name mentions of a text (used by extract_locations and geocode)."""
    cleaned = clean_text(text, gz.lexicon)
    toks = tokenize(cleaned, gz.lexicon)
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


def _cross_street_hints(
    toks: list[Token], ms: list[Mention], cleaned: str, words: ReadingWords
) -> list[_CrossHint]:
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
            and _gap_is_connector(_gap_words(toks, ms[h].j, ms[h + 1].i), words)
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
    return _Assembler(gz, toks, ms, cleaned).run()


class _Assembler:
    """Reads the mentions left to right; at each unused one the first phrase reader that fits claims it.

    Each reader returns how many mentions it consumed (0 when its pattern does not fit), so the order of
    the readers in `_read` is the order of precedence, and phrases come out in the order of the text.
    """

    def __init__(self, gz: Gazetteer, toks: list[Token], ms: list[Mention], cleaned: str) -> None:
        self.gz, self.toks, self.ms, self.cleaned = gz, toks, ms, cleaned
        self.words = reading_words(gz.lexicon)
        self.out: list[LocationPhrase] = []
        self.used = [False] * len(ms)
        self.taken: set[int] = set()  # number tokens already read as the house number of a street before them

    def run(self) -> list[LocationPhrase]:
        self._cross_street_hints()
        k = 0
        while k < len(self.ms):
            k += 1 if self.used[k] else self._read(k)
        return self.out

    def _read(self, k: int) -> int:
        if self._noun(k):
            return self._claim(k, 1)
        for reader in (
            self._between,
            self._between_on,
            self._address_before,
            self._address_after,
            self._intersection_chain,
            self._place,
        ):
            n = reader(k)
            if n:
                return n
        return self._street(k)

    def _noun(self, k: int) -> bool:
        """ "the park at Memorial Dr", "between the water and Prospect St", "to the Park": after an
        article, a common word without its type is the noun, never a street, alone or in a corner."""
        m = self.ms[k]
        if m.place is not None or m.i == 0 or self.toks[m.i - 1].text not in ARTICLES:
            return False
        return m.weak or (not m.typed and self._names_a_facility(m))

    def _names_a_place(self, m: Mention) -> bool:
        """ "1 Kendall Sq", "5 Inman Square", "1 Brattle Sq": the words name a landmark exactly and a street
        only with another type than the text's (Kendall St, Inman St, Brattle Cir lie elsewhere); the number
        is the square's, not the street's."""
        if m.place is None or self.gz.places[m.place].kind == "area":
            return False
        # "1 Central Sq": Central Sq is also a street with house numbers; the street is the square.
        place = name_tokens(self.gz.places[m.place].name, self.gz.lexicon)
        if any(name_tokens(s, self.gz.lexicon) == place for s in m.streets):
            return False
        return not m.typed or m.exact == 0

    def _names_a_facility(self, m: Mention) -> bool:
        """ "in front of the Hurley school": an untyped name between an article and a facility noun is the
        facility's name; the school need not stand on the street of that name."""
        return m.j < len(self.toks) and self.toks[m.j].text in FACILITY_NOUNS

    def _phrase(self, kind: str, a: int, b: int, mentions: list[Mention], **kw: object) -> None:
        start, end = self.toks[a].start, self.toks[b - 1].end
        lp = LocationPhrase(
            kind=kind,
            text=self.cleaned[start:end],
            start=start,
            end=end,
            streets=[list(m.streets) for m in mentions],
            fuzzy=any(m.fuzzy for m in mentions),
            typed=all(m.typed for m in mentions),
            exact=[m.exact for m in mentions],
            weak=[m.weak for m in mentions],
        )
        for key, v in kw.items():
            setattr(lp, key, v)
        self.out.append(lp)

    def _claim(self, k: int, n: int) -> int:
        for q in range(k, k + n):
            self.used[q] = True
        return n

    def _gap(self, a: int, b: int) -> list[str]:
        return _gap_words(self.toks, a, b)

    def _cross_street_hints(self) -> None:
        """ "on Broadway, cross street is Prospect": read before anything else claims those mentions."""
        for hint in _cross_street_hints(self.toks, self.ms, self.cleaned, self.words):
            self.used[hint.cross] = True
            if hint.pair is not None:
                mentions = [self.ms[q] for q in hint.pair]
                self._phrase("intersection", *hint.span, mentions, strength=0.9)
                self.used[hint.pair[0]] = self.used[hint.pair[1]] = True

    def _three_streets(self, k: int) -> tuple[list[str], list[str]] | None:
        """The two gaps between mention k and the next two, when all three name streets."""
        ms = self.ms
        if k + 2 >= len(ms) or not all(x.streets for x in ms[k : k + 3]):
            return None
        if any(self._noun(q) for q in range(k, k + 3)):
            return None
        return self._gap(ms[k].j, ms[k + 1].i), self._gap(ms[k + 1].j, ms[k + 2].i)

    def _between(self, k: int) -> int:
        """ "A between B and C", "A b/w B & C", "A from B to C"."""
        gaps = self._three_streets(k)
        if gaps is None:
            return 0
        g1, g2 = gaps
        span_end = self.words.span_end
        if not (_is_between(g1, self.words) and len(g2) <= 2 and any(g in span_end for g in g2)):
            return 0
        m, b, c = self.ms[k : k + 3]
        self._phrase("between", m.i, c.j, [m, b, c], strength=0.9 if not (m.weak and b.weak) else 0.6)
        return self._claim(k, 3)

    def _between_on(self, k: int) -> int:
        """ "between B and C on A": the street comes last."""
        gaps = self._three_streets(k)
        if gaps is None:
            return 0
        g1, g2 = gaps
        m, b, a = self.ms[k : k + 3]
        g0 = self._gap(max(0, m.i - 2), m.i)
        if not (
            any(_is_between([g], self.words) for g in g0)
            and any(g in self.words.span_end for g in g1)
            and len(g1) <= 2
            and g2
            and g2[-1] in {"on", "along", "of"}
            and len(g2) <= 2
        ):
            return 0
        self._phrase("between", m.i, a.j, [a, m, b], strength=0.85)
        return self._claim(k, 3)

    def _house_number_before(self, k: int) -> int | None:
        """Token index of a house number just before mention k ("150 hampshire", "150 rear windsor")."""
        toks, m = self.toks, self.ms[k]
        num_i = m.i - 1
        if num_i >= 0 and toks[num_i].text in REAR_WORDS:
            num_i -= 1
        if num_i < 0 or num_i in self.taken or not is_number(toks[num_i]):
            return None
        before = toks[num_i - 1].text if num_i >= 1 else None
        if before in ROUTE_WORDS or (before in {"no", "number"} and not m.typed):
            return None  # "route 2", "the 1 bus"
        # "year 2019. Massachusetts plates": punctuation between the number and the name parts them.
        if _PARTING_RE.search(self.cleaned, toks[num_i].end, toks[m.i].start):
            return None
        return num_i

    def _paired_number(self, num_i: int) -> int | None:
        """Token index of the first of two neighbouring house numbers joined by "and"/"&"/"or" ("between
        710 and 712 Main", "12 & 14 Elm St"), or None: the resident means the frontage of both houses."""
        toks = self.toks
        first_i = num_i - 2
        if first_i < 0 or first_i in self.taken or toks[num_i - 1].text not in NUMBER_PAIR_JOINS:
            return None
        a, b = toks[first_i].text, toks[num_i].text
        if not (a.isdigit() and b.isdigit()) or _PARTING_RE.search(
            self.cleaned, toks[first_i].end, toks[num_i].start
        ):
            return None
        return first_i if 0 < int(b) - int(a) <= NUMBER_PAIR_MAX_GAP else None

    def _address_before(self, k: int) -> int:
        """Address with the number first ("150 hampshire", "12-14 elm")."""
        ms, m = self.ms, self.ms[k]
        num_i = self._house_number_before(k) if m.streets and not self._names_a_place(m) else None
        if num_i is None:
            return 0
        number = self.toks[num_i].text
        first_i = self._paired_number(num_i)
        if first_i is not None:
            number = f"{self.toks[first_i].text}-{number}"  # read as the span "12-14" is read
            num_i = first_i
        self._phrase("address", num_i, m.j, [m], number=number, strength=1.0 if not m.weak else 0.7)
        # "150 hampshire at windsor": the cross street is context, not another phrase.
        if (
            k + 1 < len(ms)
            and ms[k + 1].streets
            and _gap_is_connector(self._gap(m.j, ms[k + 1].i), self.words)
        ):
            return self._claim(k, 2)
        return self._claim(k, 1)

    def _address_after(self, k: int) -> int:
        """Number after the street ("Hampshire St 150", "Hampshire Street 150, Cambridge")."""
        m = self.ms[k]
        if not m.streets or self._names_a_place(m):
            return 0
        after = _number_after(self.gz, self.toks, self.ms, k, self.cleaned)
        if after is None:
            return 0
        # "Broadway 2" names Broadway: the number never moves the post to Broadway Ter.
        named = replace(m, streets=m.streets[: m.exact]) if m.exact else m
        number = self.toks[after].text
        self._phrase("address", m.i, after + 1, [named], number=number, strength=0.9, place=NUMBER_AFTER)
        self.taken.add(after)
        return self._claim(k, 1)

    def _intersection_chain(self, k: int) -> int:
        """Intersection chain: A & B [& C], "corner of A and B", "A near B"."""
        ms, m = self.ms, self.ms[k]
        if not m.streets:
            return 0
        chain = [m]
        kk = k
        near = False
        words = self.words
        cornered = any(g in words.corner for g in self._gap(max(0, m.i - 3), m.i))
        while kk + 1 < len(ms) and ms[kk + 1].streets:
            gap = self._gap(ms[kk].j, ms[kk + 1].i)
            # "corner of Mass Ave Ellery St": two typed names side by side after "corner of" meet there.
            side_by_side = cornered and not gap and ms[kk].typed and ms[kk + 1].typed and not ms[kk + 1].weak
            if not _gap_is_connector(gap, words) and not side_by_side:
                break
            if not gap:
                chain.append(ms[kk + 1])
                kk += 1
                break
            if "from" in gap and "across" not in gap:
                break
            if (gap[-1] == "the" and ms[kk + 1].weak) or self._noun(kk + 1):
                break  # "near the school", "by the park": a common noun, not School St
            # "A near B" is a weaker intersection than "A & B".
            if any(g in words.near for g in gap) and not any(g in words.joins for g in gap):
                near = True
            chain.append(ms[kk + 1])
            kk += 1
            if len(chain) == 3:
                break
        if len(chain) < 2:
            return 0
        strength = 0.6 if near else (1.0 if cornered else 0.9)
        self._phrase("intersection", m.i, chain[-1].j, chain, strength=strength)
        return self._claim(k, kk + 1 - k)

    def _label_end(self, k: int) -> int | None:
        """Token index of the "street" of a cross-street field whose value is mention k ("closest
        intersecting street: Bay", "nearest cross street is Main"), or None."""
        m, toks = self.ms[k], self.toks
        for s in range(m.i - 1, max(0, m.i - 4), -1):
            if toks[s].raw in CROSS_WORDS and toks[s - 1].text in LABEL_WORDS:
                return s if _LABEL_GAP_RE.fullmatch(self.cleaned, toks[s].end, toks[m.i].start) else None
        return None

    def _labelled(self, k: int) -> bool:
        return self._label_end(k) is not None

    def _place(self, k: int) -> int:
        """A landmark or neighbourhood of the gazetteer."""
        m = self.ms[k]
        if m.place is None or (m.streets and self._labelled(k)):
            return 0
        p = self.gz.places[m.place]
        self._phrase("area" if p.kind == "area" else "place", m.i, m.j, [], place=p.name, fuzzy=m.fuzzy)
        return self._claim(k, 1)

    def _corner_with_unknown(self, k: int) -> bool:
        """ "stop sign at Elm and Pendield", "at Ipswich and Elm": a corner of mention k and a name this city
        does not have (a typo past correcting, another town's street); the common-word name is the street.
        The other name must be no ordinary word ("at school and work" names no street)."""
        toks, m = self.toks, self.ms[k]
        if toks[m.i].text in COMMON_WORDS:
            return False
        inside = {q for x in self.ms for q in range(x.i, x.j)}

        def unknown(q: int) -> bool:
            w = toks[q].text if 0 <= q < len(toks) else ""
            return len(w) >= 4 and w.isalpha() and q not in inside and w not in FUZZY_STOPWORDS

        def text(q: int) -> str:
            return toks[q].text if 0 <= q < len(toks) else ""

        if text(m.i - 1) == "at" and text(m.j) in CORNER_ANDS and unknown(m.j + 1):
            return True
        return text(m.i - 1) in CORNER_ANDS and unknown(m.i - 2) and text(m.i - 3) == "at"

    def _street(self, k: int) -> int:
        """Whole street or a plain street mention; a weak name only after "on", "along" or "of"."""
        m = self.ms[k]
        before = self._gap(max(0, m.i - 3), m.i)
        whole = any(g in WHOLE_WORDS for g in before)
        labelled = self._labelled(k)
        strength = 0.8 if whole else (0.5 if not m.weak or labelled else 0.2)
        if labelled and not whole:
            # A cross-street field names the street beside the spot; a street the post says it is on
            # ("parked on Bent St") outranks it, and they still make a corner when they meet.
            strength = LABELLED_STRENGTH
        if m.weak and not (before and before[-1] in WEAK_STREET_BEFORE) and not labelled:
            strength = 0.2 if self._corner_with_unknown(k) else 0.0
        if k + 1 < len(self.ms) and self._label_end(k + 1) == m.j - 1:
            strength = 0.0  # the words "cross street" of "cross street: Bay" are the label, not Cross St
        if strength > 0:
            self._phrase("street", m.i, m.j, [m], strength=strength, place="whole" if whole else None)
        return self._claim(k, 1)
