"""Intent of a resident's reply in a thread we answered: still broken, fixed, a location, thanks, other."""

from __future__ import annotations

import csv
import re
from functools import lru_cache
from pathlib import Path

from civictracker.intake.triage_text import clean, fold

REPLY_INTENTS = ("still_broken", "fixed_confirmed", "location_clarification", "thanks", "other")
_STREETS_CSV = Path(__file__).resolve().parents[1] / "cities" / "cambridge_ma" / "streets.csv"

_NEG = r"(?:not|isn'?t|isnt|wasn'?t|hasn'?t|hasnt|haven'?t|never|no|nothing|nobody|no one|n'?t)"
_STILL_BROKEN = [
    (r"\bstill\b(?! (?:thanks|thank|grateful|appreciate))", "says 'still'"),
    (
        rf"\b{_NEG}\b.{{0,25}}\b(?:fixed|plowed|repaired|done|picked up|collected|cleared|resolved|changed|"
        r"better|working|touched|removed|came|shown up|showed up|happened|filled|salted|shoveled)\b",
        "not fixed",
    ),
    (r"\b(?:nope|nah|negative)\b", "says no"),
    (
        r"\b(?:it'?s|its|it is|they'?re|pothole is|hole is) back\b|\b(?:back again|came back|"
        r"broken again|out again|happening again|again\b.{0,10}\b(?:broken|out|flooded|"
        r"full|dark))\b",
        "broken again",
    ),
    (
        r"\b(?:nothing (?:has )?changed|same as before|exactly the same|worse|getting worse|no change)\b",
        "no change",
    ),
    (
        r"\b(?:why (?:is|was) (?:this|it|the ticket) (?:closed|marked|resolved))\b|\bmarked (?:it )?(?:as )?"
        r"(?:resolved|fixed|closed)\b.{0,30}\b(?:but|not|isn|still)\b",
        "disputes resolution",
    ),
    (
        r"\btodavia\b|\baun no\b|\bsigue\b|\bno (?:lo )?(?:han|ha) (?:arreglado|limpiado|recogido|venido)\b|"
        r"\bainda\b|\bcontinua\b|\bnao (?:foi|foram) (?:consertad|limp|recolhid)\w*|\bninguem (?:veio|"
        r"passou)\b|"
        r"\btoujou\b|\bpa (?:t )?(?:ranje|repare|netwaye|ranmase)\b|\banko\b",
        "still (es/pt/ht)",
    ),
    (r"\bpoko\b|\bpa anko\b", "not yet (ht)"),
]
_FIXED = [
    (
        r"\b(?:it'?s|its|it is|it was|they|all|been|got|finally|has been|have been|now|was|were)\b.{0,15}\b"
        r"(?:fixed|repaired|plowed|patched|filled|cleared|picked up|collected|removed|cleaned|restored|"
        r"working|"
        r"resolved|done|back on|taken care of|sorted)\b",
        "says fixed",
    ),
    (
        r"\b(?:fixed|repaired|plowed|patched|cleared|removed|restored|looks great|looks good|all good|"
        r"good now|"
        r"working now|works now|back on|lights? (?:is|are) on)\b",
        "fixed word",
    ),
    (r"\b(?:confirm(?:ed)?|can confirm)\b", "confirms"),
    (
        r"\b(?:power|light|lights|water|heat|electricity|service|signal)\b (?:is|are|s|came) back\b|"
        r"\b(?:is|are) gone\b|"
        r"\b(?:got|was|been) (?:towed|removed|hauled)\b|\bnormal again\b|\bback to normal\b|"
        r"\b(?:it|that|whatever you did) worked\b",
        "fixed (back, gone, normal)",
    ),
    (
        r"\barreglad[oa]s?\b|\bya (?:lo )?(?:arreglaron|limpiaron|recogieron|funciona)\b|\bconsertad[oa]s?\b|"
        r"\bja (?:consertaram|limparam|recolheram|funciona)\b|\bresolvid[oa]\b|\bresuelto\b|\branje\b|"
        r"\brepare\b|"
        r"\bfonksyone\b|\bvolvio la luz\b|\bvoltou a luz\b|\bkouran an tounen\b|\bfunciona\b",
        "fixed (es/pt/ht)",
    ),
]
_THANKS = (
    r"\b(?:thanks?|thank you|thx|ty|tysm|appreciate\w*|grateful|cheers|gracias|obrigad[oa]|mesi|kudos)\b"
)
_LOCATION = [
    (r"\b(?:corner of|intersection of|at the corner|cross ?street|between)\b", "cross-street phrase"),
    (
        r"\b\d{1,5}[a-z]?\s+(?:[a-z]+\s){0,3}(?:st|street|ave|avenue|rd|road|pl|place|ter|terrace|dr|drive|"
        r"pkwy|parkway|ct|court|ln|lane|blvd|sq|square|way|hwy|pk|park)\b",
        "street address",
    ),
    (
        r"\b[a-z]+\s(?:st|street|ave|avenue|rd|road|pl|dr|pkwy|ct|ln|blvd|sq|square)\b\s*(?:&|and|/|at|y|"
        r"e|ak|"
        r"com|con)\s*[a-z]+",
        "two streets",
    ),
    (
        r"\b(?:in front of|across from|outside|next to|near|right by|by the|behind|opposite)\b",
        "landmark phrase",
    ),
    (
        r"\b(?:esquina|frente a|frente al|em frente|perto de|cerca de|entre|kwen|devan|bo)\b",
        "location (es/pt/ht)",
    ),
]
_NEGATING = ("not fixed", "says no", "still (es/pt/ht)", "not yet (ht)")
_STILL_BROKEN_RE = [(re.compile(p), why) for p, why in _STILL_BROKEN]
_FIXED_RE = [(re.compile(p), why) for p, why in _FIXED]
_LOCATION_RE = [(re.compile(p), why) for p, why in _LOCATION]
_THANKS_RE = re.compile(_THANKS)
_STREET_WORD = re.compile(r"\b(?:st|street|ave|avenue|rd|road|sq|square)\b")


@lru_cache(maxsize=1)
def _street_names() -> re.Pattern[str]:
    """Bare names of the city's streets ('hampshire', 'mass ave'), to spot a location without a suffix."""
    names: set[str] = {"mass ave", "mass", "central", "harvard", "porter", "kendall", "inman", "alewife"}
    try:
        with open(_STREETS_CSV, encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                name = fold(row.get("street_name") or "").strip()
                if len(name) >= 4:
                    names.add(name)
    except OSError:
        pass
    # Common words that are also street names would turn any sentence into a location.
    names -= {
        "main",
        "green",
        "pleasant",
        "school",
        "church",
        "park",
        "market",
        "river",
        "spring",
        "ware",
        "fixed",
        "still",
        "thanks",
        "worth",
        "good",
        "hope",
        "sparks",
        "day",
        "ellery",
        "water",
        "center",
        "third",
        "first",
        "second",
        "north",
        "west",
        "east",
        "south",
        "gore",
        "winter",
        "summer",
        "union",
    }
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternation})\b")


def _matches(patterns: list[tuple[re.Pattern[str], str]], s: str) -> list[str]:
    return [why for p, why in patterns if p.search(s)]


def classify_reply(text: str) -> tuple[str, list[str]]:
    """Intent of a reply in one of our threads, and the reasons (matched phrases)."""
    s = fold(clean(text)).replace("@user", " ")
    s = re.sub(r"\s+", " ", s).strip()
    if not s:
        return "other", ["empty reply"]
    broken = _matches(_STILL_BROKEN_RE, s)
    fixed = _matches(_FIXED_RE, s)
    location = _matches(_LOCATION_RE, s)
    streets = _street_names().findall(s)
    if streets and (len(streets) >= 2 or _STREET_WORD.search(s) or len(s.split()) <= 6):
        location.append("street name: " + ", ".join(dict.fromkeys(streets)))
    thanks = bool(_THANKS_RE.search(s))

    # "not fixed" contains "fixed": a negated fix is a still-broken report, so broken wins over fixed.
    if broken and not (fixed and not any(w in _NEGATING for w in broken) and "still" not in s):
        return "still_broken", broken
    if fixed:
        return "fixed_confirmed", fixed
    strong_location = [w for w in location if w != "landmark phrase"]
    if strong_location or (location and len(s.split()) <= 12):
        return "location_clarification", location
    if thanks:
        return "thanks", ["thanks"]
    return "other", ["no reply pattern matched"]
