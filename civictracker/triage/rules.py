"""Hand-written triage rules: multilingual service keywords and the urgent-hazard patterns (high recall)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from civictracker.triage.prefilter import GatedPattern

# Words residents use for each service beyond the city's own (English) catalog keywords, per language
# (Spanish, Portuguese, Haitian Creole, slang): a data file, accent-folded, matched on word boundaries.
_KEYWORDS_FILE = Path(__file__).with_name("data") / "service_keywords.json"


@lru_cache(maxsize=1)
def extra_keywords() -> dict[str, tuple[str, ...]]:
    """service_code -> the extra words of every language for it."""
    data = json.loads(_KEYWORDS_FILE.read_text(encoding="utf-8"))
    return {
        code: tuple(word for words in by_lang.values() for word in words)
        for code, by_lang in data.items()
        if not code.startswith("_")
    }


_WIRE = r"(?:wires?|power ?lines?|lines?|cables?|fios?|fil(?: kouran| elektrik)?|electric(?:al)? lines?)"
# Without "line" alone: a painted line or a bus line is "in the street" or "across" too.
_LIVE_WIRE = r"(?:wires?|power ?lines?|cables?|fios?|electric(?:al)? lines?)"
_URGENT_RAW: list[tuple[str, str]] = [
    # Live electricity.
    (
        rf"\b(?:live|downed|down|fallen|hanging|dangling|arcing|sparking|sparkin|snapped)\b.{{0,30}}\b{_WIRE}\b",
        "downed wire",
    ),
    (
        rf"\b{_WIRE}\b.{{0,30}}(?:\b(?<!cut )down|\b(?:on the ground|sparking|sparkin|sparks|arcing|smoking|"
        r"on fire))\b",
        "downed wire",
    ),
    (
        rf"\b{_LIVE_WIRE}\b.{{0,30}}\b(?:hanging|dangling|fell|across|in the (?:street|road)|laying|lying)\b",
        "downed wire",
    ),
    (
        r"\b(?:utility|power|telephone|phone|electric) pole\b.{0,20}\b(?:down|snapped|fell|broke|broken|"
        r"cracked in half)\b",
        "downed wire",
    ),
    (
        r"\bsparks?\b(?! (?:st|street|pl|place)\b)|\bsparking\b|\bsparkin\b|\bchispas\b|\bfaiscas?\b|"
        r"\betansel\b|\betensel\b",
        "sparks",
    ),
    (r"\btransformer\b.{0,30}\b(?:explod|blew|blown|fire|smok|boom|spark)\w*", "transformer fire"),
    (r"\bexplo(?:ded|sion|tou|to)\b", "explosion"),
    (
        r"\b(?:cables?|fios?)\b.{0,20}\b(?:caid[oa]s?|electric[oa]s?|no chao|en el suelo)\b|"
        r"\b(?:se cayo|cayo|caiu)\b.{0,4}\b(?:un |um )?(?:cable|fio)s?\b|"
        r"\b(?:cables?|fios?)\b.{0,25}\b(?:se cayo|se cayeron|cayo|cayeron|caiu|cairam)\b|"
        r"\bfil(?: kouran| elektrik)?(?: yo| la| a)?(?: ki)? tonbe\b|"
        r"\bfil(?: kouran| elektrik)\b.{0,12}\b(?:dife|etensel)\b",
        "downed wire",
    ),
    (
        r"\belectrocut\w*|\b(?:dando|da|dar) choque\b|\bcables? suelto|\bfios? solto|\bbay kouran\b",
        "electrocution risk",
    ),
    # Gas, fire, smoke, carbon monoxide.
    (
        r"\b(?:smell|smells|smelling|smellin|smel|smelt|odou?r|stench|stink|stinks|reek|reeks|leak|leaking|"
        r"hissing)\b.{0,25}\bgas\b|"
        r"\bgas\b.{0,25}\b(?:smell|smel|leak|leek|odou?r|stench|hiss)\w*|\brotten eggs?\b|"
        r"\b(?:olor|huele|cheiro|cheirando|sant|santi|ode)\b.{0,10}\b(?:a |de |fo )?ga[sz]\b|"
        r"\b(?:fuga|escape|vazamento|fwit)\b.{0,4}\b(?:de )?ga[sz]\b|\bgaz\b.{0,10}\bkoule\b",
        "gas smell",
    ),
    (
        r"\bon fire\b(?! escapes?)|\bin flames\b|\bflames\b|\bblaze\b|"
        r"\bburning\b(?! (?:question|issue|desire|man|up|rubber))|"
        r"\b(?:house|building|car|apartment|brush|dumpster|manhole|kitchen|porch) fire\b|"
        r"\bfire\b(?! ?(?:hydrant|station|dep|department|dept|alarm test|pit|works|fighter|house|escape|"
        r"truck|drill|place|proof|exit|door|code|marshal|inspect\w*|safety|hazard|alarm|pull|debris|damage\w*|"
        # Not a fire: the lane kept clear for the engines, the alarm box, the crews at an open house.
        r"lanes?\b|crews?\b|command\b|box\b|boxes\b|chief\b|academy\b))"
        r"|\bsmoke\b(?! ?(?:detector|alarm test|shop))|\bsmokes? (?:coming|pouring)\b|"
        r"\bincendi(?:o|a|ando|ou)\b|\bfuego\b|\bfogo\b|\bdife\b|\bhumo\b|\bfumaca\b|\blafimen\b|\bquemando\b|"
        r"\bap boule\b",
        "fire or smoke",
    ),
    (
        r"\bcarbon monoxide\b|\bco (?:alarm|detector|poisoning|leak)s?\b|\bco (?:levels?|reading)\b|"
        r"\bmonoxido\b|"
        r"\bmonoksid\b",
        "carbon monoxide",
    ),
    # People in danger.
    (
        r"\btrapped\b|\btrapt\b|\bpinned\b|\bstuck in (?:the |an |a )?(?:elevator|elevater|lift|car|flood|"
        r"water)\b|\batrapad[oa]s?\b|\bpres[oa]s? (?:no|na|dentro)\b|\bmoun (?:ki )?bloke\b|"
        r"\bbloke (?:nan|anndan)\b",
        "people trapped",
    ),
    (
        r"\b(?:hurt|injured|injury|bleeding|unconscious|ambulance|911|herid[oa]s?|machucou|blese)\b",
        "someone hurt",
    ),
    (
        r"\b(?:people|someone|somebody|driver|person|kids?|family)\b (?:is |are )?(?:still )?(?:inside|"
        r"in it|in the car)\b|"
        r"\bcon gente\b|\bw someone in it\b",
        "people inside",
    ),
    (r"\bdizzy\b|\bfainted\b|\bpassed out\b|\bcan'?t breathe\b", "someone unwell"),
    # Water into homes, open holes.
    (
        r"\bwater\b.{0,40}\b(?:into|in|entering|coming in)\b.{0,10}\b(?:our |the |my |their |the front )?"
        r"(?:homes?|houses?|basements?|apartments?|buildings?|shops?|stores?|doors?)\b",
        "water into homes",
    ),
    (
        r"\b(?:basement|apartment|sotano|porao|sousol)\b.{0,25}\b(?:flood\w*|inund\w*|alag\w*|inonde)\b|"
        r"\bflooding into\b|\bgals in the basement\b",
        "water into homes",
    ),
    (
        r"\b(?:entra|entrando|entrar|invadindo)\b.{0,10}\b(?:a|en|nas?|o)\b.{0,6}\b(?:casas?|sotano|porao)\b|"
        r"\bantre nan (?:kay|sousol)\b",
        "water into homes",
    ),
    (
        r"\bmann?hole\b.{0,30}\b(?:open|missing|off|blown|gone|no cover|uncovered|popped|displaced|moved|"
        r"shifted|flipped)\b|"
        r"\b(?:alcantarilla|bueiro|egou)\b.{0,10}\b(?:abiert[oa]|abert[oa]|louvri)\b|"
        r"\b(?:tapa|tampa)\b.{0,25}\b(?:abiert[oa]|abert[oa])\b|"
        r"\bopen (?:mann?hole|coal chute)\b|\b(?:no|missing|without) (?:mann?hole )?cover\b|"
        r"\b(?:mann?hole|sewer|drain) cover\b.{0,20}\b(?:missing|off|gone|popped)\b|"
        r"\bsin tapa\b|\bsem tampa\b|\bsan kouveti\b|\bfalta la tapa\b|\btampa\b.{0,15}\b(?:sumiu|saiu)\b|"
        r"\bkouveti\b.{0,12}\bpa la\b",
        "open manhole",
    ),
    (
        r"\bwater main\b.{0,20}\b(?:burst|break|broke|explod\w*)\b|\bmain break\b.{0,30}\b(?:collaps\w*|"
        r"homes?|basements?|pouring|coming in)\b|\bmain broke\b|"
        r"\b(?:se rompio la tuberia|estourou o cano|tiyo dlo a pete)\b",
        "water main break",
    ),
    (
        r"\b(?:collapsed?|collapsing|collasp\w*|colaps\w*|caved? in|caving in|sinkhole|desabou|derrumb\w*)\b|"
        r"\b(?:se cayo|cayo|caiu)\b.{0,6}\b(?:el |o |la |a )?(?:techo|teto|pared|parede|muro)\b|"
        r"\b(?:mi|plafon)\b.{0,12}\btonbe\b|"
        r"\b(?:fallen|fell|falling down) (?:stone |brick |retaining )?wall\b|"
        r"\bwall\b.{0,15}\b(?:fell|has fallen|came down)\b",
        "collapse",
    ),
    # Trees on things, ice crashes, signals out with near misses.
    (
        r"\btree\b.{0,40}\b(?:on|onto|into|across|crushed|hit|fell on)\b.{0,20}\b(?:car|cars|house|home|roof|"
        r"wires|lines|power lines|road|street|bus|someone)\b",
        "tree on car, house or wires",
    ),
    (
        r"\b(?:branch(?:es)?|brach|limbs?)\b.{0,30}\b(?:down|fell|fallen|came down|hanging|broke)\b.{0,30}"
        r"\b(?:on|onto|across|into)\b.{0,15}\b(?:car|cars|house|home|roof|wires|lines|power lines|someone)\b|"
        r"\b(?:trees?|branch(?:es)?|brach|limbs?)\b.{0,40}\b(?:blocking|touching|on|in) (?:the )?"
        r"(?:electrical |electric |power )(?:lines|wires)\b",
        "tree on car, house or wires",
    ),
    (
        r"\b(?:arbol|arvore|pye bwa)\b.{0,30}\b(?:sobre|em cima|encima|sou|nos|en los)\b.{0,15}\b(?:carro|"
        r"casa|fios|cables|machin|fil|kay)\w*",
        "tree on car, house or wires",
    ),
    (
        r"\b(?:ice|icy|slippery|black ice|salt|hielo|gelo|glas)\b.{0,60}\b(?:crash\w*|accidents?|slid\w*|"
        r"spun out|"
        r"spinning|skid\w*|collid\w*|chocando|batendo|frape|fell|slipped)\b|\b(?:crash\w*|accidents?|slid\w*|"
        r"spun out|fell|slipped)\b.{0,40}\b(?:ice|icy|hielo|gelo)\b",
        "ice causing crashes or falls",
    ),
    (
        r"\b(?:signals?|lights?)\b.{0,30}\b(?:out|dark|dead)\b.{0,50}\b(?:crash\w*|collision\w*|almost|"
        r"nearly|"
        r"near miss\w*|accidents?|every direction)\b",
        "signals out, near collisions",
    ),
    (
        r"\b(?:help|socorro|ayuda|ede nou)\b.{0,3}!|(?<!snow )\bemergency\b"
        r"(?! (?:doors?|exits?|lanes?|vehicles?|rooms?|brakes?|contacts?|numbers?|access|routes?))|"
        r"\burgent\w*|\burgente\b|\bijan\b",
        "says emergency",
    ),
]
# Gated: a pattern is searched only when the post has one of the words its matches need (prefilter.py).
URGENT_PATTERNS: list[tuple[GatedPattern, str]] = [(GatedPattern(p), why) for p, why in _URGENT_RAW]

# Hazard words in a sense that is no hazard: blanked out before the patterns above are tried.
_NOT_A_HAZARD = GatedPattern(
    r"\bgas (?:station|prices?|bill|stove|light|tank|pump|mileage|money)s?\b|\bgasolin\w*|"
    r"\bfire ?works?\b|\bfuegos artificiales\b|\bfogos de artificio\b|\bfire ?(?:drill|pit|place)s?\b|"
    r"\b(?:simulacro|simulacao) de incendio\b|\begzesis dife\b|"
    r"\bsmoke (?:alarm|detector)s? (?:test|install\w*|check)\w*|"
    r"\b(?:burnt|burned|cooking|toast)\b.{0,30}\bsmoke (?:alarm|detector)\b|"
    r"\b(?:is|so|straight|pure|lowkey|es|e|este|esta|essa|esse) (?:fire|fuego|fogo)\b"
    r"(?! (?:in|at|on|near|next))|"
    r"\bon fire (?:tonight|lately|this season|today)\b(?!.{0,30}\b(?:house|building|car|apartment)\b)|"
    r"\bstuck in traffic\b|\btrapped in (?:this|a|the) (?:meeting|class|call|zoom)\b|"
    r"\bgas leak in the plot\b|\bemergency condition ?:|"
    r"\bthe collapse of\b|"
    r"\b(?:no|not an?|non-?) ?(?:acute )?emergency\b|"
    r"\bambulances?\b.{0,15}\b(?:not able|can'?t|cannot|unable|couldn'?t|wouldn'?t|won'?t)\b|"
    r"\b(?:had|has had|there was|after|since|from|during) (?:a |one |the )?(?:\w+ )?fire\b"
    r"(?! (?:now|right now))|"
    r"\bfire (?:occurred|happened)\b|"
    # A harm feared, not happened: "fix it before someone gets hurt", "a kid could get hurt".
    r"\bbefore (?:someone|somebody|anyone|people|a (?:kid|child|person|pedestrian|cyclist)) "
    r"(?:is |gets? |are )?(?:hurt|injured)\b|"
    r"\b(?:someone|somebody|anyone|people|kids|children|a (?:kid|child|person|pedestrian|cyclist)) "
    r"(?:is going to|are going to|is gonna|will|could|might|may|would) (?:get |be )?(?:seriously )?"
    r"(?:hurt|injured)\b|"
    r"\b(?:in case of|if there'?s|if there is|if there was|risk of|could start|fears?) (?:a )?"
    r"(?:fire|(?:medical )?emergency)(?: or (?:a )?(?:medical )?(?:fire|emergency))?\b"
)
# A fire or collapse in the news, or elsewhere and over: not for the city's crews to answer now.
_NEWS_OF_ELSEWHERE = GatedPattern(
    r"\b(?:on|in|watching|saw on) the news\b|\bprayers (?:for|to)\b|\bthoughts (?:are )?(?:with|to)\b|"
    r"\bper (?:boston|somerville|the) fire\b.{0,40}\burl\b|\brip to\b"
)
_NEWS_HAZARDS = {"fire or smoke", "explosion", "collapse"}
# Hazard words that also make the urgency model's vote worthless: "gas station", "fireworks", slang.
_URGENCY_VETO = GatedPattern(
    r"\bgas (?:station|prices?|bill)s?\b|\bgasolin\w*|\bfire ?works?\b|\bfuegos artificiales\b|"
    r"\bfogos de artificio\b|\bsmoke (?:alarm|detector)s? (?:test|install\w*|check)\w*|\bfire drill\b|"
    r"\b(?:is|so|straight|pure|lowkey|es|e|essa|esse) (?:fire|fuego|fogo)\b|\bon fire tonight\b|"
    r"\bfire ?(?:house|station|drill)s?\b|\b(?:simulacro|simulacao) de incendio\b|\begzesis dife\b"
)


def urgent_reasons(folded: str) -> list[str]:
    """Names of the hazard patterns found in accent-folded, lower-cased text."""
    text = _NOT_A_HAZARD.sub(" ", folded)
    found: list[str] = []
    for pattern, why in URGENT_PATTERNS:
        if why not in found and pattern.search(text):
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
    r"house|home|hallway|stairwell|basement|elevator|floor|kitchen|porch|yard|garage|edificio|predio|"
    r"apartamento|pasillo|corredor|sotano|porao|escada|bilding|koridor|kay|casa|rua|calle|lari)\b|"
    r"\b(?:next door|specific location ?:|details ?:|emergency condition ?:|submitted via url)|"
    # At home, or an alarm or detector sounding: it sounds where the resident is.
    r"\b(?:at home|em casa|en casa|na minha casa|en mi casa|lakay(?: mwen)?|nan kay(?: mwen)?)\b|"
    r"\b(?:detector|detekte|alarm|alarma|alarme)\b.{0,25}\b(?:going off|went off|beeping|sounding|disparou|"
    r"dispar\w*|suena|sonando|tocando|apitando|ap sonnen|sonnen)\b"
)


def names_a_place(folded: str) -> bool:
    """Whether the post says where the problem is (an address, a street, "my building", a form field)."""
    return bool(_NAMES_A_PLACE.search(folded))


def vetoes_urgency(folded: str) -> bool:
    """Whether the post's hazard-sounding words are of the harmless kind ("gas prices", "fireworks")."""
    return bool(_URGENCY_VETO.search(folded))


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
}
# Services that suit each kind, best first. A post whose category suits none of its kinds is filed under
# the first kind's first service the catalog has (a gas smell is not "noise" because a CO alarm beeps).
HAZARD_SERVICES: dict[str, tuple[str, ...]] = {
    "gas": ("other",),
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


def hazard_service(kinds: list[str], service_code: str | None, codes: list[str]) -> str | None:
    """The service for a post with these hazard kinds: triage's own choice if it suits one of them."""
    suits = [code for kind in kinds for code in HAZARD_SERVICES.get(kind, ())]
    if not suits or service_code in suits:
        return service_code
    return next((code for code in suits if code in codes), service_code)


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


def keyword_hits(folded: str, catalog: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, list[str]]:
    """service_code -> the keywords of that service found in the text."""
    pattern, owner = keyword_matcher(catalog)
    hits: dict[str, list[str]] = {}
    for m in pattern.finditer(folded):
        kw = m.group(0)
        hits.setdefault(owner[kw], [])
        if kw not in hits[owner[kw]]:
            hits[owner[kw]].append(kw)
    return hits
