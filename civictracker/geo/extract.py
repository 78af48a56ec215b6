"""Find every location phrase in informal text: addresses, intersections, between-spans, streets, places."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from .gazetteer import Gazetteer
from .mentions import Mention, find_mentions, is_number, postal_words
from .normalize import Token, clean_text, tokenize
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
# The phrase.place of an address whose number was written after the street: geocode falls back to the
# street when the number is no address there.
NUMBER_AFTER = "number after street"
# "cross street is Prospect", "cross st: Prospect": the words name the hint, not Cross St.
CROSS_WORDS = frozenset({"street", "streets", "st", "sts", "str"})
_CROSS_HINT_RE = re.compile(r"\s*(?::|=|-|is\b|are\b|would be\b)")
_PARTING_RE = re.compile(r"[.,;:!?|()\[\]]")


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
            and is_number(toks[num_i])
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
