"""Hand-written triage rules: multilingual service keywords and the urgent-hazard patterns (high recall)."""

from __future__ import annotations

import re
from functools import lru_cache

# Words residents use for each service beyond the city's own (English) catalog keywords: Spanish,
# Portuguese, Haitian Creole, and common English slang. Accent-folded; matched on word boundaries.
EXTRA_KEYWORDS: dict[str, list[str]] = {
    "snow_ice": [
        "snowed in",
        "shovel",
        "shoveled",
        "nieve",
        "hielo",
        "quitanieves",
        "neve",
        "gelo",
        "limpa-neve",
        "lanej",
        "glas",
    ],
    "pothole": [
        "pot hole",
        "patch",
        "trench",
        "potholed",
        "bache",
        "baches",
        "hoyo",
        "buraco",
        "buracos",
        "twou",
        "road caved",
    ],
    "streetlight": [
        "lamppost",
        "street lamp",
        "streetlights",
        "street lights",
        "farola",
        "farol",
        "poste de luz",
        "poste",
        "postes",
        "limye lari",
        "poto limye",
    ],
    "traffic_signal": [
        "signal",
        "signals",
        "stuck on red",
        "red light",
        "green arrow",
        "left arrow",
        "walk light",
        "ped light",
        "semaforo",
        "senal de pare",
        "placa de pare",
        "sinal",
        "limye trafik",
        "limye wouj",
    ],
    "trash": [
        "trash can",
        "recycle",
        "basura",
        "reciclaje",
        "basurero",
        "lixo",
        "coleta",
        "lixeira",
        "reciclagem",
        "fatra",
        "poubel",
        "resiklaj",
    ],
    "illegal_dumping": [
        "sofa",
        "fridge",
        "colchon",
        "muebles",
        "llantas",
        "colchao",
        "moveis",
        "entulho",
        "pneus",
        "matla",
    ],
    "graffiti": ["grafiti", "graffitti", "tagging", "pichacao", "picharam", "grafite"],
    "tree": ["trees", "branches", "arbol", "rama", "arvore", "galho", "pye bwa", "branch"],
    "flooding": [
        "drain",
        "inundacion",
        "inunda",
        "charco",
        "desague",
        "alagamento",
        "alaga",
        "bueiro",
        "poca",
        "inonde",
        "inondasyon",
        "kanal",
    ],
    "water_sewer": [
        "hydrant",
        "water pressure",
        "tap water",
        "sewer gas",
        "fuga de agua",
        "hidrante",
        "alcantarilla",
        "vazamento",
        "esgoto",
        "egou",
        "idran",
        "fwit dlo",
    ],
    "sidewalk": ["sidewalks", "curb cut", "acera", "calcada", "twotwa"],
    "abandoned_vehicle": [
        "abandoned",
        "hasn't moved",
        "havent moved",
        "carro abandonado",
        "carro sin placas",
        "sem placa",
        "machin abandone",
    ],
    "noise": ["blasting", "barking dog", "ruido", "musica alta", "barulho", "bri", "mizik fo"],
    "rodents": ["ratas", "ratones", "ratos", "rat yo"],
    "power_outage": [
        "power",
        "electricity",
        "lost power",
        "went dark",
        "house went dark",
        "wires",
        "power lines",
        "sin luz",
        "no hay luz",
        "apagon",
        "sem luz",
        "sem energia",
        "fios",
        "kouran",
    ],
    "other": [
        "parking meter",
        "bus shelter",
        "raccoon",
        "squirrel",
        "skunk",
        "roadkill",
        "carcass",
        "scaffolding",
        "crosswalk paint",
        "worn off",
        "faded",
        "bollard",
        "needles",
        "syringes",
        "dead animal",
        "bench",
        "gas leak",
        "smell gas",
        "smells like gas",
        "parquimetro",
        "jeringas",
        "seringas",
        "sereng",
    ],
}

_WIRE = r"(?:wires?|power ?lines?|lines?|cables?|fios?|fil(?: kouran)?|electric(?:al)? lines?)"
_URGENT_RAW: list[tuple[str, str]] = [
    # Live electricity.
    (
        rf"\b(?:live|downed|down|fallen|hanging|dangling|arcing|sparking|snapped)\b.{{0,30}}\b{_WIRE}\b",
        "downed wire",
    ),
    (
        rf"\b{_WIRE}\b.{{0,30}}\b(?:down|on the ground|sparking|sparks|arcing|smoking|on fire|hanging|"
        rf"dangling|"
        r"fell|across)\b",
        "downed wire",
    ),
    (
        r"\bsparks?\b(?! (?:st|street|pl|place)\b)|\bsparking\b|\bchispas\b|\bfaiscas?\b|\betansel\b|"
        r"\betensel\b",
        "sparks",
    ),
    (
        r"\btransformer\b.{0,30}\b(?:explod|blew|blown|fire|smok|boom)\w*|\bexplo(?:ded|sion|tou|to)\b",
        "explosion",
    ),
    (
        r"\b(?:cables?|fios?)\b.{0,20}\b(?:caid[oa]s?|electric[oa]s?)\b|\bfil(?: kouran| elektrik)? tonbe\b",
        "downed wire",
    ),
    (r"\belectrocut\w*", "electrocution risk"),
    # Gas, fire, smoke, carbon monoxide.
    (
        r"\b(?:smell|smells|smelling|odou?r|stench|leak|leaking|hissing)\b.{0,25}\bgas\b|"
        r"\bgas\b.{0,12}\b(?:smell|leak|odou?r)\w*|\b(?:olor|huele|cheiro|sant)\b.{0,10}\b(?:a |de )?gas\b",
        "gas smell",
    ),
    (
        r"\bon fire\b|\bin flames\b|\bflames\b|\bblaze\b|\b(?:house|building|car|apartment) fire\b|"
        r"\bfire\b(?! ?(?:hydrant|station|dep|department|dept|alarm test|pit|works|fighter|house|escape|"
        r"truck))"
        r"|\bsmoke\b(?! ?(?:detector|alarm test|shop))|\bincendio\b|\bfuego\b|\bfogo\b|\bdife\b",
        "fire or smoke",
    ),
    (r"\bcarbon monoxide\b|\bco (?:alarm|detector)s?\b|\bmonoxido\b", "carbon monoxide"),
    # People in danger.
    (
        r"\btrapped\b|\bpinned\b|\bstuck in (?:the |an |a )?(?:elevator|car|flood|water)\b|"
        r"\batrapad[oa]s?\b|\bpres[oa]s\b|\bmoun (?:ki )?bloke\b",
        "people trapped",
    ),
    (
        r"\b(?:hurt|injured|injury|bleeding|unconscious|ambulance|911|herid[oa]s?|machucou|blese)\b",
        "someone hurt",
    ),
    (
        r"\b(?:people|someone|somebody|driver|person|kids?|family)\b (?:is |are )?(?:still )?(?:inside|"
        r"in it|in the car)\b|"
        r"\bcon gente\b",
        "people inside",
    ),
    (r"\bdizzy\b|\bfainted\b|\bpassed out\b|\bcan'?t breathe\b", "someone unwell"),
    # Water into homes, open holes.
    (
        r"\bwater\b.{0,40}\b(?:into|in|entering|coming in)\b.{0,10}\b(?:our |the |my |their )?"
        r"(?:homes?|houses?|basements?|apartments?|buildings?|shops?|stores?)\b",
        "water into homes",
    ),
    (
        r"\b(?:basement|apartment|sotano|porao|sousol)\b.{0,25}\b(?:flood\w*|inund\w*|alag\w*|inonde)\b|"
        r"\bflooding into\b",
        "water into homes",
    ),
    (
        r"\b(?:entra|entrando|entrar)\b.{0,10}\b(?:a|en|nas?)\b.{0,6}\b(?:casas?|sotano|porao)\b|"
        r"\bantre nan kay\b",
        "water into homes",
    ),
    (
        r"\bmanhole\b.{0,30}\b(?:open|missing|off|blown|gone|no cover|uncovered)\b|\bopen manhole\b|"
        r"\b(?:no|missing|without) (?:manhole )?cover\b|\bsin tapa\b|\bsem tampa\b|\bsan kouveti\b",
        "open manhole",
    ),
    (
        r"\bwater main\b.{0,20}\b(?:burst|break|broke|explod\w*)\b|\bmain break\b.{0,30}\b(?:collaps\w*|"
        r"homes?|"
        r"basements?|pouring)\b",
        "water main break",
    ),
    (r"\b(?:collapsed?|collapsing|caved? in|caving in|sinkhole|desabou|derrumb\w*)\b", "collapse"),
    # Trees on things, ice crashes, signals out with near misses.
    (
        r"\btree\b.{0,40}\b(?:on|onto|into|across|crushed|hit|fell on)\b.{0,20}\b(?:car|cars|house|home|roof|"
        r"wires|lines|road|street|bus|someone)\b",
        "tree on car, house or wires",
    ),
    (
        r"\b(?:arbol|arvore|pye bwa)\b.{0,30}\b(?:sobre|em cima|sou|nos|en los)\b.{0,15}\b(?:carro|casa|fios|"
        r"cables|machin|fil)\w*",
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
        r"\b(?:help|socorro|ayuda|ede nou)\b.{0,3}!|(?<!snow )\bemergency\b|\burgent\w*|\burgente\b|\bijan\b",
        "says emergency",
    ),
]
URGENT_PATTERNS: list[tuple[re.Pattern[str], str]] = [(re.compile(p), why) for p, why in _URGENT_RAW]


def urgent_reasons(folded: str) -> list[str]:
    """Names of the hazard patterns found in accent-folded, lower-cased text."""
    found: list[str] = []
    for pattern, why in URGENT_PATTERNS:
        if why not in found and pattern.search(folded):
            found.append(why)
    return found


@lru_cache(maxsize=32)
def keyword_matcher(
    catalog: tuple[tuple[str, tuple[str, ...]], ...],
) -> tuple[re.Pattern[str], dict[str, str]]:
    """One compiled alternation over every keyword of a catalog, and the keyword -> service_code map."""
    from civictracker.intake.triage_text import fold

    owner: dict[str, str] = {}
    for code, keywords in catalog:
        for kw in (*keywords, *EXTRA_KEYWORDS.get(code, [])):
            key = fold(kw).strip()
            if key and key not in owner:  # the catalog's own words win over our extras
                owner[key] = code
    if not owner:
        return re.compile(r"(?!x)x"), owner
    alternation = "|".join(re.escape(k) for k in sorted(owner, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternation})(?!\w)"), owner


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
