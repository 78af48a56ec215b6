"""Hand-written triage rules: multilingual service keywords and the urgent-hazard patterns (high recall)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from civictracker.triage.prefilter import GatedPattern, to_try

# Words residents use for each service beyond the city's own (English) catalog keywords, per language
# (Spanish, Portuguese, Haitian Creole, slang): a data file, accent-folded, matched on word boundaries.
_KEYWORDS_FILE = Path(__file__).with_name("data") / "service_keywords.json"


@lru_cache(maxsize=1)
def _keywords_data() -> dict[str, Any]:
    """The keywords file as read (services by language, and "_"-keys such as _other_senses), read once."""
    return json.loads(_KEYWORDS_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def extra_keywords() -> dict[str, tuple[str, ...]]:
    """service_code -> the extra words of every language for it."""
    return {
        code: tuple(word for words in by_lang.values() for word in words)
        for code, by_lang in _keywords_data().items()
        if not code.startswith("_")
    }


# The hazard patterns and what blanks or vetoes them: a data file (see its header). Each alternative (each
# line) is a gated pattern of its own, so that a rare word gates it, not the commonest word of its entry.
_HAZARDS_FILE = Path(__file__).with_name("data") / "hazard_patterns.tsv"
_NOT_HAZARDS = ("not a hazard", "over and done", "news of elsewhere", "urgency veto", "long standing")


@lru_cache(maxsize=1)
def _hazard_entries() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(reason, its alternatives) per entry of the data file: its "|" lines belong to the entry above."""
    entries: list[list[str]] = []
    for line in _HAZARDS_FILE.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        reason, pattern = line.split("\t", 1)
        if reason == "|":
            entries[-1].append(pattern)
        else:
            entries.append([reason, pattern])
    return tuple((reason, tuple(alts)) for reason, *alts in entries)


class Blocker:
    """The alternatives of a "not a hazard"-kind entry, each gated on its own words, tried in turn."""

    def __init__(self, name: str) -> None:
        alternatives = next(alts for why, alts in _hazard_entries() if why == name)
        self.patterns = [GatedPattern(alt) for alt in alternatives]
        self._always = [i for i, p in enumerate(self.patterns) if p.number is None]
        self._by_number = {p.number: i for i, p in enumerate(self.patterns) if p.number is not None}

    def _possible(self, text: str) -> list[re.Pattern[str]]:
        """The alternatives the text's words let through (the gates of all of them in one pass), in order."""
        return [self.patterns[i].pattern for i in to_try(text, self._always, self._by_number)]

    def sub(self, repl: str, text: str) -> str:
        """The text with what any alternative matches (each reading the whole text) replaced; overlapping
        matches are replaced once."""
        spans = sorted(m.span() for p in self._possible(text) for m in p.finditer(text))
        if not spans:
            return text
        parts, end = [], 0
        for start, stop in spans:
            if start >= end:
                parts += [text[end:start], repl]
            end = max(end, stop)
        parts.append(text[end:])
        return "".join(parts)

    def search(self, text: str) -> bool:
        """Whether any alternative matches."""
        return any(p.search(text) for p in self._possible(text))


@dataclass(frozen=True)
class HazardPattern:
    """One alternative of a hazard entry: its gated pattern, its reason, and how the data file marked it."""

    pattern: GatedPattern
    why: str
    raw: bool  # "!": tried on the text before the harmless senses are blanked (it needs their words)
    lasting: bool  # "~": a condition that may be old; dropped when the post says it has been so for weeks


_HAZARDS = [
    HazardPattern(GatedPattern(alt), marked.lstrip("!~"), "!" in marked[:2], "~" in marked[:2])
    for marked, alts in _hazard_entries()
    if marked not in _NOT_HAZARDS
    for alt in alts
]
# The alternatives tried on every post (no gate, or tried before blanking), and the others by gate number.
_ALWAYS_TRIED = [i for i, h in enumerate(_HAZARDS) if h.pattern.number is None or h.raw]
_GATED_ENTRY = {
    h.pattern.number: i for i, h in enumerate(_HAZARDS) if h.pattern.number is not None and not h.raw
}
# Gated: a pattern is searched only when the post has one of the words its matches need (prefilter.py).
URGENT_PATTERNS: list[tuple[GatedPattern, str]] = [(h.pattern, h.why) for h in _HAZARDS]
# Hazard words in a sense that is no hazard (harmless, negated, over and done): blanked out before the
# patterns above are tried.
_NOT_A_HAZARD = Blocker("not a hazard")
# A hazard that is over: fixed, put out, "there was a wire down on sunday". Blanked as well.
_OVER_AND_DONE = Blocker("over and done")
# A fire or collapse in the news, or elsewhere and over: not for the city's crews to answer now.
_NEWS_OF_ELSEWHERE = Blocker("news of elsewhere")
_NEWS_HAZARDS = {
    "fire or smoke",
    "explosion",
    "collapse",
    "sinkhole",
    "structure failing",
    "water main break",
}
# Hazard words that also make the urgency model's vote worthless: "gas station", "fireworks", slang.
_URGENCY_VETO = Blocker("urgency veto")
# "for months", "hace años": a leaning pole or a sagging porch that has been so for long is no emergency
# (a gas smell for weeks still is: only "~" entries are dropped), nor is the model's vote on it.
_LONG_STANDING = Blocker("long standing")


def urgent_reasons(folded: str) -> list[str]:
    """Names of the hazard patterns found in accent-folded, lower-cased text."""
    text = _OVER_AND_DONE.sub(" ", _NOT_A_HAZARD.sub(" ", folded))
    lasting = None
    found: list[str] = []
    # Dozens of entries, few of whose words a post has: only those its gates let through, in the file's order.
    for i in to_try(text, _ALWAYS_TRIED, _GATED_ENTRY):
        hazard = _HAZARDS[i]
        why = hazard.why
        if why in found or not hazard.pattern.search(folded if hazard.raw else text):
            continue
        if hazard.lasting:
            lasting = bool(_LONG_STANDING.search(folded)) if lasting is None else lasting
            if lasting:
                continue
        found.append(why)
    if found and _NEWS_OF_ELSEWHERE.search(text):
        found = [why for why in found if why not in _NEWS_HAZARDS]
    return found


# The post says where, in words a resident uses for their own surroundings: an address or a street, their
# building, or the fields of a 311 form. An emergency there is a request, however the model reads it.
_NAMES_A_PLACE = GatedPattern(
    r"\b0+\w? (?:[a-z]+ ){1,3}(?:st|street|ave|avenue|rd|road|pl|place|way|dr|drive|ter|terr|terrace|blvd|"
    r"pkwy|sq|square|ct|court|ln|lane)\b|"
    r"\b(?:on|at|near|by|corner of|outside|in front of|across from) (?:[a-z]+ ){1,2}(?:st|street|ave|avenue|"
    r"rd|road|pl|way|dr|sq)\b|"
    r"\b(?:my|our|the|this|de|do|da|del|mi|nan|in the|en el|la|no|na) (?:street|block|building|apartment|apt|"
    r"car|truck|house|home|hallway|stairwell|basement|elevator|floor|kitchen|porch|yard|garage|edificio|predio|"
    r"apartamento|pasillo|corredor|sotano|porao|escada|bilding|koridor|korido|koulwa|kay|casa|rua|calle|lari|"
    r"nursery|bedroom|living room|bathroom|attic|lobby|laundry room)\b|"
    # A street after a Spanish, Portuguese or Creole preposition ("na Cambridge St", "sou Broadway Ave").
    r"\b(?:na|no|en|sou|nan|em) (?:[a-z]+ ){1,2}(?:st|street|ave|avenue|rd|road)\b|"
    r"\b(?:next door|specific location ?:|details ?:|emergency condition ?:|submitted via url)|"
    # A spot outdoors a resident stands at ("at Fresh Pond", "by the bus stop", "in the Charles").
    r"\b(?:at|in|on|near|by|outside|behind|under|into|off) (?:the )?(?:[a-z]+ )?(?:pond|park|playground|"
    r"bus stop|station|boathouse|bridge|footbridge|underpass|alley|parking lot|platform|crosswalk|"
    r"bike (?:lane|path)|intersection|charles|loo|bench|bus shelter|t stop|t station|subway|entrance|"
    r"corner)\b|"
    r"\b[a-z]+ (?:sq|square)\b|"
    # A corner named by its two streets, types left out ("at Mt Auburn and Putnam").
    r"\b(?:at|corner of) (?!(?:home|work|school|night|noon|least|first|times?|once|\w+day)\b)"
    r"[a-z]+(?: [a-z]+)? (?:and|&) (?!(?:\w+day|night|noon|then|now|again)\b)[a-z]+\b|"
    # A building or site named by what it is ("near the water treatment facility", "at the laundromat").
    r"\b(?:at|in|on|near|by|outside|behind|inside|into|onto|along) (?:the )?(?:[a-z]+ ){0,2}(?:facility|"
    r"plant|school|library|church|hospital|laundromat|cafe|restaurant|bar|store|shop|site|tracks|river|field|garage|lot|"
    r"center|hall|gym|pool|tower)\b|"
    r"\b(?:en|em|na|no|nan|lan) (?:la |el |a |o )?(?:escuela|escola|lekol|gimnasio|ginasio|iglesia|igreja|"
    r"legliz|biblioteca|mercado|tienda|loja|magazen|parque|estacion|estacao|estasyon)\b|"
    # At home, or an alarm or detector sounding: it sounds where the resident is.
    r"\b(?:at home|em casa|en casa|na minha casa|en mi casa|lakay(?: mwen)?|nan kay(?: mwen)?)\b|"
    r"\b(?:detector|detekte|alarm|alarma|alarme|alam|monoxide)\b.{0,25}\b(?:going off|went off|beeping|"
    r"sounding|disparou|dispar\w*|suena|sonando|tocando|apitando|ap sonnen|sonnen)\b|"
    # A detector's reading is read off where the resident is ("our co detector says 250 ppm").
    r"\b(?:detector|alarm|meter)\b (?:says|reads|reading|shows|showing)\b|"
    # The household speaks ("todos tenemos nauseas", "tout kay la santi gaz", "my baby is..."): it is here.
    r"\b(?:we all|we are all|all of us|todos (?:tenemos|estamos)|estamos todos|tout kay la|nou tout|"
    r"(?:my|our) (?:baby|kids?|son|daughter|family|wife|husband|mom|mother|dad|father|roommates?)|"
    r"mi (?:familia|bebe|hij[oa]|esposo|esposa|mama|papa)|"
    r"(?:meu|minha) (?:familia|bebe|filh[oa]|marido|esposa|mae|pai)|"
    r"pitit mwen|fanmi mwen|timoun (?:yo|mwen))\b"
)


def names_a_place(folded: str) -> bool:
    """Whether the post says where the problem is (an address, a street, "my building", a form field)."""
    return bool(_NAMES_A_PLACE.search(folded))


def vetoes_urgency(folded: str) -> bool:
    """Whether the urgency model's vote is worthless: hazard-sounding words of the harmless kind ("gas
    prices", "fireworks", "no smoke", "bbq smoke"), a hazard that is over, or a condition the post says is
    weeks or years old. Only the model's vote: a hazard pattern still makes a post urgent."""
    return any(p.search(folded) for p in (_URGENCY_VETO, _NOT_A_HAZARD, _OVER_AND_DONE, _LONG_STANDING))


# Emergency kinds, in precedence order: a reply gives the safety line of the first kind a post has
# (replies.json "safety_<kind>"). Urgent reasons without a kind (ice, dark signals, "urgent") get none.
HAZARD_KINDS = (
    "gas",
    "carbon_monoxide",
    "fire",
    "electric",
    "trapped",
    "collapse",
    "open_manhole",
    "water",
    "tree",
    "injury",
)
# Kinds that make a post naming a place a request whatever the model says (not "injury": "I was injured
# in June, please shovel for me" is a request, not an emergency).
EMERGENCY_KINDS = frozenset(HAZARD_KINDS) - {"injury"}
# Reasons of kind "injury" that are an emergency now (someone hit, not moving, help sent for): like the
# kinds above, they make a post naming a place a request.
EMERGENCY_REASONS = frozenset({"someone down"})
_KIND_OF_REASON = {
    "gas smell": "gas",
    "carbon monoxide": "carbon_monoxide",
    "fire or smoke": "fire",
    "explosion": "fire",
    "transformer fire": "electric",
    "downed wire": "electric",
    "sparks": "electric",
    "electrocution risk": "electric",
    "people trapped": "trapped",
    "people inside": "trapped",
    "collapse": "collapse",
    "open manhole": "open_manhole",
    "water into homes": "water",
    "water main break": "water",
    "tree on car, house or wires": "tree",
    "someone hurt": "injury",
    "someone unwell": "injury",
    "someone down": "injury",
    "leaning pole": "electric",
    "exposed wires": "electric",
    "wires arcing": "electric",
    "branches in the wires": "tree",
    "structure failing": "collapse",
    "sinkhole": "collapse",
    "tree about to fall": "tree",
}
# Services that suit each kind, best first. A post whose category suits none of its kinds is filed under
# the first kind's first service the catalog has (a gas smell is not "noise" because a CO alarm beeps).
HAZARD_SERVICES: dict[str, tuple[str, ...]] = {
    "gas": ("other", "illegal_dumping"),  # dumped propane tanks, one hissing: the dumping is the city's
    "carbon_monoxide": ("other",),
    "fire": ("other", "power_outage", "water_sewer"),
    "electric": ("power_outage", "streetlight", "traffic_signal"),
    "trapped": ("other", "tree", "flooding"),
    "collapse": ("other", "sidewalk", "pothole", "tree", "water_sewer"),
    "open_manhole": ("water_sewer",),
    "water": ("water_sewer", "flooding"),
    "tree": ("tree", "power_outage"),
}


def hazard_kinds(reasons: list[str]) -> list[str]:
    """The emergency kinds of a post's urgent reasons, in precedence order."""
    kinds = {_KIND_OF_REASON[why] for why in reasons if why in _KIND_OF_REASON}
    return [kind for kind in HAZARD_KINDS if kind in kinds]


# The "open manhole" patterns also find a big hole that opened in the roadway or the sidewalk ("a wheel went
# in"): the labelling guide files a sinkhole in the road under pothole unless a sewer or water cause is
# named, so without a cover, grate or sewer word the road's and the sidewalk's services suit it instead.
_HOLE_SERVICES = ("pothole", "sidewalk")
# A road crew's trench plate, a ramp's tactile plate and a tree pit's grate are no sewer's.
_COVER_OR_SEWER = re.compile(
    r"\b(?:mann?holes?|covers?|(?<!pit )(?<!tree )grates?|lids?|"
    r"(?<!trench )(?<!steel )(?<!road )(?<!tactile )plates?|sewer|sewage|drain|catch basin|storm drain|"
    r"vault|pipes?|water main|tapa|tampa|alcantarilla|bueiro|esgoto|cano|tubo|tuberia|egou|kouveti|tiyo)\b"
)
_SIDEWALK_WORDS = re.compile(r"\b(?:sidewalk|curb|ramp|bricks?|walkway|calcada|acera|twotwa)\b")


def hazard_service(
    kinds: list[str], service_code: str | None, codes: list[str], folded: str = ""
) -> str | None:
    """The service for a post with these hazard kinds: triage's own choice if it suits one of them.

    folded (the post's accent-folded text) lets a hole in the road with no cover or sewer named keep the
    road's service."""
    # No cover, grate or sewer named: the hole is the road's or the sidewalk's, not the water department.
    road_hole = "open_manhole" in kinds and bool(folded) and not _COVER_OR_SEWER.search(folded)
    suits = [
        code
        for kind in kinds
        if not (road_hole and kind == "open_manhole")
        for code in HAZARD_SERVICES.get(kind, ())
    ]
    if road_hole:
        holes = _HOLE_SERVICES[::-1] if _SIDEWALK_WORDS.search(folded) else _HOLE_SERVICES
        suits = [*holes, *suits]
    if not suits or service_code in suits:
        return service_code
    return next((code for code in suits if code in codes), service_code)


# The labelling guide's ruling: snow piles blocking a hydrant are snow_ice (the city clears the snow). The
# service words pull the other way ("hydrant", "before there's a fire"): three hands' posts were misread so.
_SNOW_ON_HYDRANT = re.compile(
    r"\b(?:hydrants?|hidrantes?|idran)\b.{0,60}\b(?:buried|covered|blocked|under|hidden|enterrad[oa]s?|"
    r"tapad[oa]s?|cubiert[oa]s?|cobert[oa]s?|anba)\b.{0,40}\b(?:snow\w*|plow(?:ed)? (?:pile|bank)|ice|nieve|"
    r"neve|nej|gla)\b|"
    r"\b(?:snow\w*|plow(?:ed)? (?:pile|bank)|nieve|neve|nej)\b.{0,40}\b(?:buried|burying|covering|covers|"
    r"blocking|blocks|on top of|over)\b.{0,25}\b(?:hydrants?|hidrantes?|idran)\b"
)


def snow_ruling(service_code: str | None, codes: list[str], folded: str) -> str | None:
    """snow_ice for a hydrant buried in snow (the guide's ruling) when triage chose its hydrant or "other"."""
    if service_code in ("water_sewer", "other") and "snow_ice" in codes and _SNOW_ON_HYDRANT.search(folded):
        return "snow_ice"
    return service_code


@lru_cache(maxsize=32)
def keyword_matcher(
    catalog: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[GatedPattern, dict[str, str]]:
    """One compiled alternation over every keyword of a catalog, and the keyword -> service_code map."""
    from civictracker.triage.text import fold

    owner: dict[str, str] = {}
    for code, keywords in catalog:
        for kw in (*keywords, *extra_keywords().get(code, ())):
            key = fold(kw).strip()
            if key and key not in owner:  # the catalog's own words win over our extras
                owner[key] = code
    if not owner:
        return GatedPattern(r"(?!x)x"), owner
    return GatedPattern(rf"(?<!\w)(?:{trie_alternation(owner)})(?!\w)"), owner


def trie_alternation(keys: Iterable[str]) -> str:
    """A regex for the keys tried longest first, as nested groups by shared prefix.

    It matches what "|".join(keys sorted longest first) matches, match for match: every key that fits at
    a position lies on one path of the tree, and the greedy optional groups try the longest first and fall
    back to shorter ones, as the plain alternation does. But the engine follows one branch per character
    instead of trying every key (hundreds) at every position of the post.
    """
    tree: dict[str, dict] = {}
    for key in keys:
        node = tree
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}  # a key ends here
    return _tree_pattern(tree)


def _tree_pattern(node: dict[str, dict]) -> str:
    branches = [re.escape(ch) + _tree_pattern(child) for ch, child in sorted(node.items()) if ch]
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in node else body


@lru_cache(maxsize=1)
def _other_senses() -> re.Pattern[str]:
    """Phrases that use a service keyword in another sense ("no tag" on a found dog, "pickup game", "block
    party", "ice cream"): a keyword inside one is no evidence of a request or of its service."""
    from civictracker.triage.text import fold

    phrases = {fold(p).strip() for p in _keywords_data().get("_other_senses", ())} - {""}
    if not phrases:
        return re.compile(r"(?!x)x")
    return re.compile(rf"(?<!\w)(?:{trie_alternation(phrases)})(?!\w)")


def keyword_hits(folded: str, catalog: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, list[str]]:
    """service_code -> the keywords of that service found in the text (not those of another sense)."""
    pattern, owner = keyword_matcher(catalog)
    hits: dict[str, list[str]] = {}
    other: list[tuple[int, int]] | None = None  # spans of other senses, looked for only once a keyword is
    for m in pattern.finditer(folded):
        if other is None:
            other = [o.span() for o in _other_senses().finditer(folded)]
        if any(start <= m.start() and m.end() <= stop for start, stop in other):
            continue
        kw = m.group(0)
        hits.setdefault(owner[kw], [])
        if kw not in hits[owner[kw]]:
            hits[owner[kw]].append(kw)
    return hits
