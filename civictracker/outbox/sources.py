"""Deleted source posts: ask the platform whether a ticket's posts still exist; redact those that are gone."""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civictracker.channels.base import Channel, ChannelError
from civictracker.extensions import db
from civictracker.models import (
    Follower,
    InboundPost,
    MessageState,
    OutboundMessage,
    Reporter,
    Ticket,
    TicketEvent,
)
from civictracker.models.outbox import MESSAGE_TRANSITIONS, WAITING_STATES
from civictracker.models.ticket import OPEN_STATUSES
from civictracker.models.transitions import check_transition, values_of
from civictracker.models.types import utcnow
from civictracker.outbox.reach import dm_possible
from civictracker.runtime import job_context, runtime_of, settings_of

log = logging.getLogger(__name__)

EXISTS, DELETED, UNKNOWN, SKIPPED = "exists", "deleted", "unknown", "skipped"
WINDOW = dt.timedelta(days=30)  # only tickets opened this recently: older sources are not re-asked
RECHECK_AFTER = dt.timedelta(hours=6)  # a post seen alive is not asked about again before this
DELETED_NO_DM = "The post we were answering was deleted and its author cannot be sent a DM."
REDACTED_RAW = {"redacted": "The author deleted the source post; its content is no longer kept."}


def checkable_channels(settings: Any) -> set[str]:
    """Channels we can ask: the configured ones plus any with credentials (an X account fed by webhook)."""
    names = set(settings.channel_names)
    if settings.x_bearer_token or settings.x_access_token:
        names.add("x")
    if settings.mastodon_base_url and settings.mastodon_access_token:
        names.add("mastodon")
    return names


def _checkable(post: InboundPost) -> bool:
    # An X DM event id is not a tweet id: a tweet lookup would call every DM "not found", i.e. deleted.
    return not (post.channel == "x" and post.is_dm)


def ask_platform(
    channel: Channel, external_id: str, author_id: str | None = None
) -> tuple[str, ChannelError | None]:
    """EXISTS or DELETED as the platform says; UNKNOWN when it cannot say (down, rate-limited, refused).
    `author_id` is the reporter's platform id: Mastodon's 404 means deleted *or* hidden from us, and
    only the author's account tells which, also in a process that never read the post itself."""
    try:
        return (EXISTS if channel.post_exists(external_id, author_id=author_id) else DELETED), None
    except ChannelError as exc:
        log.warning("cannot check %s post %s: %s (left as is)", channel.name, external_id, exc)
        return UNKNOWN, exc


def reroute_thread(
    session: Session,
    settings: Any,
    channel: str,
    external_id: str,
    *,
    extra_reporters: frozenset[int] = frozenset(),
) -> set[int]:
    """The post `external_id` is gone: its author's updates go by DM where the platform lets us write to
    them; otherwise their follower row on that thread is closed and replies queued into it are cancelled.

    Never a new public post naming them: a resident who deleted their report chose to take it off their
    public timeline. Returns the reporters (of the thread, plus `extra_reporters`) who can be sent a DM.
    """
    followers = session.scalars(
        select(Follower).where(
            Follower.channel == channel,
            Follower.reply_to_external_id == external_id,
            Follower.active.is_(True),
        )
    ).all()
    queued = session.scalars(
        select(OutboundMessage).where(
            OutboundMessage.channel == channel,
            OutboundMessage.in_reply_to_id == external_id,
            OutboundMessage.state.in_(values_of(WAITING_STATES)),
            OutboundMessage.batch_key.is_(None),  # an unsettled platform call is settled by the sweep first
        )
    ).all()
    reporters = {f.reporter_id for f in followers} | {m.reporter_id for m in queued if m.reporter_id}
    reporters |= extra_reporters
    reachable = dm_possible(settings, channel, reporters)
    for follower in followers:
        if follower.reporter_id in reachable:
            follower.is_dm, follower.reply_to_external_id = True, None
            follower.visibility = "direct" if channel == "mastodon" else follower.visibility
        else:
            follower.active = False
    for message in queued:
        message.in_reply_to_id = None
        if message.reporter_id in reachable:
            message.is_dm = True
            message.visibility = "direct" if channel == "mastodon" else message.visibility
        else:
            message.state = check_transition(MESSAGE_TRANSITIONS, message.state, MessageState.CANCELLED)
            message.last_error = DELETED_NO_DM
    return reachable


def forget_gone_source(
    session: Session,
    settings: Any,
    channel: str,
    external_id: str,
    *,
    now: dt.datetime,
    extra_reporters: frozenset[int] = frozenset(),
) -> set[int]:
    """The platform said the post `external_id` is gone (the outbox learned it while answering): redact our
    copy now (check_sources may never revisit it: a closed or old ticket) and move its thread to DM where
    possible, else close it (reroute_thread). Returns who of the thread and `extra_reporters` can be DMed."""
    post = session.scalar(
        select(InboundPost).where(InboundPost.channel == channel, InboundPost.external_id == external_id)
    )
    if post is not None and _checkable(post):
        redact_deleted_source(session, post, now=now, settings=settings)  # reroutes the thread too
    # again for `extra_reporters` (and when we hold no copy): what the redaction moved is not found twice
    return reroute_thread(session, settings, channel, external_id, extra_reporters=extra_reporters)


_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


def _unquote(text: str) -> str:
    """A reason with the post's own words ("'hampshre' could be ...", "found nothing for '...'") taken out."""
    return _QUOTED.sub("'…'", text)


def redact_ticket_triage(session: Session, ticket: Ticket, post: InboundPost) -> None:
    """The ticket's triage record was copied from the post that created it: its reasons quote that post's
    words ("keywords for pothole: ...", "words for ...: <its words>"). They go when that post is the one
    deleted, or when we cannot tell which post created the ticket (they only explain triage to staff and
    are regenerable). Quoted words in the location reasons go whichever post they came from (a later reply
    may have set the location). The verdicts (service, urgency, the matched place) stay."""
    first = session.scalar(select(func.min(InboundPost.id)).where(InboundPost.ticket_id == ticket.id))
    triage = dict(ticket.triage or {})
    if first is None or first == post.id:
        triage.pop("reasons", None)
    location = triage.get("location")
    if isinstance(location, dict) and isinstance(location.get("reason"), str):
        triage["location"] = {**location, "reason": _unquote(location["reason"])}
    if triage != ticket.triage:
        ticket.triage = triage  # a new dict: the JSON column sees the change
    if ticket.geocode_reason:
        ticket.geocode_reason = _unquote(ticket.geocode_reason)


def redact_deleted_source(
    session: Session, post: InboundPost, *, now: dt.datetime, settings: Any
) -> TicketEvent | None:
    """Forget what the author deleted; keep the row's ids, channel, times and processing record.

    Text, raw payload and geotag are the author's content and go. The thread we would answer in is
    gone too: its author is answered by DM from now on where possible, else no longer (reroute_thread).
    The ticket's public summary is our own words and stays; the ticket keeps its status and its other
    followers. Returns the internal event, or None when the
    post was already redacted.
    """
    if post.redacted_at is not None:
        return None
    post.text = ""
    post.raw = dict(REDACTED_RAW)
    post.geotag_lat = post.geotag_lon = None
    triage = (post.stages or {}).get("triage")
    if isinstance(triage, dict) and "reasons" in triage:
        # the reasons quote words of the post ("words: ..."); the verdicts (service, urgency) stay
        post.stages = {**post.stages, "triage": {k: v for k, v in triage.items() if k != "reasons"}}
    post.redacted_at = now
    post.source_checked_at = now
    by_dm = bool(reroute_thread(session, settings, post.channel, post.external_id))
    ticket = session.get(Ticket, post.ticket_id) if post.ticket_id else None
    if ticket is None:
        return None
    redact_ticket_triage(session, ticket, post)
    from civictracker.services.tickets import Actor, EventNote, record_event

    # An internal note: the public record did not change, so Open311's updated_datetime must not move.
    updated_at = ticket.updated_at
    event = record_event(
        session,
        ticket,
        "source_deleted",
        EventNote(
            internal=(
                f"The author deleted source post {post.id} ({post.channel}); its text was redacted. "
                + (
                    "Their updates now go by direct message."
                    if by_dm
                    else "They cannot be reached by direct message: "
                    "no more replies to them about this ticket."
                )
            ),
            data={"post_id": post.id, "answered_by_dm": by_dm},
        ),
        is_public=False,
        actor=Actor(label="intake"),
        now=now,
    )
    ticket.updated_at = updated_at
    return event


def _apply(session: Session, settings: Any, verdicts: dict[int, str], now: dt.datetime) -> None:
    for post_id, verdict in verdicts.items():
        post = session.get(InboundPost, post_id)
        if post is None:
            continue
        if verdict == EXISTS:
            post.source_checked_at = now
        elif verdict == DELETED:
            redact_deleted_source(session, post, now=now, settings=settings)
        # UNKNOWN: not marked as checked, so the next run asks first about what this one could not


def _session() -> Session:
    return db.session  # type: ignore[return-value]  # the scoped session proxies a Session


def _channel_for(app: Any, name: str) -> Channel:

    return runtime_of(app).channels.get(name)


def check_source(post_id: int) -> str:
    """Job: ask the platform about one post (any ticket state); redact it when the source is gone."""

    with job_context() as app:
        post = db.session.get(InboundPost, post_id)
        if (
            post is None
            or post.redacted_at is not None
            or not _checkable(post)
            or post.channel not in checkable_channels(settings_of(app))
        ):
            db.session.rollback()
            return SKIPPED
        channel_name, external_id = post.channel, post.external_id
        author = db.session.get(Reporter, post.reporter_id) if post.reporter_id is not None else None
        author_id = author.external_id if author is not None else None
        db.session.rollback()  # hold no transaction while the platform answers
        verdict, _ = ask_platform(_channel_for(app, channel_name), external_id, author_id)
        now = utcnow()
        _apply(_session(), settings_of(app), {post_id: verdict}, now)
        db.session.commit()
        return verdict


def check_sources(
    limit: int = 25, *, window: dt.timedelta = WINDOW, recheck_after: dt.timedelta = RECHECK_AFTER
) -> dict[str, int]:
    """Job: check the source posts of recent open tickets, at most `limit` platform calls a run.

    Never-checked posts go first, then the longest unchecked. A platform that fails (down, 5xx, rate
    limited, refused) makes its posts "unknown", never "deleted", and the rest of that channel waits for
    the next run rather than spending calls that would most likely fail the same way.
    """

    counts = {EXISTS: 0, DELETED: 0, UNKNOWN: 0}
    with job_context() as app:
        now = utcnow()
        names = sorted(checkable_channels(settings_of(app)))
        rows = db.session.execute(
            select(InboundPost.id, InboundPost.channel, InboundPost.external_id, Reporter.external_id)
            .join(Ticket, Ticket.id == InboundPost.ticket_id)
            .outerjoin(Reporter, Reporter.id == InboundPost.reporter_id)
            .where(
                Ticket.status.in_(values_of(OPEN_STATUSES)),
                Ticket.created_at >= now - window,
                InboundPost.redacted_at.is_(None),
                InboundPost.channel.in_(names),
                ~((InboundPost.channel == "x") & InboundPost.is_dm.is_(True)),
                (InboundPost.source_checked_at.is_(None))
                | (InboundPost.source_checked_at < now - recheck_after),
            )
            .order_by(InboundPost.source_checked_at.asc().nulls_first(), InboundPost.id.desc())
            .limit(max(0, limit))
        ).all()
        db.session.rollback()  # hold no transaction while the platforms answer
        verdicts: dict[int, str] = {}
        stopped: set[str] = set()
        for post_id, channel_name, external_id, author_id in rows:
            if channel_name in stopped:
                verdicts[post_id] = UNKNOWN
                continue
            verdict, error = ask_platform(_channel_for(app, channel_name), external_id, author_id)
            verdicts[post_id] = verdict
            if error is not None:
                stopped.add(channel_name)
        for verdict in verdicts.values():
            counts[verdict] += 1
        _apply(_session(), settings_of(app), verdicts, utcnow())
        db.session.commit()
    if counts[DELETED]:
        log.info("check_sources: %s source post(s) deleted and redacted", counts[DELETED])
    return counts
