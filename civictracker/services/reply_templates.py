"""Admins' wording of the city pack's reply templates and canned replies: checked, stored, previewed, used.

The pack (replies.json, canned_replies.json) stays the source; a row of reply_overrides says one
(scope, language, key) otherwise, and deleting it restores the pack's text. The reply path reads the
overrides once per unit of work (an intake page, an outbox call, a console request): with_overrides()
and canned_with_overrides() give the pack's texts with the rows on top.

Templates are plain text: social posts and DMs show no markup, so an HTML tag is refused (it would reach
residents literally, and a `<script>` is never a wording); the preview shows whatever was typed as text.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.citypack import CITY_MARK
from civictracker.models import AdminAction, ReplyOverride, ReplyScope, Service, Ticket, User
from civictracker.models.types import utcnow
from civictracker.postlength import weighted_length
from civictracker.services import notify
from civictracker.services.audit import record_admin_change
from civictracker.services.errors import NotFound, ValidationFailed
from civictracker.services.inbox_reply import Canned

MAX_TEMPLATE = 2000
MAX_TITLE = 120
# What a message about a ticket may say (notify.compose fills these); {city} is the city's short name.
_TICKET = frozenset({"ticket_ref", "service", "street", "url", "expected", "note", "city"})
# The placeholders each key may use; a key not named here is a message about a ticket (_TICKET).
_PLACEHOLDERS: dict[str, frozenset[str]] = {
    "cluster": _TICKET | {"mentions"},
    "digest": frozenset({"mentions", "url", "city"}),
    "expected_by": frozenset({"date"}),
    "place_corner": frozenset({"a", "b"}),
    "place_between": frozenset({"street", "a", "b"}),
    "date": frozenset({"weekday", "month", "day", "time"}),
    "time": frozenset({"hour", "hour12", "minute", "ampm"}),
    "months": frozenset(),
    "weekdays": frozenset(),
    "am_pm": frozenset(),
    "staff_note_other": frozenset({"language", "note"}),
}
# Canned inbox replies: what inbox_reply.post_values knows, and {snow_status}, left for the dispatcher.
CANNED_PLACEHOLDERS = frozenset({"handle", "city", "report_url", "ticket_ref", "snow_status"})
# Words that are lists: how many a language must give (wording.format_when indexes them).
_WORD_COUNTS = {"months": 12, "weekdays": 7, "am_pm": 2}
_TAG_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(\s[^<>]*)?/?>")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$")
# The platforms a preview measures a reply against (notify.reply_limit, less the @handle an adapter adds).
PREVIEW_CHANNELS = ("x", "mastodon")


def allowed_placeholders(scope: str, key: str, pack_texts: Iterable[str] = ()) -> frozenset[str]:
    """The placeholders a template may use. A canned reply may also use any its pack text uses
    (`pack_texts`, every language's): a value the dispatcher types in, like {snow_status}."""
    if scope == ReplyScope.CANNED:
        named = set()
        for text in pack_texts:
            try:
                named.update(_fields(text))
            except ValidationFailed:
                continue
        return CANNED_PLACEHOLDERS | {n for n in named if re.fullmatch(r"[a-z_]+", n)}
    if key in _PLACEHOLDERS:
        return _PLACEHOLDERS[key]
    if key.startswith("default_note_"):  # a status's reason, put in as {note}: plain words
        return frozenset({"city"})
    if key.startswith("corrected_"):  # a sentence put in the "corrected" reply as its {note}
        return _TICKET - {"note"}
    return _TICKET


def _fields(text: str) -> list[str]:
    """The placeholder names in `text`, or ValidationFailed for a stray brace or a format spec."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValidationFailed(
            f"The template has a stray brace ({exc}); write a placeholder as {{name}}, "
            "and a brace itself as {{ or }}."
        ) from None
    names = []
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if spec or conversion:
            raise ValidationFailed(f"Write the placeholder {{{name}}} plainly, without ':' or '!'.")
        names.append(name)
    return names


def check_template(
    scope: str, key: str, text: str, title: str = "", pack_texts: Iterable[str] = ()
) -> tuple[str, str]:
    """The text (and a canned reply's title) as stored, or ValidationFailed with a sentence saying why."""
    text = (text or "").strip()
    title = " ".join((title or "").split())
    if not text:
        raise ValidationFailed(
            "The text is empty; to go back to the pack's wording use “Reset to the pack's text”."
        )
    if len(text) > MAX_TEMPLATE:
        raise ValidationFailed(f"The text is {len(text):,} characters; at most {MAX_TEMPLATE:,}.")
    if len(title) > MAX_TITLE:
        raise ValidationFailed(f"The title is {len(title)} characters; at most {MAX_TITLE}.")
    for what, value in (("text", text), ("title", title)):
        tag = _TAG_RE.search(value)
        if tag:
            raise ValidationFailed(
                f"The {what} contains the HTML tag {tag.group(0)!r}: replies are plain text on social "
                "media and would show it to residents as typed. Remove it."
            )
    allowed = allowed_placeholders(scope, key, pack_texts)
    unknown = sorted({n for n in _fields(text) if n not in allowed})
    if unknown:
        named = ", ".join("{" + n + "}" for n in unknown)
        can = ", ".join("{" + n + "}" for n in sorted(allowed)) or "none (plain text only)"
        raise ValidationFailed(f"Unknown placeholder {named} in {key}. Allowed placeholders: {can}.")
    count = _WORD_COUNTS.get(key) if scope == ReplyScope.REPLY else None
    if count is not None and len(text.split()) != count:
        raise ValidationFailed(
            f"{key} needs exactly {count} words separated by spaces; got {len(text.split())}."
        )
    return text, title


def _check_keys(scope: str, lang: str, key: str) -> None:
    if scope not in {s.value for s in ReplyScope}:
        raise ValidationFailed(f"Scope must be reply or canned; got {scope!r}.")
    if not _LANG_RE.match(lang or ""):
        raise ValidationFailed(f"{lang!r} is not a language code (like en, es, pt, ht).")
    if not _KEY_RE.match(key or ""):
        raise ValidationFailed(f"{key!r} is not a template name.")


# Reading ------------------------------------------------------------------------------------------
def load_overrides(session: Session) -> list[ReplyOverride]:
    return list(session.scalars(select(ReplyOverride).order_by(ReplyOverride.id)))


def _snapshot(rows: list[ReplyOverride]) -> tuple[tuple[str, str, str, str, str], ...]:
    return tuple((r.scope, r.lang, r.key, r.text, r.title) for r in rows)


# (id of the pack's templates, the rows) -> (those templates, merged): the identity is checked on a hit,
# so an id reused by another app's templates (tests make many apps) never returns another city's words.
_merged_cache: dict[tuple[int, tuple[Any, ...]], tuple[Any, dict[str, dict[str, Any]]]] = {}


def merge_templates(
    base: Mapping[str, Mapping[str, Any]], rows: list[ReplyOverride], city: str = ""
) -> dict[str, dict[str, Any]]:
    """The pack's reply templates with the rows of scope "reply" on top ({city} written in)."""
    merged = {lang: dict(texts) for lang, texts in base.items()}
    for r in rows:
        if r.scope == ReplyScope.REPLY:
            merged.setdefault(r.lang, {})[r.key] = r.text.replace(CITY_MARK, city) if city else r.text
    return merged


def with_overrides(session: Session, ctx: notify.ReplyContext, city: str = "") -> notify.ReplyContext:
    """The reply context the city speaks with now: the pack's templates and the admins' overrides."""
    rows = [r for r in load_overrides(session) if r.scope == ReplyScope.REPLY]
    if not rows:
        return ctx
    key = (id(ctx.templates), (city, *_snapshot(rows)))
    hit = _merged_cache.get(key)
    if hit is not None and hit[0] is ctx.templates:
        merged = hit[1]
    else:
        merged = merge_templates(ctx.templates, rows, city)
        if len(_merged_cache) > 16:  # a few contexts per process; an edit makes a new entry
            _merged_cache.clear()
        _merged_cache[key] = (ctx.templates, merged)
    return dataclasses.replace(ctx, templates=merged)


def canned_with_overrides(
    session: Session, canned: Mapping[str, Mapping[str, Canned]]
) -> dict[str, dict[str, Canned]]:
    """The pack's canned replies with the rows of scope "canned" on top."""
    merged = {lang: dict(by_key) for lang, by_key in canned.items()}
    for r in load_overrides(session):
        if r.scope != ReplyScope.CANNED:
            continue
        pack = (canned.get(r.lang) or {}).get(r.key) or (canned.get("en") or {}).get(r.key)
        title = r.title or (pack.title if pack else r.key)
        merged.setdefault(r.lang, {})[r.key] = Canned(r.key, r.lang, title, r.text)
    return merged


# Writing ------------------------------------------------------------------------------------------
def _row(session: Session, scope: str, lang: str, key: str) -> ReplyOverride | None:
    return session.scalar(
        select(ReplyOverride).where(
            ReplyOverride.scope == scope, ReplyOverride.lang == lang, ReplyOverride.key == key
        )
    )


def save_override(
    session: Session,
    scope: str,
    lang: str,
    key: str,
    text: str,
    *,
    title: str = "",
    pack_texts: Sequence[str] | None = None,
    acting: User | None,
) -> ReplyOverride:
    """Store an admin's wording of one template (checked first; nothing is written when it fails) and
    append its audit row. `pack_texts`: the pack's text of `key` in every language (none: the pack has no
    such template, refused; None: not checked)."""
    _check_keys(scope, lang, key)
    if pack_texts is not None and not pack_texts:
        raise NotFound(f"The city pack has no {scope} template {key!r}.")
    text, title = check_template(scope, key, text, title, pack_texts or ())
    row = _row(session, scope, lang, key)
    if row is None:
        row = ReplyOverride(scope=scope, lang=lang, key=key, text=text, title=title)
        session.add(row)
    row.text, row.title, row.updated_at = text, title, utcnow()
    row.updated_by_id = acting.id if acting is not None else None
    session.flush()
    data = {"scope": scope, "lang": lang, "key": key, "text": text, **({"title": title} if title else {})}
    record_admin_change(session, acting, AdminAction.REPLY_TEMPLATE_SAVED, row, data)
    return row


def reset_override(session: Session, scope: str, lang: str, key: str, *, acting: User | None) -> bool:
    """Go back to the pack's text (delete the override); False when there was none. Audited."""
    _check_keys(scope, lang, key)
    row = _row(session, scope, lang, key)
    if row is None:
        return False
    record_admin_change(
        session,
        acting,
        AdminAction.REPLY_TEMPLATE_RESET,
        row,
        {"scope": scope, "lang": lang, "key": key, "previous": row.text},
    )
    session.delete(row)
    session.flush()
    return True


# Preview ------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Preview:
    """A template rendered with a sample ticket: the text, its length per platform, what is wrong."""

    text: str = ""
    lengths: dict[str, int] = dataclasses.field(default_factory=dict)
    limits: dict[str, int] = dataclasses.field(default_factory=dict)
    warnings: list[str] = dataclasses.field(default_factory=list)
    error: str = ""


SAMPLE_PLACE = "Main St & Oak St"
SAMPLE_BETWEEN = "Main St between Oak St and Elm St"
SAMPLE_CANNED = {"handle": "resident", "snow_status": "parking ban in effect until 7 AM"}


def sample_ticket(
    service: Service | None, *, address: str = SAMPLE_PLACE, now: dt.datetime | None = None
) -> Ticket:
    """A ticket never stored, for the preview: a reference, the service, a place and an SLA due time."""
    now = now or utcnow()
    hours = service.sla_hours if service is not None else 72
    return Ticket(
        id=1234,
        service=service,
        address=address,
        street=address.split(" & ", maxsplit=1)[0],
        status="open",
        priority=0,
        sla_due_at=now + dt.timedelta(hours=hours),
        created_at=now,
    )


# The message a word or a fragment is previewed in: the reply residents would read it in.
_SHOWN_IN = {
    "expected_by": "ack",
    "date": "ack",
    "time": "ack",
    "months": "ack",
    "weekdays": "ack",
    "am_pm": "ack",
    "place_corner": "ack",
    "place_between": "ack",
    "staff_note_other": "assigned",
    "default_note_rejected": "rejected",
}


def preview_reply(
    ctx: notify.ReplyContext, lang: str, key: str, text: str, service: Service | None, city: str = ""
) -> Preview:
    """A reply template (or one of its words) rendered as a resident would get it about a sample ticket."""
    try:
        text, _ = check_template(ReplyScope.REPLY, key, text)
    except ValidationFailed as exc:
        return Preview(text=text, error=str(exc))
    text = text.replace(CITY_MARK, city) if city else text
    templates = {lang_: dict(t) for lang_, t in ctx.templates.items()}
    templates.setdefault(lang, {})[key] = text
    sample = dataclasses.replace(ctx, templates=templates)
    ticket = sample_ticket(service, address=SAMPLE_BETWEEN if key == "place_between" else SAMPLE_PLACE)
    shown = _SHOWN_IN.get(key, key)
    note = ""
    if key.startswith("corrected_"):
        shown, note = "corrected", notify.compose(sample, key, lang, ticket)
    elif key == "staff_note_other":
        note = text.replace("{language}", "English").replace("{note}", "A crew is scheduled for Tuesday.")
    elif key.startswith("default_note_"):
        shown, note = key.removeprefix("default_note_"), text
    if shown not in notify.FALLBACK and not any(shown in t for t in templates.values()):
        shown = "ack"
    extra = {"mentions": "@resident1 @resident2"} if shown in ("cluster", "digest") else None
    rendered = notify.compose(sample, shown, lang, None if shown == "digest" else ticket, note, extra=extra)
    return _measured(rendered)


class _Kept(dict[str, str]):
    """A value nobody knows yet stays "{name}" for the dispatcher to type (as the inbox leaves it)."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def preview_canned(text: str, key: str, values: Mapping[str, str], pack_texts: Iterable[str] = ()) -> Preview:
    """A canned reply filled in as the inbox would (the post's values and a sample snow status)."""
    try:
        text, _ = check_template(ReplyScope.CANNED, key, text, pack_texts=pack_texts)
    except ValidationFailed as exc:
        return Preview(text=text, error=str(exc))
    filled = _Kept({**SAMPLE_CANNED, **values})
    return _measured(" ".join(text.format_map(filled).split()))


def _measured(rendered: str) -> Preview:
    lengths, limits, warnings = {}, {}, []
    for channel in PREVIEW_CHANNELS:
        # Room for the "@handle " an adapter puts in front of a public reply (notify.SAFETY_HEADROOM).
        limit = notify.reply_limit(channel) - notify.SAFETY_HEADROOM
        length = weighted_length(rendered, notify.url_weight(channel))
        lengths[channel], limits[channel] = length, limit
        if length > limit:
            warnings.append(
                f"On {'X' if channel == 'x' else 'Mastodon'} this reply is {length} characters with the "
                f"sample ticket; {limit} fit beside the resident's @handle, so it will be shortened."
            )
    return Preview(text=rendered, lengths=lengths, limits=limits, warnings=warnings)
