"""The short idempotency marker an adapter embeds in each outbound text, so a lost send can be found again.

A marker is a middle dot and four characters derived from the outbox's idempotency key, e.g. "·k7qd".
It is glued to the ticket ref when the text carries one ("#CT-123·k7qd", which reads as a reference
number), otherwise appended at the end. Four characters from a 32-letter alphabet give about a million
values; `find_sent` only compares markers among our own replies to one post (a handful), so a collision
is about one in a hundred thousand even for a busy thread. The marker also keeps X from rejecting two
updates with identical text as duplicate content.
"""

from __future__ import annotations

import hashlib
import re

_ALPHABET = "abcdefghjkmnpqrstuvwxyz023456789"  # 32 characters: no i, l, o or 1, which read alike
_TICKET_REF_RE = re.compile(r"#[A-Z]{1,6}-\d+(?!·)")


def marker_for(idempotency_key: str) -> str:
    """The marker for one outbox key: "·" and four characters of its SHA-256."""
    digest = hashlib.sha256(idempotency_key.encode("utf-8")).digest()
    value = int.from_bytes(digest[:4], "big")
    chars = []
    for _ in range(4):
        chars.append(_ALPHABET[value % 32])
        value //= 32
    return "·" + "".join(chars)


def embed_marker(text: str, idempotency_key: str) -> str:
    """Put the key's marker in `text` (once): after the first ticket ref, else at the end."""
    marker = marker_for(idempotency_key)
    if marker in text:
        return text
    m = _TICKET_REF_RE.search(text)
    if m:
        return text[: m.end()] + marker + text[m.end() :]
    return f"{text.rstrip()} {marker}"


def has_marker(text: str, idempotency_key: str) -> bool:
    """Whether a posted text carries this key's marker."""
    return marker_for(idempotency_key) in text
