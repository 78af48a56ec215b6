"""Recognising a reply we already posted, without a tag in its text: same thread, same words, a new id.

After a crash between a platform call and its record, the outbox asks the platform for our own posts in
the reply's thread (or DM conversation) and takes the one whose text is the text we were posting. The
comparison ignores what a platform rewrites on its side: links (X wraps each in t.co, Mastodon shortens
how one is shown), whitespace, and the order, repetition and domain of @mentions (Mastodon shows a remote
"@ana@host" as "@ana"; X may put the thread's participants in front): every handle we named must be there.
Two replies with the same words in one thread (an update sent twice, e.g. after a reopen) are told apart by
the platform's ids: the outbox passes the ids its settled messages already hold, and a post carrying one
of them is never taken for another message.
"""

from __future__ import annotations

import re
from collections.abc import Collection

_URL_RE = re.compile(r"https?://\S+")
_MENTION_RE = re.compile(r"(?<![\w@])@([A-Za-z0-9_.]+)(?:@[A-Za-z0-9.-]+)?")


def _shape(text: str) -> tuple[frozenset[str], str]:
    mentions = frozenset(m.group(1).lower() for m in _MENTION_RE.finditer(text))
    rest = _URL_RE.sub("<link>", _MENTION_RE.sub(" ", text))
    return mentions, " ".join(rest.split())


def same_text(posted: str, expected: str) -> bool:
    """Whether a post the platform shows is the text we sent (up to links, spacing and mentions' form)."""
    posted_mentions, posted_rest = _shape(posted)
    expected_mentions, expected_rest = _shape(expected)
    return posted_rest == expected_rest and expected_mentions <= posted_mentions


def is_ours(external_id: str, posted: str, expected: str, known_ids: Collection[str]) -> bool:
    """A post answering this call: not one another message already holds, with the text we posted."""
    return external_id not in known_ids and same_text(posted, expected)
