"""Answering an inbox post: canned replies from the city pack, and a staff reply queued once in its thread."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from civictracker.citypack import DEFAULTS_DIR
from civictracker.models import InboundPost, InboxHow, InboxState, MessageKind, OutboundMessage
from civictracker.postlength import weighted_length
from civictracker.services import notify
from civictracker.services.errors import ValidationFailed
from civictracker.services.inbox import Change, move_post
from civictracker.services.post_facts import thread_of
from civictracker.services.tickets import Actor

CANNED_FILE = "canned_replies.json"
# A placeholder left in a reply ("{snow_status}"): the dispatcher must type the value before it goes.
PLACEHOLDER_RE = re.compile(r"\{([a-z_]+)\}")
# Room kept free for what an adapter may still add to the text (the idempotency marker), as notify does.
HEADROOM = notify.SAFETY_HEADROOM


class MissingPlaceholder(ValidationFailed):
    """A canned reply (or a reply built from one) names a value nobody filled in."""

    def __init__(self, names: list[str], key: str = "") -> None:
        what = f"The canned reply {key!r}" if key else "The reply"
        fill = ", ".join("{" + n + "}" for n in names)
        super().__init__(f"{what} still needs {fill}: type the value in its place before sending.")
        self.names = names


@dataclasses.dataclass(frozen=True)
class Canned:
    key: str
    lang: str
    title: str
    text: str


@lru_cache(maxsize=8)
def load_canned(pack_path: Path) -> dict[str, dict[str, Canned]]:
    """The pack's canned replies by language and key (the product's defaults when the pack has none);
    bad JSON is a clear error."""
    path = pack_path / CANNED_FILE
    if not path.is_file():
        path = DEFAULTS_DIR / CANNED_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path} is not valid JSON: {exc}") from None
    return {
        lang: {
            key: Canned(key, lang, str(entry.get("title") or key), str(entry["text"]))
            for key, entry in replies.items()
            if isinstance(entry, dict) and "text" in entry
        }
        for lang, replies in raw.items()
        if not lang.startswith("_") and isinstance(replies, dict)
    }


def canned_for(canned: dict[str, dict[str, Canned]], lang: str) -> list[Canned]:
    """The canned replies offered for a post in `lang` (English where the language has none)."""
    mine = canned.get(lang) or {}
    english = canned.get("en") or {}
    return [mine.get(key) or english[key] for key in dict.fromkeys([*mine, *english])]


def post_values(post: InboundPost, public_url: str, city: str) -> dict[str, str]:
    """What a canned reply may say about this post, known without a person."""
    values = {
        "handle": (post.author_handle or "").lstrip("@"),
        "city": city,
        "report_url": f"{public_url.rstrip('/')}/",
    }
    if post.ticket is not None:
        values["ticket_ref"] = post.ticket.ref
    return values


def render_canned(canned: Canned, values: dict[str, str]) -> str:
    """The canned text with `values` filled in; MissingPlaceholder names any it lacks (never a KeyError)."""
    try:
        fields = [name for _, name, _, _ in string.Formatter().parse(canned.text) if name is not None]
    except ValueError as exc:  # a stray brace in the pack
        raise ValidationFailed(f"The canned reply {canned.key!r} is malformed: {exc}.") from None
    missing = sorted({f for f in fields if f not in values})
    if missing:
        raise MissingPlaceholder(missing, canned.key)
    return canned.text.format_map(values)


def prefill_canned(canned: Canned, values: dict[str, str]) -> tuple[str, list[str]]:
    """The text to put in the editor: filled where known, the rest left as {name} for the dispatcher."""
    try:
        return render_canned(canned, values), []
    except MissingPlaceholder as exc:
        kept = {**values, **{n: "{" + n + "}" for n in exc.names}}
        return canned.text.format_map(kept), exc.names


def check_reply(post: InboundPost, text: str) -> str:
    """The reply as it will be sent (plain text, whitespace collapsed), or ValidationFailed saying why not."""
    text = " ".join((text or "").split())
    if not text:
        raise ValidationFailed("The reply is empty.")
    missing = sorted(set(PLACEHOLDER_RE.findall(text)))
    if missing:
        raise MissingPlaceholder(missing)
    if post.redacted_at is not None:
        raise ValidationFailed(
            "The resident deleted this post; we do not answer a post that was taken down. Mark it handled."
        )
    limit = notify.reply_limit(post.channel, dm=post.is_dm) - HEADROOM
    length = weighted_length(text, notify.url_weight(post.channel))
    if length > limit:
        where = f"{post.channel} {'DM' if post.is_dm else 'reply'}"
        raise ValidationFailed(f"The reply is {length} characters; a {where} allows {limit}. Shorten it.")
    return text


def answer_post(
    session: Session,
    replies: notify.ReplyContext,
    post: InboundPost,
    text: str,
    *,
    actor: Actor,
    canned_key: str = "",
    now: dt.datetime | None = None,
) -> OutboundMessage:
    """Queue the reply in the post's own thread (a DM by DM) exactly once: the item moves to answered by
    compare-and-set first (a second dispatcher is told), and the message's key is the post's."""
    text = check_reply(post, text)
    reporter = post.reporter
    if reporter is None:
        raise ValidationFailed("This post has no known author yet (not processed); it cannot be answered.")
    if reporter.opted_out:
        raise ValidationFailed("The resident asked for no more replies; mark the post handled instead.")
    data: dict[str, Any] = {"canned": canned_key} if canned_key else {}
    change = Change("answered", how=InboxHow.REPLY, note=text, data=data)
    move_post(session, post, InboxState.ANSWERED, change, actor=actor, now=now)
    # The text is the dispatcher's own: a template that is just the note (never a pack template), so a
    # later re-route (DM spill) sends the stored text as it is.
    own_words = dataclasses.replace(replies, templates={"en": {MessageKind.INBOX_REPLY.value: "{note}"}})
    reply = notify.Reply(f"inbox:post:{post.id}", MessageKind.INBOX_REPLY, note=text)
    to = notify.Recipient(reporter, thread_of(post), post.lang or reporter.lang, post=post)
    message = notify.queue_message(session, own_words, reply, to, now=now)
    if message is None:
        raise ValidationFailed("The reply could not be queued (the resident opted out).")
    return message
