"""The hand-written rules' reading of a reply: still broken, fixed, a location, thanks, other.

Order of the decision: a report that the problem is still there (or back, or only half done) wins over any
"fixed" word in it ("marked fixed but it isn't"); then a confirmation that it is fixed; then a location,
but only when the reply is about where the problem is, not about a new problem elsewhere ("same on the next
block too") or about when ("they skipped us again this week"); then thanks; else other, for a person.
The rules are one witness: reply.py weighs their verdict beside the model's reply head.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from civictracker.triage.text import clean, fold

REPLY_INTENTS = ("still_broken", "fixed_confirmed", "location_clarification", "thanks", "other")
_STREETS_CSV = Path(__file__).resolve().parents[1] / "cities" / "cambridge_ma" / "streets.csv"
_STREET_STOPWORDS = Path(__file__).with_name("data") / "reply_street_stopwords.txt"

_NEG = (
    r"(?:not|isn'?t|isnt|wasn'?t|hasn'?t|hasnt|haven'?t|havent|didn'?t|didnt|never|no|nothing|nobody|"
    r"no one|noone|nobdy|n'?t)"
)
_DONE = (
    r"(?:fixed|fixd|plowed|repaired|done|picked up|collected|cleared|resolved|changed|better|working|touched|"
    r"removed|came|come|shown up|showed up|happened|filled|salted|shoveled|finished|cleaned|patched|emptied|"
    r"towed|swept|mowed|hauled away|taken away)"
)
# Services whose return means the problem is over ("power is back"); anything else back is the problem.
_SERVICES = (
    r"(?:power|light|lights|lite|streetlight|water|heat|electricity|service|signal|gas|internet|cable)"
)
_STILL_BROKEN = [
    (r"\b(?:still|stil|stll|sitll)\b(?! (?:thanks|thank|grateful|appreciate))", "says 'still'"),
    (rf"\b{_NEG}\b.{{0,25}}\b{_DONE}\b", "not fixed"),
    (
        r"\b(?:nope|nah|negative|not yet|not really|no change|same)\b"
        r"(?! (?:problem|issue|thing) (?:on|at|over))|^no\b",
        "says no",
    ),
    (
        rf"\b(?:it'?s|its|it is|they'?re|theyre|(?!{_SERVICES}\b)[a-z]+ (?:is|are)|[a-z]+'?re|"
        rf"(?!{_SERVICES}'|that'|everything')[a-z]+'s) back\b"
        r"(?! (?:on|to normal|up|in service))|\b(?:back again|broke(?:n)? again|out again|"
        r"happen(?:ed|ing|s)? again|again\b.{0,10}\b(?:broken|out|flooded|full|dark))\b",
        "back again",
    ),
    # A fix that did not hold: "patched it and it already washed out", "the patch lasted 3 days".
    (
        r"\b(?:washed (?:out|away)|fell apart|came apart|crumbled|didn'?t (?:last|hold)|"
        r"lasted (?:a|one|two|\d+) (?:day|days|week|weeks))\b",
        "fix did not hold",
    ),
    (r"\b(?:skipped|skiped|missed|missd|forgot|forgotten|passed us|ignored)\b", "missed"),
    # Weak: "again" is also "working again", "came back" also "power came back": a fix word outvotes them.
    # Not "what's my case number again" (a question), nor "the road's open again" (a fix word, below).
    (
        r"(?<!number )(?<!name )(?<!address )\b(?:again|agian|agin|otra vez|de nuevo|de novo)\b"
        r"(?! (?:thanks|thank))|\bcame back\b",
        "again",
    ),
    (
        r"\b(?:nothing (?:has )?changed|same as before|exactly the same|worse|getting worse|no change|"
        r"waste of time|as usual)\b",
        "no change",
    ),
    (
        r"\bonly (?:did|do|plowed|fixed|patched|cleaned|cleared|picked up|filled|took|one)\b"
        r"|\bhalf (?:the|of|done)\b|\b(?:didn'?t|did not) (?:finish|do the rest)\b"
        r"|\bmissed a (?:spot|section|part)\b",
        "only partly done",
    ),
    (
        r"\b(?:why (?:is|was|did you) (?:this|it|the ticket|you) (?:closed|close|marked|resolved))\b|"
        r"\b(?:marked|closed|called) (?:it |this )?(?:as )?(?:resolved|fixed|closed|done|complete)\b.{0,30}"
        r"\b(?:but|not|isn|still|when|lol|wasn)\b|\bwhen it (?:isn'?t|wasn'?t|is not|was not)\b|"
        r"\"(?:resolved|fixed|done|closed|completed)\"|\bif by fixed\b|\bcome (?:look|see)\b",
        "disputes resolution",
    ),
    (
        r"\b(?:\d+(?:st|nd|rd|th)|second|third|fourth|fifth) time\b|\b(?:day|week|wk|month) \d+\b|"
        r"\b(?:still|stil)?\s*broke\b|\bnothing\b[.!]*$",
        "repeated or dragging on",
    ),
    (
        r"\btodavia\b|\baun no\b|\bsigue\b|"
        r"\bno (?:lo |la )?(?:han|ha) (?:arreglado|limpiado|recogido|venido)\b|"
        r"\bno (?:lo |la )?(?:arreglan|arreglaron|recogieron|limpiaron|vinieron|vino)\b|"
        r"\bnadie (?:vino|ha venido)\b|"
        r"\bainda\b|\bcontinua\b|\bnao (?:foi|foram) (?:consertad|limp|recolhid)\w*|\bninguem (?:veio|"
        r"passou)\b|\bnao (?:passaram|vieram|veio|consertaram|limparam|recolheram)\b|"
        r"\btoujou\b|\bpa (?:t )?(?:ranje|repare|netwaye|ranmase)\b|\banko\b|\bpa janm\b|\bpesonn\b",
        "still (es/pt/ht)",
    ),
    (r"\bpoko\b|\bpa anko\b", "not yet (ht)"),
]
_FIXED = [
    (
        r"\b(?:it'?s|its|it is|it was|they|all|been|got|finally|finaly|has been|have been|now|was|were)\b"
        r".{0,15}\b"
        r"(?:fixed|fixd|repaired|plowed|patched|filled|cleared|picked up|collected|removed|cleaned|restored|"
        r"working|resolved|done|back on|taken care of|sorted|emptied|hauled away|towed|swept|mowed)\b",
        "says fixed",
    ),
    # A bare yes to "is it fixed?": "yes resolved", "yep all done", "yeah it's sorted".
    (
        r"^(?:yes|yep|yeah|yup|yea|si|sim|wi)\b[ ,.!-]*(?:it'?s |its |it is |that'?s |all )?"
        r"(?:resolved|done|sorted|fixed|gone|cleared|handled|taken care of)\b",
        "yes, fixed",
    ),
    (
        r"\b(?:fixed|fixd|repaired|plowed|patched|cleared|removed|restored|looks great|looks good|all good|"
        r"good now|working now|works now|working again|back on|bak on|lights? (?:is|are) on|"
        r"cleaned (?:it )?up|"
        r"(?:road|street|st|sidewalk|lane|path|bridge|crosswalk|driveway|alley)(?:'s| is| are) (?:open|clear|"
        r"passable)(?: again)?|"
        r"came (?:thru|through)|took care of it)\b",
        "fixed word",
    ),
    (r"\b(?:confirm(?:ed|ing)?|can confirm)\b", "confirms"),
    (
        rf"\b{_SERVICES}(?:'s| is| are| s| came| has come) back\b|"
        r"\b(?:is|are|it'?s|its|all) gone\b|"
        r"\b(?:got|was|been) (?:towed|removed|hauled)\b|\bnormal again\b|\bback to normal\b|"
        r"\b(?:it|that|whatever you did) worked\b|\b(?:works|working) (?:again|fine|great|perfectly)\b",
        "fixed (back, gone, normal)",
    ),
    (
        r"\barreglad[oa]s?\b|\bya (?:lo |la )?(?:arreglaron|limpiaron|recogieron|funciona|quedo)\b|"
        r"\bconsertad[oa]s?\b|\bja (?:consertaram|limparam|recolheram|funciona|passaram)\b|\bresolvid[oa]\b|"
        r"\bresuelto\b|\branje\b|\brepare\b|\blimen\b|"
        r"\bfonksyone\b|\bvolvio la luz\b|\bvoltou a luz\b|\bkouran an tounen\b|\bfunciona\b",
        "fixed (es/pt/ht)",
    ),
]
_THANKS = (
    r"\b(?:thanks?|thank you|thank u|thx|thnx|thnks|ty|tysm|appreciate\w*|grateful|cheers|gracias|"
    r"obrigad[oa]|mesi|kudos|valeu)\b|🙏|❤|💙|💚|💜|🧡|🥰|🙌"
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
        r"e|ak|com|con|n)\s*[a-z]+",
        "two streets",
    ),
    (
        r"\b(?:in front of|infront of|across from|outside|next to|near|right by|by the|behind|opposite|"
        r"in the alley)\b",
        "landmark phrase",
    ),
    (r"\boff (?:of )?[a-z]+ (?:st|street|ave|avenue|rd|road)\b", "street phrase"),
    (
        r"\b(?!the\b|a\b|my\b|our\b|this\b|that\b)[a-z]{3,} (?:park|playground|field|library|school|station|"
        r"plaza|common)\b",
        "place name",
    ),
    (
        r"\b(?:esquina|frente a|frente al|em frente|perto de|cerca de|entre|kwen|devan|bo)\b",
        "location (es/pt/ht)",
    ),
]
# A reply about a new problem somewhere else ("same on the next block too") or about when the problem
# happens ("this week", "day 3") is not telling us where this ticket is, even when it names a street.
_ELSEWHERE = re.compile(
    r"\b(?:too|also|as well|another|other one|next block|same (?:problem|issue|thing)|same here|"
    r"you should (?:check|look)|check .{1,30} too)\b"
)
_TIME_WORDS = re.compile(
    r"\b(?:this|last|next|every) (?:week|month|morning|night|time|year|winter)\b|\b(?:day|week) \d+\b|"
    r"\b\d+(?:st|nd|rd|th) time\b|\b(?:today|tonight|yesterday)\b"
)
_NEGATING = (
    "fix did not hold",
    "not fixed",
    "says no",
    "says 'still'",
    "still (es/pt/ht)",
    "not yet (ht)",
    "only partly done",
    "disputes resolution",
    "no change",
    "back again",
    "missed",
    "repeated or dragging on",
)
# "Nobody told me anything", "haven't heard back": a complaint about not hearing from us, not a report that
# the problem is still there (nobody *came* is). Blanked before the still-broken patterns are tried, so that
# "nobody" or "pesonn" alone does not read as one; a reply that also says the problem is there still does.
_NO_NEWS = re.compile(
    r"\b(?:nobody|no one|noone|nadie|ninguem|pesonn)\b.{0,20}?\b(?:told|tells|said|says|replied|answered|"
    r"responded|got back|gets back|called|emailed|contacted|updated|me dijo|me ha dicho|me respondio|"
    r"me llamo|me disse|me respondeu|me ligou|(?:pa )?di m|(?:pa )?reponn|(?:pa )?rele m)\b(?:.{0,12}?"
    r"\b(?:anything|nada|anyen|back|me|us))?|"
    r"\b(?:haven'?t|havent|have not|never) heard (?:back|anything)\b|"
    r"\bno (?:update|reply|response|answer)s?\b(?: (?:yet|at all|from (?:anyone|anybody|you|the city)))?"
)
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
    lines = _STREET_STOPWORDS.read_text(encoding="utf-8").splitlines()
    names -= {line.strip() for line in lines if line.strip() and not line.startswith("#")}
    alternation = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"\b(?:{alternation})\b")


def _matches(patterns: list[tuple[re.Pattern[str], str]], s: str) -> list[str]:
    return [why for p, why in patterns if p.search(s)]


NO_MATCH = "no reply pattern matched"
# What each family of rules found in a reply, whatever the verdict: the combiner's inputs beside it.
EVIDENCE = (
    "still broken",
    "negated fix",
    "fixed",
    "location",
    "thanks",
    "elsewhere",
    "time words",
    "nothing",
)


@dataclass(frozen=True)
class RuleReading:
    """The rules' verdict on a reply, their reasons, and the evidence of each family (1.0 found)."""

    intent: str
    reasons: list[str]
    evidence: tuple[float, ...]


def rule_reply(text: str) -> tuple[str, list[str]]:
    """The rules' intent for a reply in one of our threads, and their reasons (matched phrases)."""
    reading = read_rules(text)
    return reading.intent, reading.reasons


def read_rules(text: str) -> RuleReading:
    """rule_reply() with the evidence every rule family found (EVIDENCE order)."""
    s = fold(clean(text)).replace("@user", " ").replace("’", "'")
    s = re.sub(r"\s+", " ", s).strip()
    if not s:
        return RuleReading("other", ["empty reply"], (0.0,) * (len(EVIDENCE) - 1) + (1.0,))
    broken = _matches(_STILL_BROKEN_RE, _NO_NEWS.sub(" ", s))
    fixed = _matches(_FIXED_RE, s)
    location = _matches(_LOCATION_RE, s)
    streets = _street_names().findall(s)
    if streets and (len(streets) >= 2 or _STREET_WORD.search(s) or len(s.split()) <= 6):
        location.append("street name: " + ", ".join(dict.fromkeys(streets)))
    thanks = bool(_THANKS_RE.search(s))
    elsewhere = _ELSEWHERE.search(s)
    timed = bool(_TIME_WORDS.search(s))
    # "not fixed" contains "fixed": a negated fix is a still-broken report, so broken wins over fixed.
    strong = any(w in _NEGATING for w in broken)
    found = [bool(broken), strong, bool(fixed), bool(location), thanks, bool(elsewhere), timed]
    evidence = (*(float(f) for f in found), float(not any(found)))

    def verdict(intent: str, reasons: list[str]) -> RuleReading:
        return RuleReading(intent, reasons, evidence)

    # "Same problem on the next block" is a new report, not a "no".
    if broken and not (fixed and not strong) and not (elsewhere and broken == ["says no"]):
        return verdict("still_broken", broken)
    if fixed:
        return verdict("fixed_confirmed", fixed)
    if elsewhere:
        return verdict("other", [f"about another place or problem ({elsewhere.group(0)!r})"])
    strong_location = [w for w in location if w != "landmark phrase"]
    if (strong_location or (location and len(s.split()) <= 12)) and not timed:
        return verdict("location_clarification", location)
    if thanks:
        return verdict("thanks", ["thanks"])
    return verdict("other", [NO_MATCH])


def verdict_features(reading: RuleReading, classes: list[str]) -> list[float]:
    """The rules' reading as model inputs: their verdict one-hot over the reply head's classes, then the
    evidence of each rule family."""
    return [float(reading.intent == c) for c in classes] + list(reading.evidence)
