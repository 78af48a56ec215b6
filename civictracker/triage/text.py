"""Text clean-up shared by the triage helpers: bounded length, no markup, URLs and handles made generic."""

from __future__ import annotations

import html
import re
import unicodedata

# Posts longer than this are cut before any matching: a 10,000-character paste must not slow triage,
# and nothing past the first few hundred characters changes what a post is about.
MAX_CHARS = 1000

_TAG = re.compile(r"<[^>]{0,200}>")
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)


def safe_text(text: object) -> str:
    """Return a str for anything a channel handed us (None, bytes with bad UTF-8, lone surrogates)."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        text = str(text)
    # Lone surrogates (broken emoji from some APIs) make later encode() calls raise; replace them now.
    return text.encode("utf-8", errors="replace").decode("utf-8")


def clean(text: object) -> str:
    """Plain, bounded text: markup removed, entities decoded, URLs -> 'URL', handles -> '@USER'."""
    s = safe_text(text)[: MAX_CHARS * 2]
    if "<" in s:
        s = _SCRIPT.sub(" ", s)
        s = _TAG.sub(" ", s)
    if "&" in s:
        s = html.unescape(s)
    s = _URL.sub(" URL ", s)
    s = _HANDLE.sub(" @USER ", s)
    s = s.replace("#", " ")  # hashtags carry words ("#pothole"), keep the word
    s = _SPACE.sub(" ", s).strip()
    return s[:MAX_CHARS]


def fold(text: str) -> str:
    """Lower-case and strip accents, so 'Está' matches 'esta' and 'limyè' matches 'limye'."""
    lowered = text.lower()
    if lowered.isascii():  # the common case needs no Unicode decomposition
        return lowered
    decomposed = unicodedata.normalize("NFKD", lowered)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    """Lower-case word tokens (letters and digits; apostrophes kept inside words)."""
    return [w.replace("’", "'") for w in _WORD.findall(text.lower())]


_DIGITS = re.compile(r"\d+")
# "co" as a prefix ("co-own", "co op", "my co worker") is not the gas: one word, so no head reads it as CO.
_CO_PREFIX = re.compile(
    r"\bco[- ](?=(?:own|owns|owned|owner|owners|ownership|op|ops|operative|worker|workers|sign|signed|signer|"
    r"pay|payment|parent|parents|parenting|host|hosts|hosted|founder|chair|author|star|pilot|tenant|tenants|"
    r"habitat|exist|living|housing|ed)\b)"
)


def model_text(text: str) -> str:
    """The form the model sees: cleaned, folded, numbers collapsed (house numbers are noise to it).

    Here rather than in classify.py: fit.py fits on the same form, and must not import the classifier."""
    return _CO_PREFIX.sub("co", _DIGITS.sub("0", fold(clean(text))))
