"""Composing replies from the city's templates and queueing them in the outbox, once per (event, follower)."""

from __future__ import annotations

import datetime as dt
import logging
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civictracker.models import (
    Follower,
    InboundPost,
    MessageKind,
    OutboundMessage,
    Reporter,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from civictracker.models.types import utcnow
from civictracker.models.values import Thread
from civictracker.postlength import MASTODON_MAX_LENGTH, REPLAY_MAX_LENGTH, X_MAX_LENGTH, X_URL_WEIGHT
from civictracker.services.errors import ValidationFailed
from civictracker.services.wording import expected_sentence, place_phrase, service_label

log = logging.getLogger(__name__)

# Characters a platform allows in one post; what does not fit is shortened (never the ref or link).
CHANNEL_LIMITS = {
    "x": X_MAX_LENGTH,
    "mastodon": MASTODON_MAX_LENGTH,
    "replay": REPLAY_MAX_LENGTH,
    "log": REPLAY_MAX_LENGTH,
}
# A DM on X may be 10,000 characters; a Mastodon "direct" status is a status (500).
DM_LIMITS = {"x": 10_000, "mastodon": 500, "replay": 10_000, "log": 10_000}
# Replies acknowledging a report: several of them about one ticket may share one cluster reply, and
# after a long wait a generic digest may stand in for them.
ACK_KINDS = frozenset({MessageKind.ACK, MessageKind.MERGED})
# The message each public status change sends its followers (a status not here sends none).
STATUS_TEMPLATE: dict[str, MessageKind] = {
    TicketStatus.ACKNOWLEDGED: MessageKind.ACKNOWLEDGED,
    TicketStatus.ASSIGNED: MessageKind.ASSIGNED,
    TicketStatus.IN_PROGRESS: MessageKind.IN_PROGRESS,
    TicketStatus.RESOLVED: MessageKind.RESOLVED,
    TicketStatus.CLOSED: MessageKind.CLOSED,
    TicketStatus.REOPENED: MessageKind.REOPENED,
    TicketStatus.DUPLICATE: MessageKind.MERGED,
    TicketStatus.REFERRED: MessageKind.REFERRED,
    TicketStatus.REJECTED: MessageKind.REJECTED,
}
FALLBACK = {
    "ack": "Thanks, we logged your {service} report as {ticket_ref}: {url} Expected by {expected}.",
    "ask_location": "Thanks for reporting this. Where is it? Reply with an address or a cross street.",
    "merged": "Thanks! Others reported this too; we are tracking it as {ticket_ref}: {url}",
    "acknowledged": "{ticket_ref}: the city has reviewed your report. {url}",
    "assigned": "{ticket_ref}: a crew has been assigned. {note} {url}",
    "in_progress": "{ticket_ref}: work is in progress. {note} {url}",
    "resolved": "{ticket_ref} is resolved: {note} Reply 'still broken' if it isn't. {url}",
    "closed": "{ticket_ref} is closed. {note} {url}",
    "reopened": "{ticket_ref} is reopened. {note} {url}",
    "rejected": "{ticket_ref}: {note}",
    "referred": "{ticket_ref} was referred to the responsible agency. {note} {url}",
    "location_thanks": "Thanks, we have the location now: {street}. Tracking as {ticket_ref}: {url}",
    "opt_out": "You will not get more replies from us. Reply START to opt back in.",
    "cluster": "Thanks {mentions}! Several of you reported this; we are tracking it as {ticket_ref}: {url}",
    "digest": "Thanks {mentions}: we have your reports and logged each one. Find yours on the map: {url}",
    # A dispatcher's correction: "corrected" with the corrected_* sentences of what changed as its note.
    "corrected": "Update on {ticket_ref}: we corrected your report. {note} {url}",
    "corrected_service": "It is now filed as {service}.",
    "corrected_urgent": "We marked it urgent.",
    "corrected_not_urgent": "It is no longer marked urgent.",
    "corrected_place": "The place is now {street}.",
}


# The first replies to a report. An emergency's (a ticket with hazard kinds) start with a safety line.
FIRST_REPLY_KINDS = frozenset({MessageKind.ACK, MessageKind.MERGED, MessageKind.ASK_LOCATION})
# Without a safety.json in the pack (or a line for the kind, the language's "default", or English),
# the safety line is this, with these contacts; a pack outside the US sets contacts.emergency.
SAFETY_FALLBACK = "If anyone is in danger, call {emergency} now."
SAFETY_CONTACTS = {"emergency": "911"}
# Characters left free after a safety-first reply for what an adapter adds: the resident's "@handle " in
# front (an X handle is at most 15 characters), so the adapter's own shortening never cuts the safety line.
SAFETY_HEADROOM = 17


@dataclass(frozen=True)
class ReplyContext:
    """Everything a template may say: only public facts about the ticket, never a post's text."""

    public_url: str
    timezone: str
    templates: Mapping[str, Mapping[str, str]]
    # The pack's safety.json: {"contacts": {name: number}, "lines": {lang: {hazard kind: text}}}
    safety: Mapping[str, Any] = field(default_factory=dict)
    # Each service's name per language (city.json services[].names): {service code: {lang: name}}
    service_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # Tells the language of a staff note ("en", "es"... or "und"): triage's detector, given by the runtime
    # (services do not import triage). None: every typed note goes in every reply.
    note_language: Callable[[str], str] | None = None


@dataclass(frozen=True)
class Reply:
    """One reply to queue: what to say (kind, note, hazards) about which ticket and event; `key` makes it
    exist once. `hazards`: a first reply (FIRST_REPLY_KINDS) to an emergency starts with the safety line
    of the first."""

    key: str
    kind: str
    ticket: Ticket | None = None
    event: TicketEvent | None = None
    note: str = ""
    hazards: Sequence[str] = ()


@dataclass(frozen=True)
class Recipient:
    """Who a reply goes to and where: the reporter, the thread to answer in, in their language; the
    follower row and the post it answers, when there are."""

    reporter: Reporter
    thread: Thread
    lang: str = "en"
    follower: Follower | None = None
    post: InboundPost | None = None


class _Safe(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def compose(
    ctx: ReplyContext,
    kind: str,
    lang: str,
    ticket: Ticket | None,
    note: str = "",
    *,
    extra: Mapping[str, str] | None = None,
) -> str:
    """Render one reply in the reporter's language (falling back to English, then built-in text)."""
    template = (ctx.templates.get(lang) or {}).get(kind) or (ctx.templates.get("en") or {}).get(kind)
    template = template or FALLBACK[kind]
    values = _Safe(note=note.strip(), **(extra or {}))
    if ticket is not None:
        service = ticket.service
        names = ctx.service_names.get(service.code, {}) if service else {}
        values.update(
            ticket_ref=ticket.ref,
            service=service_label(names, service.name, lang) if service else "",
            street=place_phrase(ctx.templates, lang, ticket_place(ticket)),
            url=f"{ctx.public_url.rstrip('/')}/tickets/{ticket.id}",
            expected=expected_sentence(ctx.templates, lang, ticket.sla_due_at, ctx.timezone),
        )
    text = string.Formatter().vformat(template, (), values)
    return " ".join(text.split())


def ticket_place(ticket: Ticket) -> str:
    """The ticket's place as the geocoder named it. "geotag" was the name of a place found from a post's
    geotag before those were named by their street or corner: such a ticket says its street instead."""
    address = ticket.address if ticket.address != "geotag" else ""
    return address or ticket.street or ""


def reply_note(ctx: ReplyContext, event: TicketEvent | None, lang: str) -> str:
    """The public note a reply carries, in the resident's language where staff gave one.

    In order: the note staff wrote for this language (event.data["notes"], the console's optional fields
    per follower language); a status's default note (what the template already says) left out, or said
    in the resident's words where the pack has them (default_note_<status>); the note staff typed, as is
    when it is in the resident's language (or its language cannot be told), else labelled in the
    resident's language with the language it is in ("Nota del equipo (en inglés): ..."): there is no
    machine translation here, and dropping it would hide what staff meant to tell every follower."""
    data = (event.data or {}) if event is not None else {}
    given = (data.get("notes") or {}).get(lang)
    if given:
        return str(given)
    if data.get("default_note"):
        # Where the template needs the reason (a rejection), the pack words it per language.
        words = ctx.templates.get(lang) or ctx.templates.get("en") or {}
        return str(words.get(f"default_note_{event.to_status}", "")) if event is not None else ""
    if event is None:
        return ""
    return note_for(ctx, event.public_note, lang)


# The label of a staff note in another language, when the pack gives none for the resident's language.
OTHER_LANGUAGE_NOTE = "Note from our team (in {language}): {note}"


def note_for(ctx: ReplyContext, typed: str, lang: str, notes: Mapping[str, str] | None = None) -> str:
    """Staff's words for a resident reading `lang`: their note in that language if given (`notes`), the
    typed note as is if it is in that language (or cannot be told), else the typed note labelled with the
    language it is in, in the resident's words (replies.json `staff_note_other` and `language_names`)."""
    if notes and notes.get(lang):
        return str(notes[lang]).strip()
    typed = (typed or "").strip()
    if not typed:
        return ""
    written_in = ctx.note_language(typed) if ctx.note_language else "und"
    if written_in in (lang, "und"):
        return typed
    words = ctx.templates.get(lang) or {}
    label = str(words.get("staff_note_other") or OTHER_LANGUAGE_NOTE)
    names: object = words.get("language_names") or {}
    language = str(names.get(written_in, written_in)) if isinstance(names, Mapping) else written_in
    return label.replace("{language}", language).replace("{note}", typed)


def clean_notes(ctx: ReplyContext, notes: Mapping[str, str] | None) -> dict[str, str]:
    """Staff's optional notes per language, checked: only the city's reply languages, none empty, each
    at most 2,000 characters (ValidationFailed names the language)."""
    out: dict[str, str] = {}
    for lang, given in (notes or {}).items():
        text = (given or "").strip()
        if not text:
            continue
        if lang not in ctx.templates:
            raise ValidationFailed(f"No replies in language {lang!r} in this city's pack.")
        if len(text) > 2000:
            raise ValidationFailed(f"The {lang} note is {len(text)} characters; at most 2,000.")
        out[lang] = text
    return out


def safety_line(ctx: ReplyContext, hazards: Sequence[str], lang: str) -> str:
    """What to do now about the first (most serious) hazard kind, in the reporter's language; "" for none."""
    if not hazards:
        return ""
    kind = hazards[0]
    lines = ctx.safety.get("lines") or {}
    mine, english = lines.get(lang) or {}, lines.get("en") or {}
    candidates = (mine.get(kind), mine.get("default"), english.get(kind), english.get("default"))
    template = next((t for t in candidates if t), SAFETY_FALLBACK)
    contacts = _Safe({**SAFETY_CONTACTS, **(ctx.safety.get("contacts") or {})})
    return " ".join(string.Formatter().vformat(template, (), contacts).split())


def ticket_hazards(ticket: Ticket | None) -> list[str]:
    """The hazard kinds triage found in the ticket's reports (kept in its triage record)."""
    hazards = (ticket.triage or {}).get("hazards") if ticket is not None else None
    return [str(h) for h in hazards] if isinstance(hazards, list) else []


def reply_limit(channel: str, *, dm: bool = False) -> int:
    """How long a reply on this channel may be (a DM's limit when `dm`)."""
    return (DM_LIMITS if dm else CHANNEL_LIMITS).get(channel, X_MAX_LENGTH)


def url_weight(channel: str) -> int | None:
    """What a link counts for on this channel (X wraps every URL to 23); None: its own length."""
    return X_URL_WEIGHT if channel == "x" else None


def _fit(channel: str, text: str, *, dm: bool = False) -> str:
    from civictracker.postlength import fit_text  # pure helper shared with the channel adapters

    return fit_text(text, reply_limit(channel, dm=dm), url_weight(channel))


def _fit_after(channel: str, safety: str, text: str, *, dm: bool = False) -> str:
    """The safety line whole, then `text` shortened to what is left of the platform's limit."""
    if not safety:
        return _fit(channel, text, dm=dm)
    from civictracker.postlength import fit_text, weighted_length

    weight = url_weight(channel)
    room = reply_limit(channel, dm=dm) - weighted_length(safety, weight) - 1 - SAFETY_HEADROOM
    try:
        return f"{safety} {fit_text(text, room, weight)}"
    except ValueError:  # many mentions and a long line: the reply must still go out
        log.warning("safety line dropped: the reply's mentions and links leave no room for it")
        return _fit(channel, text, dm=dm)


def _mentions(handles: list[str]) -> str:
    return " ".join(f"@{h.lstrip('@')}" for h in handles if h)


def compose_cluster(
    ctx: ReplyContext,
    channel: str,
    kind: str,
    lang: str,
    ticket: Ticket,
    handles: list[str],
    note: str = "",
) -> str:
    """One public reply answering several followers of one ticket about the same thing, naming each.

    Acknowledgements of merged reports use the pack's "cluster" template; a status update is already
    written to every follower, so it keeps its own template with the handles in front. Only public
    reporters' handles may be passed here: a DM reporter is never named in public.
    """
    safety = ""
    if kind in ACK_KINDS:
        text = compose(ctx, "cluster", lang, ticket, note, extra={"mentions": _mentions(handles)})
        safety = safety_line(ctx, ticket_hazards(ticket), lang)
    else:
        text = f"{_mentions(handles)} {compose(ctx, kind, lang, ticket, note)}"
    return _fit_after(channel, safety, text)


def compose_digest(ctx: ReplyContext, channel: str, lang: str, handles: list[str]) -> str:
    """The generic "we have your reports" reply standing in for acknowledgements of different tickets."""
    extra = {"mentions": _mentions(handles), "url": f"{ctx.public_url.rstrip('/')}/"}
    return _fit(channel, compose(ctx, "digest", lang, None, extra=extra))


def compose_direct(
    ctx: ReplyContext, channel: str, kind: str, lang: str, ticket: Ticket | None, note: str, fallback: str
) -> str:
    """A message re-rendered for a DM (a spill, or a reply whose thread is gone): DM length limits."""
    known = kind in FALLBACK or any(kind in t for t in ctx.templates.values())
    text = compose(ctx, kind, lang, ticket, note) if known else fallback
    safety = safety_line(ctx, ticket_hazards(ticket), lang) if known and kind in FIRST_REPLY_KINDS else ""
    return _fit_after(channel, safety, text, dm=True)


def queue_message(
    session: Session,
    ctx: ReplyContext,
    reply: Reply,
    to: Recipient,
    *,
    now: dt.datetime | None = None,
    fresh: bool = False,
    savepoint: bool = True,
) -> OutboundMessage | None:
    """One outbound row per idempotency key; a second call with the same key returns the first row.

    `fresh`: the key names a row created in this transaction (a new ticket's id), so no other row can
    hold it yet: the lookup and the savepoint are skipped. The unique key still refuses a second row
    (the transaction would fail and its job be retried, never send twice). `savepoint=False`: the caller
    takes a key another worker queued first as the failure of its own unit (intake: the page runs again
    a post per savepoint, and the post that failed is retried later and finds that row).
    """
    kind, key, ticket = reply.kind, reply.key, reply.ticket
    if to.reporter.opted_out and kind != MessageKind.OPT_OUT:
        return None
    if not fresh:
        existing = _queued(session, key)
        if existing is not None:
            return existing
    safety = safety_line(ctx, reply.hazards, to.lang) if kind in FIRST_REPLY_KINDS else ""
    message = OutboundMessage(
        idempotency_key=key,
        kind=kind,
        ticket_id=ticket.id if ticket else None,
        event_id=reply.event.id if reply.event else None,
        follower=to.follower,  # its id follows at flush, even for a follower added a moment ago
        reporter_id=to.reporter.id,
        post_id=to.post.id if to.post else None,
        thread=to.thread,
        recipient_id=to.reporter.external_id,
        recipient_handle=to.reporter.handle,
        lang=to.lang,
        text=_fit_after(to.thread.channel, safety, compose(ctx, kind, to.lang, ticket, reply.note)),
        urgent=ticket is not None and ticket.priority > 0,
        next_attempt_at=now or utcnow(),
        created_at=now or utcnow(),
    )
    if fresh or not savepoint:
        session.add(message)
        return message
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # another worker queued the same key first
        return session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key))
    return message


def _queued(session: Session, key: str) -> OutboundMessage | None:
    """The row already queued under `key`: one added in this session and not flushed yet, else the table's.

    Read without an autoflush: the caller's pending rows (a follower, an event) would otherwise be written
    here, a flush per reply instead of one per unit of work.
    """
    for obj in session.new:
        if isinstance(obj, OutboundMessage) and obj.idempotency_key == key:
            return obj
    with session.no_autoflush:
        return session.scalar(select(OutboundMessage).where(OutboundMessage.idempotency_key == key))


def queue_for_follower(
    session: Session,
    ctx: ReplyContext,
    follower: Follower,
    reply: Reply,
    *,
    now: dt.datetime | None = None,
    fresh: bool = False,
    savepoint: bool = True,
) -> OutboundMessage | None:
    """Answer a follower in the thread they reported in (a DM reporter by DM); `fresh`, `savepoint`:
    see queue_message."""
    if not follower.active:
        return None
    to = Recipient(follower.reporter, follower.thread, follower.lang, follower=follower)
    return queue_message(session, ctx, reply, to, now=now, fresh=fresh, savepoint=savepoint)


def queue_event_notifications(
    session: Session, ctx: ReplyContext, ticket: Ticket, event: TicketEvent, *, now: dt.datetime | None = None
) -> list[OutboundMessage]:
    """A public status change: exactly one message per active follower, keyed on (event, follower)."""
    kind = STATUS_TEMPLATE.get(event.to_status or "")
    if not event.is_public or kind is None or event.kind == "created":
        return []
    followers = session.scalars(
        select(Follower)
        .where(Follower.ticket_id == ticket.id, Follower.active.is_(True))
        .order_by(Follower.id)
    ).all()
    queued = []
    # A merge notice names the ticket kept, the one the resident can follow from now on.
    shown = ticket
    if event.to_status == TicketStatus.DUPLICATE and ticket.duplicate_of_id is not None:
        shown = session.get(Ticket, ticket.duplicate_of_id) or ticket
    for follower in followers:
        key = f"event:{event.id}:follower:{follower.id}"
        reply = Reply(key, kind, shown, event=event, note=reply_note(ctx, event, follower.lang))
        message = queue_for_follower(session, ctx, follower, reply, now=now)
        if message is not None:
            queued.append(message)
    return queued
