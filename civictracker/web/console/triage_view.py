"""A ticket's triage record (intake.analysis.triage_summary) said in sentences a dispatcher reads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LANGUAGE_NAMES = {
    "en": "English",
    "es": "Spanish",
    "pt": "Portuguese",
    "ht": "Haitian Creole",
    "fr": "French",
    "zh": "Chinese",
    "de": "German",
    "und": "undetermined",
}


@dataclass
class TriageLine:
    """One fact of the decision: what it is about, the decision, and the words or numbers behind it."""

    about: str
    decision: str
    why: list[str] = field(default_factory=list)


def _words(reason: str) -> list[str]:
    """The quoted words after a reason's colon ("keywords for pothole: 'pothole', 'hole'")."""
    tail = reason.split(":", 1)[1] if ":" in reason else ""
    return [w.strip().strip("'\"") for w in tail.split(",") if w.strip().strip("'\"")]


def _percent(value: Any) -> str:
    try:
        return f"{float(value) * 100:.0f}%"
    except (TypeError, ValueError):
        return "—"


def explain_triage(triage: Mapping[str, Any] | None, service_names: Mapping[str, str]) -> list[TriageLine]:
    """The decision (request or not, with its confidence), the category and the words that decided it,
    urgency and hazards, language, what a person should know (reads as, risk); reasons not understood
    here are kept as they are under "Other", never dropped."""
    t = dict(triage or {})
    if not t:
        return []
    if "is_request" not in t:  # not intake's record (an import, an older shape): shown as it is
        return [TriageLine("Recorded", "", [f"{k}: {v}" for k, v in t.items()])]
    reasons = [str(r) for r in t.get("reasons") or []]
    used: set[str] = set()

    def take(prefix: str) -> list[str]:
        found = [r for r in reasons if r.startswith(prefix)]
        used.update(found)
        return found

    lines: list[TriageLine] = []
    confidence = _percent(t.get("confidence"))
    code = t.get("service_code")
    if t.get("is_request"):
        why = [f"request words: {', '.join(_words(r))}" for r in take("request words")]
        take("service request")  # its probability is the confidence shown
        why += [f"hazard words: {', '.join(_words(r))}" for r in take("hazard words")]
        lines.append(TriageLine("Request", f"A service request ({confidence} confident)", why))
        name = service_names.get(str(code), str(code or "none"))
        cat_why = [f"catalog keywords: {', '.join(_words(r))}" for r in take(f"keywords for {code}")]
        cat_why += [
            f"words the model weighed most: {', '.join(_words(r))}" for r in take(f"words for {code}")
        ]
        lines.append(TriageLine("Category", name, cat_why or ["no keyword or word stood out (model only)"]))
    else:
        kind = t.get("kind") or "other"
        why = [f"words for {kind}: {', '.join(_words(r))}" for r in take(f"words for {kind}")]
        take("not a service request")
        lines.append(
            TriageLine("Request", f"Not a service request: it reads as {kind} ({confidence} confident)", why)
        )
    urgent_why = [f"hazard words: {', '.join(_words(r))}" for r in take("urgent:")]
    for r in take("urgent ("):  # "urgent (model p=0.71)"
        urgent_why.append("the model's urgency probability " + r.rsplit("=", 1)[-1].rstrip(")"))
    hazards = [str(h) for h in t.get("hazards") or []]
    if hazards and not urgent_why:
        urgent_why.append("hazards: " + ", ".join(hazards))
    lines.append(TriageLine("Urgent", "Yes" if t.get("urgent") else "No", urgent_why))
    lang = str(t.get("lang") or "und")
    lang_why = [r.split(":", 1)[1].strip() for r in take("language ") if ":" in r]
    lines.append(
        TriageLine("Language", f"{LANGUAGE_NAMES.get(lang, lang)} ({lang}); replies go out in it", lang_why)
    )
    reads = take("reads as")
    if t.get("reads_as"):
        lines.append(TriageLine("Reads as", f"a {t['reads_as']}: a person should answer it", []))
    risk = t.get("risk") or {}
    if isinstance(risk, Mapping) and risk.get("level") not in (None, "", "none"):
        lines.append(
            TriageLine(
                "Escalation",
                str(risk["level"]).replace("_", " "),
                [str(r) for r in risk.get("reasons") or []],
            )
        )
    other = [r for r in reasons if r not in used and r not in reads]
    if other:
        lines.append(TriageLine("Other", "", other))
    return lines
