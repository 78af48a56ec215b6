"""The one rule deciding which finished posts need a person in the inbox, and which the system decides.

Intake calls `decide_inbox` when it finishes a post (intake/context.py). A post that became or joined a
ticket is answered through that ticket (its acknowledgement, question or status replies) and stays out of
the inbox (state NULL), unless it reads as a complaint or a question (triage/reads_as.py): then a person
sees it too. A request with no place that reads as a question, complaint or praise was not asked where
(outcome "for_person") and waits for a person; so does a non-request that reads as a question or a
complaint, even one the model took for news or an event. Everything else gets a state: NEW (a person
must answer or decide) or HANDLED by the system with a reason, still listed under the inbox's "all"
filter and open to staff.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from civictracker.models import InboundPost, InboxHow, InboxState, PostOutcome

# Outcomes answered through a ticket: an acknowledgement, a "merged" reply, a question about the place,
# a reopening or a confirmation recorded on the ticket.
TICKET_OUTCOMES = frozenset(
    {
        PostOutcome.CREATED,
        PostOutcome.MERGED,
        PostOutcome.ASK_BACK,
        PostOutcome.REOPENED,
        PostOutcome.LOCATED,
        PostOutcome.LOCATED_MERGED,
        PostOutcome.LOCATION_UNCLEAR,  # asked once more; the ticket queue shows the ticket waiting
        PostOutcome.FIXED_CONFIRMED,  # recorded on the ticket as a confirmation
    }
)

# Non-requests (triage kinds) the system may decide alone, and why. Any other kind goes to a person:
# question, politics and chatter (anger at the city reads as either: "you are useless, I'm calling the
# mayor" is chatter to triage, and a DM about a 2am party too), praise (a thank-you deserves one back),
# other, and any kind triage adds later. An escalated post always goes to a person.
SYSTEM_KINDS: dict[str, str] = {
    "spam": "spam: no reply needed (system)",
    "news": "news or a link shared with the city: no reply needed (system)",
    "event": "an event announcement: no reply needed (system)",
}

# A question or a complaint is never decided by the system: "que vergonha, ninguém aparece" or "¿hasta
# cuándo?" worded like news (triage/reads_as.py read it) goes to a person. Spam stays spam: its "questions"
# are sales pitches.
READINGS = ("question", "complaint")
READ_KINDS = frozenset({"news", "event"})
# Nor is news the request head nearly took for a request (p >= this, under the mention threshold of 0.6):
# "a Alewife Pk está toda congelada, muito perigoso andar" (dev storm day, p=0.59) is a report worded like
# news. Real news rarely comes close (bench/eval_inbox_flood.py: 1-3% of it).
DOUBTFUL_P_REQUEST = 0.5

# Thread replies (reply:<intent>): every intent that reaches here needs a person - "thanks" is praise to
# answer, "other" a question or a complaint; a location given for a ticket that has one is worth a look.

# Escalation from triage (a higher number is further up): triage/risk.py's level (high risk 6-7, abusive
# 4-5, angry 2-3, a wide audience alone 1; +1 for a wide audience), and triage's own hazard and urgency
# flags, which rank with high risk and just above anger.
PRIORITY_HAZARD = 6
PRIORITY_URGENT = 3


@dataclass(frozen=True)
class InboxDecision:
    """What intake records about a finished post: its inbox state (None: not in the inbox), its priority
    and why."""

    state: InboxState | None
    priority: int = 0
    reason: str = ""


NOT_IN_INBOX = InboxDecision(None)


def decide_inbox(
    outcome: str, *, failed: bool, is_dm: bool, triage: Mapping[str, Any] | None = None
) -> InboxDecision:
    """The inbox state of a post intake finished with `outcome` (see the module's rule)."""
    priority, escalation = _escalation(triage or {})
    if failed:  # processing crashed or could not decide: a person looks while it is retried
        return InboxDecision(InboxState.NEW, priority, _join("processing failed", escalation))
    base = PostOutcome.of(outcome)
    detail = outcome.split(":", 1)[1] if ":" in outcome else ""
    reading = str((triage or {}).get("reads_as") or "")
    if base in (PostOutcome.CREATED, PostOutcome.MERGED) and reading in ("complaint", "question"):
        # The ticket's reply answers the problem, not the blame or the question ("why does Harvard Square
        # get plowed three times and we zero?"): a person looks too, while the ticket goes on as usual.
        return InboxDecision(
            InboxState.NEW, priority, _join(f"a {reading} (its ticket answered too)", escalation)
        )
    if base in TICKET_OUTCOMES:
        return NOT_IN_INBOX
    if base == PostOutcome.FOR_PERSON:
        return InboxDecision(
            InboxState.NEW,
            priority,
            _join(
                f"a {detail or reading or 'post'} naming a service but no place: not asked where", escalation
            ),
        )
    if base == PostOutcome.OWN_MESSAGE:
        return InboxDecision(
            InboxState.HANDLED, 0, "the city's own message read back: nothing to answer (system)"
        )
    if base == PostOutcome.BLOCKED:
        return InboxDecision(InboxState.HANDLED, 0, "blocked account: stored, no reply (system)")
    if base == PostOutcome.OPTED_OUT:
        return InboxDecision(InboxState.HANDLED, 0, "the resident asked for no more replies (system)")
    if base == PostOutcome.NO_SERVICE:
        return InboxDecision(InboxState.NEW, priority, _join("triage could not place it", escalation))
    if base == PostOutcome.NOT_REQUEST:
        read = detail in READ_KINDS and reading in READINGS
        p_request = 1.0 - float((triage or {}).get("confidence", 1.0))
        doubtful = detail in READ_KINDS and p_request >= DOUBTFUL_P_REQUEST
        if detail in SYSTEM_KINDS and not priority and not read and not doubtful:
            return InboxDecision(InboxState.HANDLED, 0, SYSTEM_KINDS[detail])
        why = f"not a request ({detail or 'other'})"
        if read:
            why += f" but reads as a {reading}"
        elif doubtful:
            why += f" but nearly one (p={p_request:.2f})"
        return InboxDecision(InboxState.NEW, priority, _join(why, escalation))
    if base == PostOutcome.STILL_OPEN:
        return InboxDecision(InboxState.NEW, priority, _join("follow-up: still not fixed", escalation))
    if base == PostOutcome.REPLY:
        return InboxDecision(
            InboxState.NEW, priority, _join(f"reply in a ticket's thread ({detail})", escalation)
        )
    return InboxDecision(InboxState.NEW, priority, _join(f"outcome {outcome}", escalation))


def _escalation(triage: Mapping[str, Any]) -> tuple[int, str]:
    """The post's inbox priority and why: the strongest of its hazards, urgency and risk signal."""
    risk = triage.get("risk") or {}
    found: list[tuple[int, str]] = []
    hazards = triage.get("hazards") or []
    if hazards:
        found.append((PRIORITY_HAZARD, "escalated: hazard " + ", ".join(str(h) for h in hazards)))
    if triage.get("urgent"):
        found.append((PRIORITY_URGENT, "escalated: urgent words"))
    if int(risk.get("priority") or 0) > 0:
        why = "; ".join(str(r) for r in risk.get("reasons") or [])
        level = str(risk.get("level") or "none").replace("_", " ")
        label = "wide audience" if level == "none" else level
        found.append((int(risk["priority"]), f"escalated: {label}" + (f" ({why})" if why else "")))
    if not found:
        return 0, ""
    return max(p for p, _ in found), "; ".join(why for _, why in sorted(found, reverse=True))


def _join(reason: str, escalation: str) -> str:
    return f"{escalation}; {reason}" if escalation else reason


def apply_inbox_decision(post: InboundPost, decision: InboxDecision, now: dt.datetime) -> None:
    """Record intake's decision on the post, unless staff already acted on it (a failed post retried).

    No inbox event row: the post's own columns say it (state, reason, processed_at), and intake writes no
    extra row per post; every later move by staff is an event (services/inbox.py)."""
    if post.inbox_handled_by_id is not None or post.inbox_assigned_to_id is not None:
        return
    if post.inbox_state in (InboxState.ANSWERED, InboxState.HIDDEN):
        return
    post.inbox_state = decision.state.value if decision.state is not None else None
    post.inbox_priority = decision.priority
    post.inbox_reason = decision.reason or None
    system = decision.state == InboxState.HANDLED
    post.inbox_handled_at = now if system else None
    post.inbox_handled_how = InboxHow.SYSTEM.value if system else None
