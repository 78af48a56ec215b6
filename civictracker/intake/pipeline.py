"""From one stored post to the right ticket: thread, triage, locate, dedupe, create or merge, reply."""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, inspect, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civictracker.channels.base import IncomingPost
from civictracker.database import IdAllocator
from civictracker.geo import spatial
from civictracker.geo.gazetteer import Gazetteer
from civictracker.geo.remote import RemoteGeocoder
from civictracker.geo.types import GeocodeResult
from civictracker.models import (
    Follower,
    GeocodeStatus,
    InboundPost,
    MessageKind,
    OutboundMessage,
    PostOutcome,
    PostState,
    Reporter,
    Service,
    Ticket,
    TicketStatus,
)
from civictracker.models.report import DONE_STATES, POST_TRANSITIONS
from civictracker.models.ticket import ACTIVE_STATUSES, RESOLVED_STATUSES
from civictracker.models.transitions import check_transition, values_of
from civictracker.models.types import utcnow
from civictracker.services import notify
from civictracker.services import tickets as ticket_service
from civictracker.services.geocoding import locate_text
from civictracker.triage.classify import TriageResult, triage_text
from civictracker.triage.lang import is_opt_out
from civictracker.triage.reply import classify_reply
from civictracker.triage.rules import HAZARD_KINDS

log = logging.getLogger(__name__)
S = TicketStatus
PS, PO, MK = PostState, PostOutcome, MessageKind  # short: _finish and _reply calls stay one line

# Two precise reports (an address or a corner) farther apart than this are two problems, whatever the radius:
# two potholes 40 m apart on the same block stay two tickets.
PRECISE = {"rooftop", "interpolated", "intersection"}
PRECISE_SAME_PLACE_M = 30.0
MAX_STORED_TEXT = 20_000  # a post longer than any platform allows is kept whole up to this, and flagged
# A post that names only a street ("no plow on Fayerweather St") is acted on at street precision: the crew
# drives the street, street-wide services dedupe per street, the summary says "on <street>". The geocoder
# scores such a match below services.geocoding.MIN_CONFIDENCE ("not where on it"): 0.45 typed, 0.41 bare,
# 0.33 misspelt, 0.35 when a street more than twice as long wins over a namesake ("Gore St" over "Gore Street
# Pl"). A name it cannot decide between ("could be ...") is not found at all and is asked back.
STREET_MIN_CONFIDENCE = 0.3
DEDUPE_STATUSES = values_of(ACTIVE_STATUSES)
CHANNEL_LABEL = {
    ("x", False): "x_mention",
    ("x", True): "x_dm",
    ("mastodon", False): "mastodon",
    ("mastodon", True): "mastodon_dm",
    ("replay", False): "replay",
    ("replay", True): "replay_dm",
}


@dataclass(frozen=True)
class PipelineEnv:
    """What the pipeline needs from the app, passed explicitly (no request or app globals)."""

    gazetteer: Gazetteer
    replies: notify.ReplyContext
    services: list[dict[str, Any]]
    remote: RemoteGeocoder | None = None  # the city's remote fallback (CIVICTRACKER_GEOCODER_REMOTE)
    dedupe_radius_m: float = 150.0
    dedupe_window_days: int = 30
    blocked: frozenset[str] = field(default_factory=frozenset)
    reply_to_non_requests: bool = False


@dataclass
class Analysis:
    """The database-free judgement about one post (also what `flask civictracker triage` prints)."""

    triage: TriageResult
    location: GeocodeResult | None
    usable_location: bool
    reply_intent: str | None = None
    reply_reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        loc = self.location
        return {
            "is_request": self.triage.is_request,
            "service_code": self.triage.service_code if self.triage.is_request else None,
            "urgent": self.triage.urgent,
            "lang": self.triage.lang,
            "lat": loc.lat if loc and self.usable_location else None,
            "lon": loc.lon if loc and self.usable_location else None,
            "precision": loc.precision if loc and self.usable_location else None,
            "needs_location": self.triage.is_request and not self.usable_location,
            "reply_intent": self.reply_intent,
            "reasons": self.triage.reasons
            + (
                [f"location: {loc.matched} ({loc.precision}, {loc.confidence:.2f})"]
                if loc and loc.found
                else []
            )
            + ([f"location: {loc.reason}"] if loc and loc.reason and not self.usable_location else [])
            + [f"reply: {r}" for r in self.reply_reasons],
        }


def clean_text(text: object) -> str:
    """Text every backend can store: valid UTF-8, no NUL (PostgreSQL refuses it)."""
    s = text if isinstance(text, str) else ("" if text is None else str(text))
    s = s.encode("utf-8", "replace").decode("utf-8")
    return s.replace("\x00", "\ufffd")


def _clean_json(raw: dict[str, Any]) -> dict[str, Any]:
    try:
        dumped = json.dumps(raw, default=str, ensure_ascii=True)
    except (TypeError, ValueError):
        return {"unserializable": repr(raw)[:2000]}
    result: dict[str, Any] = json.loads(dumped.replace("\\u0000", "\\ufffd"))
    return result


def usable_location(loc: GeocodeResult | None, usable: bool) -> bool:
    """Good enough to open a ticket on: the geocoder's verdict, or one exact, unambiguous street."""
    if usable or loc is None or not loc.found:
        return usable
    return loc.precision == "street" and loc.confidence >= STREET_MIN_CONFIDENCE


def analyze_post(
    text: str,
    *,
    channel_kind: str,
    gazetteer: Gazetteer,
    services: list[dict[str, Any]] | None = None,
    geotag: tuple[float, float] | None = None,
    private: bool | None = None,
    remote: RemoteGeocoder | None = None,
) -> Analysis:
    """Triage, locate and (for replies) classify intent, without touching the database.

    `private` (default: a DM) keeps the text off any remote geocoder.
    """
    text = clean_text(text)[:MAX_STORED_TEXT]
    private = channel_kind == "dm" if private is None else private
    triage = triage_text(text, channel_kind=channel_kind, services=services)
    location, usable = (
        locate_text(gazetteer, text, geotag, remote, private=private) if text.strip() else (None, False)
    )
    usable = usable_location(location, usable)
    intent: str | None = None
    reasons: list[str] = []
    if channel_kind == "reply":
        intent, reasons = classify_reply(text)
    return Analysis(
        triage=triage, location=location, usable_location=usable, reply_intent=intent, reply_reasons=reasons
    )


# --- receive ---------------------------------------------------------------------------------------------


def receive_post(
    session: Session, incoming: IncomingPost, *, now: dt.datetime | None = None
) -> tuple[InboundPost, bool]:
    """Store the raw post before anything can fail; a second delivery returns the stored row."""
    same = (InboundPost.channel == incoming.channel) & (InboundPost.external_id == external_id_of(incoming))
    existing = session.scalar(select(InboundPost).where(same))
    if existing is not None:
        return existing, False
    post = _new_post(incoming, now)
    try:
        with session.begin_nested():
            session.add(post)
    except IntegrityError:  # a concurrent delivery stored it first
        stored = session.scalar(select(InboundPost).where(same))
        if stored is None:  # the unique key fired for a row we cannot see: say so, do not guess
            raise
        return stored, False
    return post, True


def external_id_of(incoming: IncomingPost) -> str:
    """The platform id as stored (cleaned, bounded): every lookup uses this same form, so a redelivery of
    an odd id (a NUL, 300 characters) finds the row stored the first time."""
    return clean_text(incoming.external_id)[:200]


def receive_posts(
    session: Session, incomings: list[IncomingPost], *, now: dt.datetime | None = None
) -> list[tuple[InboundPost, bool]]:
    """receive_post for a page of posts (a poll): one lookup per channel and one INSERT for the new ones.

    The same guarantees: a post already stored is returned as it is, and if a concurrent delivery
    stored one of the new ones first, the savepoint is rolled back and the page is received one post
    at a time, which settles each conflict on its own.
    """
    stored: dict[tuple[str, str], InboundPost] = {}
    for channel in {i.channel for i in incomings}:
        ids = [external_id_of(i) for i in incomings if i.channel == channel]
        for row in session.scalars(
            select(InboundPost).where(InboundPost.channel == channel, InboundPost.external_id.in_(ids))
        ):
            stored[(row.channel, row.external_id)] = row
    results: list[tuple[InboundPost, bool]] = []
    new: list[InboundPost] = []
    for incoming in incomings:
        key = (incoming.channel, external_id_of(incoming))
        if key in stored:
            results.append((stored[key], False))  # stored before, or earlier in this page
            continue
        post = stored[key] = _new_post(incoming, now)
        new.append(post)
        results.append((post, True))
    if not new:
        return results
    try:
        with session.begin_nested():
            session.add_all(new)
    except IntegrityError:
        return [receive_post(session, incoming, now=now) for incoming in incomings]
    return results


VISIBILITY_KEY = "_visibility"  # in InboundPost.raw: the post's visibility as the channel read it
PRIVATE_VISIBILITIES = {"private", "direct"}  # Mastodon followers-only and direct posts


def post_visibility(post: InboundPost) -> str | None:
    """The post's platform visibility (Mastodon: public, unlisted, private, direct; X: None)."""
    raw = post.raw or {}
    nested = raw.get("status")
    status = nested if isinstance(nested, dict) else {}
    value = raw.get(VISIBILITY_KEY) or raw.get("visibility") or status.get("visibility")
    return str(value) if value else None


def is_private_post(post: InboundPost) -> bool:
    """A DM, or a post only the author's followers see: its words and the author stay out of anything
    public (block-level place, never named in a public reply, never sent to a remote geocoder)."""
    return post.is_dm or post_visibility(post) in PRIVATE_VISIBILITIES


def _new_post(incoming: IncomingPost, now: dt.datetime | None) -> InboundPost:
    text = clean_text(incoming.text)
    return InboundPost(
        channel=incoming.channel,
        external_id=external_id_of(incoming),
        kind=incoming.kind if incoming.kind in {"mention", "dm", "reply"} else "mention",
        conversation_id=incoming.conversation_id,
        in_reply_to_id=incoming.in_reply_to_id,
        author_id=clean_text(incoming.author_id)[:200],
        author_handle=clean_text(incoming.author_handle)[:200],
        is_dm=incoming.is_dm,
        text=text[:MAX_STORED_TEXT],
        lang=incoming.lang,
        geotag_lat=incoming.lat,
        geotag_lon=incoming.lon,
        posted_at=incoming.created_at,
        received_at=now or utcnow(),
        raw=_clean_json(
            {
                **incoming.raw,
                **({"_text_truncated_from": len(text)} if len(text) > MAX_STORED_TEXT else {}),
                # the channel's reading of the visibility (Mastodon keeps it inside a notification's status)
                **({VISIBILITY_KEY: incoming.visibility} if incoming.visibility else {}),
            }
        ),
        state=PS.RECEIVED,
    )


# --- process ---------------------------------------------------------------------------------------------


def process_post(
    session: Session,
    post_id: int,
    env: PipelineEnv,
    *,
    now: dt.datetime | None = None,
    loaded: tuple[InboundPost, Reporter | None] | None = None,
) -> InboundPost:
    """Run one stored post through the pipeline; processing it twice changes nothing.

    `loaded` is the post and its reporter as `load_posts` read them for a page (no query of its own).
    """
    now = now or utcnow()
    session.info[_RUN] = PostRun()  # per post: a long-lived session must not keep every follower alive
    found = loaded or load_posts(session, [post_id]).get(post_id)
    if found is None:
        raise LookupError(f"inbound post {post_id} does not exist")
    post, reporter = found
    if post.state in DONE_STATES:
        return post
    reporter = _get_reporter(session, post, reporter)
    stages: dict[str, Any] = {}
    analysis = _route(session, post, reporter, stages, env, now)
    # The post's own bookkeeping is assigned last, next to its outcome (_finish): assigned earlier, each
    # flush on the way (the new ticket's id, the follower's) would write the post row once more.
    post.attempts += 1
    post.reporter_id = reporter.id
    if stages:
        post.stages = stages
    if analysis is not None:
        post.lang = post.lang or analysis.triage.lang
    return post


def load_posts(session: Session, post_ids: list[int]) -> dict[int, tuple[InboundPost, Reporter | None]]:
    """Posts by id with their authors' reporter rows (None if new), in one statement.

    On PostgreSQL the posts are locked (two workers never process the same post at once), in id order, so
    two workers given overlapping pages wait for each other instead of deadlocking.
    """
    stmt = (
        select(InboundPost, Reporter)
        .outerjoin(
            Reporter,
            (Reporter.channel == InboundPost.channel) & (Reporter.external_id == InboundPost.author_id),
        )
        .where(InboundPost.id.in_(post_ids))
        .order_by(InboundPost.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=InboundPost)
    return {row[0].id: (row[0], row[1]) for row in session.execute(stmt)}


def thread_ids(post: InboundPost) -> list[str]:
    """The platform ids of the posts this one answers: the one it replies to and its conversation's."""
    return [i for i in (post.in_reply_to_id, post.conversation_id) if i]


def unprocessed_parents(
    session: Session, loaded: dict[int, tuple[InboundPost, Reporter | None]]
) -> list[int]:
    """Stored posts that posts of this page answer, not processed yet and not in the page.

    Processed first, in the same page, they give their replies a thread to attach to: a reply handled
    before the post it answers would be taken for a new report (a resident adding a detail a moment
    later, in the next poll page, while a retry or another worker still holds the first).
    """
    wanted: dict[str, set[str]] = {}
    for post, _ in loaded.values():
        wanted.setdefault(post.channel, set()).update(thread_ids(post))
    parents: list[int] = []
    for channel, external_ids in wanted.items():
        if not external_ids:
            continue
        parents += session.scalars(
            select(InboundPost.id).where(
                InboundPost.channel == channel,
                InboundPost.external_id.in_(sorted(external_ids)),
                InboundPost.state == PS.RECEIVED,
                InboundPost.id.not_in(list(loaded)),
            )
        )
    return sorted(parents)


def add_new_reporters(session: Session, loaded: dict[int, tuple[InboundPost, Reporter | None]]) -> None:
    """Reporter rows for the new authors of a page (as `load_posts` read it), written in one flush.

    One savepoint for all instead of one each. If a concurrent worker created one of them first, the
    savepoint fails and each post creates its own in `_get_reporter`, which settles each conflict.
    """
    new: dict[tuple[str, str], Reporter] = {}
    for post, reporter in loaded.values():
        key = (post.channel, post.author_id)
        if reporter is None and post.state not in DONE_STATES and key not in new:
            new[key] = _new_reporter(post)
    if not new:
        return
    try:
        with session.begin_nested():
            session.add_all(new.values())
    except IntegrityError:
        return
    page_cache(session).reporters.update(new)


def _route(
    session: Session,
    post: InboundPost,
    reporter: Reporter,
    stages: dict[str, Any],
    env: PipelineEnv,
    now: dt.datetime,
) -> Analysis | None:
    """Decide and act on one post (ending in _finish); fills `stages`; the analysis, if one was made."""
    if reporter.blocked or _is_blocked(post, env):
        _finish(
            post, PS.IGNORED, PO.BLOCKED, "The account is blocked; the post is stored, not ticketed.", now
        )
        return None
    if is_opt_out(post.text):
        reporter.opted_out = True
        _finish(post, PS.PROCESSED, PO.OPTED_OUT, "The resident asked for no more replies.", now)
        return None

    channel_kind = "reply" if (post.in_reply_to_id or post.kind == "reply") else post.kind
    geotag = (
        (post.geotag_lat, post.geotag_lon)
        if post.geotag_lat is not None and post.geotag_lon is not None
        else None
    )
    analysis = analyze_post(
        post.text,
        channel_kind=channel_kind,
        gazetteer=env.gazetteer,
        services=env.services,
        geotag=geotag,
        private=is_private_post(post),
        remote=env.remote,
    )
    reporter.lang = analysis.triage.lang if analysis.triage.lang in env.replies.templates else reporter.lang
    stages.update(triage={**_triage_summary(analysis.triage)}, locate=_loc_summary(analysis))

    # (autoflush on: a reply may answer a post earlier in this page, whose rows are not written yet)
    thread_ticket = _thread_ticket(session, post)
    if thread_ticket is not None:
        _handle_thread_reply(session, post, reporter, thread_ticket, analysis, stages, env, now)
        return analysis
    _handle_new_report(session, post, reporter, analysis, env, now)
    return analysis


def _handle_new_report(
    session: Session,
    post: InboundPost,
    reporter: Reporter,
    analysis: Analysis,
    env: PipelineEnv,
    now: dt.datetime,
) -> InboundPost:
    triage = analysis.triage
    if not triage.is_request:
        return _finish(
            post,
            PS.PROCESSED,
            PO.NOT_REQUEST.with_detail(triage.kind),
            f"Not a service request ({triage.kind}): {'; '.join(triage.reasons[:3])}",
            now,
        )
    with session.no_autoflush:
        service = _service_for(session, triage.service_code)
    if service is None:
        return _finish(
            post, PS.FAILED, PO.NO_SERVICE, f"Triage chose an unknown service {triage.service_code!r}.", now
        )

    if not analysis.usable_location:
        ticket = _create(session, post, reporter, service, analysis, env, now, status=S.NEEDS_LOCATION)
        _reply(session, env, ticket, post, reporter, MK.ASK_LOCATION, now, key_prefix="ask", safety=True)
        reason = (
            analysis.location.reason
            if analysis.location and analysis.location.reason
            else "no location in the post"
        )
        return _finish(
            post,
            PS.PROCESSED,
            PO.ASK_BACK,
            f"Location missing or unsure ({reason}); asked in thread.",
            now,
            ticket,
        )

    loc = analysis.location
    assert loc is not None and loc.lat is not None and loc.lon is not None
    with session.no_autoflush:
        duplicate = find_duplicate(session, service, loc, env, now)
    if duplicate is not None:
        _add_report(session, duplicate, post, reporter, triage, now)
        _reply(session, env, duplicate, post, reporter, MK.MERGED, now, safety=True)
        return _finish(
            post,
            PS.PROCESSED,
            PO.MERGED,
            f"Same {service.code} as {duplicate.ref} ({loc.matched}).",
            now,
            duplicate,
        )
    ticket = _create(session, post, reporter, service, analysis, env, now, status=S.OPEN)
    _reply(session, env, ticket, post, reporter, MK.ACK, now, safety=True)
    return _finish(
        post, PS.PROCESSED, PO.CREATED, f"New {service.code} ticket at {loc.matched}.", now, ticket
    )


def _finish(
    post: InboundPost,
    state: PostState,
    outcome: str,
    reason: str,
    now: dt.datetime,
    ticket: Ticket | None = None,
) -> InboundPost:
    post.state = check_transition(POST_TRANSITIONS, post.state, state)
    post.outcome = outcome
    post.reason = reason
    post.error = None if state != PS.FAILED else reason
    post.processed_at = now
    if ticket is not None:
        post.ticket_id = ticket.id
    return post


def _triage_summary(t: TriageResult) -> dict[str, Any]:
    return {
        "is_request": t.is_request,
        "service_code": t.service_code,
        "urgent": t.urgent,
        "hazards": list(t.hazards),
        "lang": t.lang,
        "kind": t.kind,
        "confidence": round(t.confidence, 3),
        "reasons": t.reasons[:8],
    }


def _loc_summary(a: Analysis) -> dict[str, Any]:
    if a.location is None:
        return {"found": False, "reason": "empty text"}
    return {**a.location.to_dict(), "usable": a.usable_location}


def _get_reporter(session: Session, post: InboundPost, reporter: Reporter | None) -> Reporter:
    """The author's reporter row: `reporter` as loaded with the post, or a new one."""
    page = page_cache(session)
    key = (post.channel, post.author_id)
    earlier = page.reporters.get(key)  # created for an earlier post of this page
    if reporter is None and earlier is not None and earlier in session:  # (and not rolled back)
        reporter = earlier
    if reporter is None:
        reporter = _new_reporter(post)
        try:
            with session.begin_nested():
                session.add(reporter)
        except IntegrityError:
            reporter = session.scalar(
                select(Reporter).where(
                    Reporter.channel == post.channel, Reporter.external_id == post.author_id
                )
            )
            assert reporter is not None
        page.reporters[key] = reporter
    elif post.author_handle and reporter.handle != post.author_handle:
        reporter.handle = post.author_handle
    return reporter


def _new_reporter(post: InboundPost) -> Reporter:
    return Reporter(channel=post.channel, external_id=post.author_id, handle=post.author_handle)


def _is_blocked(post: InboundPost, env: PipelineEnv) -> bool:
    handle = post.author_handle.lower().lstrip("@")
    return bool(env.blocked & {f"{post.channel}:{post.author_id}", handle, f"@{handle}"})


def _service_for(session: Session, code: str | None) -> Service | None:
    if not code:
        return None
    page = page_cache(session)
    services = page.services
    if services is None:  # the active catalog, read once per page
        services = page.services = {
            service.code: service
            for service in session.scalars(select(Service).where(Service.active.is_(True)))
        }
    return services.get(code)


def is_house_location(loc: GeocodeResult) -> bool:
    """A house number was given (whatever precision it was placed at) or a point found at a door: in a DM
    that may be the resident's home, so the public sees the block and staff the door."""
    return loc.kind == "address" or loc.precision in {"rooftop", "interpolated"}


def public_summary(service: Service, loc: GeocodeResult | None, *, private: bool) -> str:
    """The public description of a social report, in our words: never the post's text."""
    if loc is None or not loc.found:
        return f"{service.name}; location requested from the resident."
    place = (loc.street or "the area") if private else (loc.matched or loc.street or "the area")
    prep = "on" if loc.precision in {"street", "segment"} else "at" if loc.precision in PRECISE else "near"
    return f"{service.name} reported {prep} {place}."


def _create(
    session: Session,
    post: InboundPost,
    reporter: Reporter,
    service: Service,
    analysis: Analysis,
    env: PipelineEnv,
    now: dt.datetime,
    *,
    status: TicketStatus,
) -> Ticket:
    loc = analysis.location if analysis.usable_location else None
    # A DM naming a house number may be the resident's home: the public sees the block, staff the door.
    private = is_private_post(post) and loc is not None and is_house_location(loc)
    page = page_cache(session)
    ticket = ticket_service.create_ticket(
        session,
        service,
        ticket_id=page.ticket_ids.take() if page.ticket_ids is not None else None,
        follower_count=1,  # the reporter, followed below
        status=status,
        summary=public_summary(service, loc, private=private),
        location_text=(loc.matched or "") if loc else "",
        lat=loc.lat if loc else None,
        lon=loc.lon if loc else None,
        precision=loc.precision if loc else None,
        confidence=loc.confidence if loc else None,
        address=(loc.matched or "") if loc else "",
        street=loc.street if loc else None,
        segment_id=loc.segment_id if loc else None,
        # a private place keeps no line: the public sees the block, and staff the door, not a street span
        line=[(x, y) for x, y in loc.line] if loc and loc.line and not private else None,
        private_location=private,  # create_ticket then sets the public point at block level
        urgent=analysis.triage.urgent,
        lang=analysis.triage.lang,
        source_channel=CHANNEL_LABEL.get((post.channel, post.is_dm), post.channel),
        triage={**_triage_summary(analysis.triage), "location": _loc_summary(analysis)},
        actor_label="intake",
        now=now,
    )
    if loc is None:
        ticket.geocode_status = (
            GeocodeStatus.FAILED if analysis.location and analysis.location.reason else GeocodeStatus.PENDING
        )
        ticket.geocode_reason = analysis.location.reason if analysis.location else "no text"
    post_run(session).tickets.add(ticket.id)
    page.new_tickets.append(ticket)
    _follow(session, ticket, post, reporter, new_ticket=True)
    return ticket


@dataclass
class PostRun:
    """What processing one post created in this transaction, so the steps after it need no lookups."""

    tickets: set[int] = field(default_factory=set)  # ids of the tickets it created
    messages: list[OutboundMessage] = field(default_factory=list)  # replies it queued (or found queued)


_RUN = "civictracker.post_run"  # session.info key; process_post starts a fresh one for every post


@dataclass
class PageCache:
    """What the posts of one page (one job, one transaction) share: read once, not once per post."""

    services: dict[str, Service] | None = None  # active services by code
    reporters: dict[tuple[str, str], Reporter] = field(default_factory=dict)  # created by this page
    # (ticket id, reporter id): followers this page created or read
    followers: dict[tuple[int, int], Follower] = field(default_factory=dict)
    # Ticket ids handed out before the INSERT (the page job holds the write lock): a new ticket then waits
    # for the page's next flush. None: each new ticket is flushed at once, for its id.
    ticket_ids: IdAllocator | None = None
    new_tickets: list[Ticket] = field(default_factory=list)  # created by this page, in order


_PAGE = "civictracker.page_cache"  # session.info key; start_page begins a fresh one for every job


def start_page(session: Session) -> PageCache:
    """Forget the previous job's page: a catalog change or a rolled-back reporter is never reused."""
    page = session.info[_PAGE] = PageCache()
    return page


def page_cache(session: Session) -> PageCache:
    page = session.info.get(_PAGE)
    return page if isinstance(page, PageCache) else start_page(session)


def post_run(session: Session) -> PostRun:
    """The record of the post being (or last) processed in this session."""
    run = session.info.get(_RUN)
    if run is None:
        run = session.info[_RUN] = PostRun()
    assert isinstance(run, PostRun)
    return run


def _find_follower(session: Session, ticket: Ticket, reporter: Reporter) -> Follower | None:
    """The reporter's follower row on this ticket: one this page created or read, else from the table."""
    followers = page_cache(session).followers
    follower = followers.get((ticket.id, reporter.id))
    if (
        follower is not None
        and follower in session  # not rolled back with its post
        and (follower.ticket_id, follower.reporter_id) == (ticket.id, reporter.id)  # not merged away since
    ):
        return follower
    # Without an autoflush: the followers this page created are in `followers`, and merge_tickets writes
    # the ones it moves at once; the rest of the page's rows wait for one flush.
    with session.no_autoflush:
        follower = session.scalar(
            select(Follower).where(Follower.ticket_id == ticket.id, Follower.reporter_id == reporter.id)
        )
    if follower is not None:
        followers[(ticket.id, reporter.id)] = follower
    return follower


def _follow(
    session: Session, ticket: Ticket, post: InboundPost, reporter: Reporter, *, new_ticket: bool = False
) -> tuple[Follower, bool]:
    """The reporter's follower row on this ticket, created if missing; (follower, created)."""
    # nobody follows a ticket created a moment ago: skip the lookup
    follower = None if new_ticket else _find_follower(session, ticket, reporter)
    if follower is not None:
        return follower, False
    follower = Follower(
        ticket_id=ticket.id,
        reporter_id=reporter.id,
        post_id=post.id,
        channel=post.channel,
        is_dm=post.is_dm,
        reply_to_external_id=post.external_id,
        conversation_id=post.conversation_id,
        visibility=post_visibility(post),
        lang=reporter.lang,
        active=True,  # read before the flush that would apply the column default
    )
    follower.reporter = reporter
    session.add(follower)  # flushed with its reply (OutboundMessage.follower): no flush of its own
    page_cache(session).followers[(ticket.id, reporter.id)] = follower
    return follower, True


def _add_report(
    session: Session,
    ticket: Ticket,
    post: InboundPost,
    reporter: Reporter,
    triage: TriageResult,
    now: dt.datetime,
) -> None:
    _, is_new = _follow(session, ticket, post, reporter)
    ticket.report_count += 1
    if is_new:
        ticket.follower_count += 1
    if triage.urgent and ticket.priority == 0:
        ticket.priority = 1
    known = notify.ticket_hazards(ticket)
    if any(h not in known for h in triage.hazards):
        # The ticket's first replies give the most serious hazard any of its reports names. A new JSON value,
        # not an in-place change: the column must see it to write it.
        hazards = [k for k in HAZARD_KINDS if k in known or k in triage.hazards]
        ticket.triage = {**(ticket.triage or {}), "hazards": hazards}
    ticket_service.record_event(
        session,
        ticket,
        "report",
        internal_note=f"Another report ({post.channel}, post {post.id}).",
        actor_label="intake",
        data={"post_id": post.id, "new_follower": is_new},
        now=now,
        flush=False,  # no reply is keyed on this event
    )


def _reply(
    session: Session,
    env: PipelineEnv,
    ticket: Ticket,
    post: InboundPost,
    reporter: Reporter,
    kind: MessageKind,
    now: dt.datetime,
    *,
    key_prefix: str | None = None,
    safety: bool = False,
) -> None:
    """Queue one reply of `kind` to this reporter about this ticket; the key makes it happen once.

    `safety`: the first reply to a report; an emergency ticket's safety line goes first (notify.safety_line).
    """
    key = f"{key_prefix or kind}:ticket:{ticket.id}:reporter:{reporter.id}"
    run = post_run(session)
    follower = _find_follower(session, ticket, reporter)
    if follower is None:
        return
    follower.reporter = reporter
    fresh = ticket.id in run.tickets  # the key names a ticket this transaction created: nothing holds it
    # No savepoint of its own: a key another worker queued first fails the page's write, then (in the
    # page's second run, a savepoint per post) this post alone; retried later, it finds that row.
    hazards = notify.ticket_hazards(ticket) if safety else []
    message = notify.queue_for_follower(
        session,
        env.replies,
        ticket,
        follower,
        kind,
        key=key,
        now=now,
        fresh=fresh,
        savepoint=False,
        hazards=hazards,
    )
    if message is not None:
        run.messages.append(message)


# The open tickets of one service created since a time, nearest first: built once (see NearestQuery).
_NEARBY_OPEN = spatial.NearestQuery(
    Ticket,
    Ticket.location,
    [Ticket.id, Ticket.precision, Ticket.address],
    [
        Ticket.service_id == bindparam("service_id"),
        Ticket.status.in_(DEDUPE_STATUSES),
        Ticket.created_at >= bindparam("since"),
    ],
)


def find_duplicate(
    session: Session, service: Service, loc: GeocodeResult, env: PipelineEnv, now: dt.datetime
) -> Ticket | None:
    """An open ticket for the same problem: same service, recent, same place (see PRECISE_SAME_PLACE_M).

    Tickets this page created and has not written yet are not in the table: they are looked at in memory
    by the same rules (distances on the ellipsoid, as the databases measure), so two reports of one
    problem in one page are merged too.
    """
    assert loc.lat is not None and loc.lon is not None
    since = now - dt.timedelta(days=env.dedupe_window_days)
    unwritten = [
        t
        for t in page_cache(session).new_tickets
        if inspect(t).pending and t.service_id == service.id and t.status in DEDUPE_STATUSES
    ]
    if service.street_wide and loc.street:
        # Street-wide problems (an unplowed street) are one ticket per street segment, or per street when the
        # report names only the street.
        by_street = loc.precision in {"street"} or not loc.segment_id
        for ticket in reversed(unwritten):  # the newest first, as the query orders
            if ticket.street == loc.street or (not by_street and ticket.segment_id == loc.segment_id):
                return ticket
        same_street = Ticket.street == loc.street
        cond = same_street if by_street else or_(Ticket.segment_id == loc.segment_id, same_street)
        recent = Ticket.created_at >= since
        base = [Ticket.service_id == service.id, Ticket.status.in_(DEDUPE_STATUSES), recent]
        return session.scalar(select(Ticket).where(*base, cond).order_by(Ticket.created_at.desc()).limit(1))
    radius = service.dedupe_radius_m or env.dedupe_radius_m
    # rank by three columns first; load only the ticket chosen
    candidates: list[tuple[int | Ticket, str | None, str | None, float]] = [
        (ticket_id, precision, address, distance)
        for (ticket_id, precision, address), distance in _NEARBY_OPEN.run(
            session, loc.lat, loc.lon, radius, service_id=service.id, since=since
        )
    ]
    for ticket in unwritten:
        if ticket.lat is not None and ticket.lon is not None:
            distance = spatial.geodesic_m(loc.lat, loc.lon, ticket.lat, ticket.lon)
            if distance <= radius:
                candidates.append((ticket, ticket.precision, ticket.address, distance))
    for found, precision, address, distance in sorted(candidates, key=lambda c: c[3]):
        both_precise = loc.precision in PRECISE and precision in PRECISE
        if both_precise and distance > PRECISE_SAME_PLACE_M and (address or "") != (loc.matched or ""):
            continue
        return found if isinstance(found, Ticket) else session.get(Ticket, found)
    return None


# --- threads ---------------------------------------------------------------------------------------------


def _thread_ticket(session: Session, post: InboundPost) -> Ticket | None:
    """The ticket whose thread this post continues: a reply to our message or to a post we ticketed."""
    ids = thread_ids(post)
    if ids:
        ticket_id = session.scalar(
            select(OutboundMessage.ticket_id)
            .where(
                OutboundMessage.channel == post.channel,
                OutboundMessage.sent_external_id.in_(ids),
                OutboundMessage.ticket_id.is_not(None),
            )
            .limit(1)
        ) or session.scalar(
            select(InboundPost.ticket_id)
            .where(
                InboundPost.channel == post.channel,
                InboundPost.external_id.in_(ids),
                InboundPost.ticket_id.is_not(None),
                InboundPost.id != post.id,
            )
            .limit(1)
        )
        if ticket_id:
            return _resolve_duplicate(session, session.get(Ticket, ticket_id))
    if post.is_dm:
        # A DM conversation has no reply ids: the resident's next DM answers our latest question to them.
        ticket_id = session.scalar(
            select(Follower.ticket_id)
            .join(Ticket, Ticket.id == Follower.ticket_id)
            .join(Reporter, Reporter.id == Follower.reporter_id)
            .where(
                Follower.channel == post.channel,
                Follower.is_dm.is_(True),
                Reporter.external_id == post.author_id,
                Ticket.status == S.NEEDS_LOCATION.value,
            )
            .order_by(Follower.id.desc())
            .limit(1)
        )
        if ticket_id:
            return session.get(Ticket, ticket_id)
    return None


def _resolve_duplicate(session: Session, ticket: Ticket | None) -> Ticket | None:
    seen = 0
    while ticket is not None and ticket.duplicate_of_id and seen < 10:
        ticket = session.get(Ticket, ticket.duplicate_of_id)
        seen += 1
    return ticket


def _handle_thread_reply(
    session: Session,
    post: InboundPost,
    reporter: Reporter,
    ticket: Ticket,
    analysis: Analysis,
    stages: dict[str, Any],
    env: PipelineEnv,
    now: dt.datetime,
) -> InboundPost:
    intent, reasons = analysis.reply_intent, analysis.reply_reasons
    if intent is None:
        intent, reasons = classify_reply(post.text)
    stages["thread"] = {"ticket": ticket.id, "intent": intent, "reasons": reasons[:5]}
    if ticket.status == S.NEEDS_LOCATION and (intent == "location_clarification" or analysis.usable_location):
        return _clarify_location(session, post, reporter, ticket, analysis, env, now)
    if intent == "still_broken" and ticket.status in RESOLVED_STATUSES:
        _follow(session, ticket, post, reporter)
        ticket_service.change_status(
            session,
            ticket,
            S.REOPENED,
            actor_label="resident",
            public_note="A resident reports the problem is still there.",
            internal_note=f"Reopened from post {post.id}.",
            data={"post_id": post.id},
            now=now,
        )
        return _finish(
            post,
            PS.PROCESSED,
            PO.REOPENED,
            f"Resident says {ticket.ref} is not fixed; reopened.",
            now,
            ticket,
        )
    if intent == "still_broken":
        _add_report(session, ticket, post, reporter, analysis.triage, now)
        return _finish(
            post, PS.PROCESSED, PO.STILL_OPEN, f"Resident follow-up on open {ticket.ref}.", now, ticket
        )
    if intent == "fixed_confirmed":
        ticket_service.record_event(
            session,
            ticket,
            "confirmation",
            internal_note=f"Resident confirms the fix (post {post.id}).",
            actor_label="resident",
            data={"post_id": post.id},
            now=now,
        )
        return _finish(
            post, PS.PROCESSED, PO.FIXED_CONFIRMED, f"Resident confirms {ticket.ref} is fixed.", now, ticket
        )
    ticket_service.record_event(
        session,
        ticket,
        "reply",
        internal_note=f"Resident reply ({intent}), post {post.id}.",
        actor_label="resident",
        data={"post_id": post.id, "intent": intent},
        now=now,
    )
    return _finish(
        post,
        PS.PROCESSED,
        PO.REPLY.with_detail(intent),
        f"Reply in the thread of {ticket.ref} ({intent}).",
        now,
        ticket,
    )


def _clarify_location(
    session: Session,
    post: InboundPost,
    reporter: Reporter,
    ticket: Ticket,
    analysis: Analysis,
    env: PipelineEnv,
    now: dt.datetime,
) -> InboundPost:
    loc = analysis.location
    if loc is None or not analysis.usable_location:
        # Ask once more, then leave it to a dispatcher: never a reply storm.
        _reply(session, env, ticket, post, reporter, MK.ASK_LOCATION, now, key_prefix="ask2")
        reason = loc.reason if loc and loc.reason else "no location found"
        return _finish(
            post, PS.PROCESSED, PO.LOCATION_UNCLEAR, f"Still no usable location ({reason}).", now, ticket
        )
    private = is_private_post(post) and is_house_location(loc)
    assert loc.lat is not None and loc.lon is not None
    ticket_service.set_ticket_location_from(ticket, loc, private=private)
    ticket.location_text = loc.matched or ""
    ticket.summary = public_summary(ticket.service, loc, private=private)
    ticket.triage = {**ticket.triage, "location": _loc_summary(analysis)}
    ticket_service.change_status(
        session,
        ticket,
        S.OPEN,
        actor_label="resident",
        public_note="Location received from the resident.",
        now=now,
    )
    duplicate = find_duplicate(session, ticket.service, loc, env, now)
    if duplicate is not None and duplicate.id != ticket.id:
        ticket_service.merge_tickets(session, ticket, duplicate, actor_label="intake", now=now)
        _reply(session, env, duplicate, post, reporter, MK.MERGED, now)
        return _finish(
            post, PS.PROCESSED, PO.LOCATED_MERGED, f"Located and merged into {duplicate.ref}.", now, duplicate
        )
    _reply(session, env, ticket, post, reporter, MK.ACK, now)
    return _finish(post, PS.PROCESSED, PO.LOCATED, f"Location received: {loc.matched}.", now, ticket)
