"""Text the public may read: e-mail addresses and phone numbers taken out of a submitter's own words."""

from __future__ import annotations

import re

REMOVED = "[contact removed]"
# Channels whose Ticket.description is the submitter's own public text (an Open311 client's request, the
# "open311" channel of services/open311); a social post's or a DM's words never are: those tickets show
# only the summary we wrote.
OWN_WORDS_CHANNELS = frozenset({"open311", "api", "web"})
# Open311 clients send their users' words as the description; people put their contact details in them
# ("call me at 617-555-0199"), which the page, the feeds and the search engines behind them must not show.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PHONES = (
    # North American: 617-555-0199, (617) 555 0199, 617.555.0199, +1 617 555 0199, 6175550199
    re.compile(r"(?<![\w+])(?:\+?1[\s.-]?)?(?:\(\d{3}\)|\d{3})[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)"),
    # International with a leading +: +44 20 7946 0958, +33 1 23 45 67 89
    re.compile(r"(?<!\w)\+\d[\d\s().-]{6,18}\d(?!\w)"),
)


def redact_contacts(text: str) -> str:
    """`text` with every e-mail address and phone number replaced by REMOVED."""
    text = _EMAIL.sub(REMOVED, text)
    for pattern in _PHONES:
        text = pattern.sub(REMOVED, text)
    return text
