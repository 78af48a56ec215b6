"""One platform call answering one or several outbound messages, exactly once: claim, post, settle."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from typing import Any

from flask import Flask
from sqlalchemy import select, update

from civictracker.channels.base import ChannelError
from civictracker.extensions import db
from civictracker.models import MessageState, OutboundMessage
from civictracker.models.outbox import FINAL_STATES, UNSETTLED_STATES
from civictracker.models.transitions import values_of
from civictracker.models.types import utcnow
from civictracker.outbox.claims import (
    claim,
    claim_each,
    commit_keeping_loaded,
    commit_settled,
    compare_and_set_each,
    error_note,
    first_public_reply,
    lock_messages,
    move,
    settle,
    stale,
)
from civictracker.outbox.compose import (
    CLUSTER_ROUTE,
    DIGEST_ROUTE,
    DM_ROUTE,
    PLAIN_ROUTE,
    compose_batch,
    reply_target,
)
from civictracker.outbox.retry import (
    REROUTE_TO_DM,
    RetryPolicy,
    backoff,
    call_failure,
    on_failure,
    retry_policy,
)
from civictracker.outbox.sources import forget_gone_source
from civictracker.queue import get_queue
from civictracker.runtime import runtime_of, settings_of

log = logging.getLogger(__name__)

# The job that retries one message, by its import path as rq stores it: sweep.py (the jobs) imports this
# module, so this module names the job rather than importing it back.
SEND_OUTBOUND_JOB = "civictracker.outbox.sweep.send_outbound"


def _batch_key(route: str, lead_id: int, member_ids: list[int]) -> str:
    """The key of a DM, cluster or digest call: its route, lead and members (see compose's routes)."""
    if route == DM_ROUTE:
        return f"{route}:{lead_id}"
    digest = hashlib.sha256(",".join(str(i) for i in sorted(member_ids)).encode()).hexdigest()[:10]
    return f"{route}:{lead_id}:{digest}"


def _route_of(key: str) -> tuple[str, int | None]:
    """(PLAIN_ROUTE, None) for a message's own key, else the route and the lead message's id."""
    if not key.startswith("~"):
        return PLAIN_ROUTE, None
    route, _, rest = key.partition(":")
    return route, int(rest.split(":", 1)[0])


def send_batch(
    app: Flask,
    ids: list[int],
    *,
    dm: bool = False,
    digest: bool = False,
    locked: list[tuple[OutboundMessage, bool]] | None = None,
) -> tuple[str, int]:
    """One platform call answering `ids` (the lead first): its thread, or a DM when `dm`.

    The key of the call is recorded on every member before the call ("sending"), so a crash after the
    platform accepted it is settled by `resolve_batch` (find_sent by that key) for all members at once:
    nobody is answered twice and no post is made twice. `locked`: what `lock_messages(ids)` returned earlier
    in this same transaction (send_outbound reads its row that way first).
    """
    now = utcnow()
    rows = locked if locked is not None else lock_messages(ids)
    members = _sendable(retry_policy(app), rows, now)
    if not members:
        db.session.commit()
        return "skipped", 0
    channel = runtime_of(app).channels.get(members[0].channel)
    if not dm and len(members) > 1:
        members = _nameable(app, channel, members, now)  # before the claim: the key covers who is named
    members, route = _route(members, dm=dm, digest=digest)
    lead = members[0]
    key = (
        lead.idempotency_key if route == PLAIN_ROUTE else _batch_key(route, lead.id, [m.id for m in members])
    )
    was_in_flight = any(m.state == MessageState.SENDING for m in members)
    if not claim(members, key, now):
        db.session.rollback()
        return "in_flight", 0  # another worker or thread claimed one of them first: it sends
    # Record the attempt before posting: if this process dies after the platform accepted the post,
    # the next round sees "sending" and asks the platform (find_sent) instead of posting again.
    commit_keeping_loaded()
    maybe_sent = route == PLAIN_ROUTE and (was_in_flight or lead.attempts > 1)
    return _post(app, channel, route, key, members, maybe_sent, now)


def _sendable(
    policy: RetryPolicy, locked: list[tuple[OutboundMessage, bool]], now: dt.datetime
) -> list[OutboundMessage]:
    """The locked rows this call may answer. On the way, an opted-out reporter's are cancelled and those
    whose attempts are spent are dead (a worker killed mid-call each time never reached on_failure)."""
    members: list[OutboundMessage] = []
    for msg, opted_out in locked:
        if msg.state in FINAL_STATES or (msg.state == MessageState.SENDING and not stale(msg, now)):
            continue
        if msg.batch_key is not None:
            continue  # an unsettled call (or a dead one given another round): resolve_batch settles it first
        if opted_out and msg.kind != "opt_out":
            move(msg, MessageState.CANCELLED)
            msg.last_error = "The resident opted out."
            continue
        if policy.spent(msg, now):
            move(msg, MessageState.DEAD)
            msg.last_error = msg.last_error or f"Not posted after {msg.attempts} attempts."
            continue
        members.append(msg)
    return members


def _route(members: list[OutboundMessage], *, dm: bool, digest: bool) -> tuple[list[OutboundMessage], str]:
    """Who the call answers and how: one message by DM, one in its thread, or several in the lead's."""
    if dm:  # a public message answered by DM (spill, or its thread is gone): its own key
        return members[:1], DM_ROUTE
    if len(members) == 1:
        return members, PLAIN_ROUTE
    return members, DIGEST_ROUTE if digest else CLUSTER_ROUTE


def _post(
    app: Flask,
    channel: Any,
    route: str,
    key: str,
    members: list[OutboundMessage],
    maybe_sent: bool,
    now: dt.datetime,
) -> tuple[str, int]:
    """Make the claimed call (unless `maybe_sent` and the platform has it already) and record it."""
    target = reply_target(members[0], dm=route == DM_ROUTE, mentions=_mentions(members))
    try:
        # A plain reply posts its stored text; a grouped or DM call is worded now, with the overrides.
        runtime = runtime_of(app)
        ctx = runtime.replies if route == PLAIN_ROUTE else runtime.replies_now(db.session)
        text = compose_batch(ctx, route, members)
        if route != PLAIN_ROUTE:
            _record_call_text(members, key, text)
        sent = (
            channel.find_sent(target, key, text=text, known_ids=known_ids(members[0])) if maybe_sent else None
        )
        if sent is None:
            sent = channel.send(target, text, idempotency_key=key)
    except Exception as exc:
        return _after_failure(app, channel, members, target, call_failure(exc, key), now)
    commit_settled(_mark_sent, members, sent.external_id, utcnow())
    return "sent", len(members)


def _mentions(members: list[OutboundMessage]) -> tuple[str, ...]:
    """The other members' handles, in a fixed order: a resolver rebuilds the same call after a crash."""
    return tuple(m.recipient_handle for m in sorted(members[1:], key=lambda m: m.id))


def _record_call_text(members: list[OutboundMessage], key: str, text: str) -> None:
    """Keep a grouped or DM call's text on its members before the call: the resolver looks for it."""
    for msg in members:
        settle(msg, key, call_text=text)
    commit_keeping_loaded()


def known_ids(msg: OutboundMessage) -> frozenset[str]:
    """The platform ids other messages of the same ticket (or, without one, the same resident) already hold:
    a post with one of them is never taken for this call, even with the same words in the same thread.
    By ticket, an indexed column: a ticketed reply's text names its ticket, so it cannot match another's."""
    match = (
        OutboundMessage.ticket_id == msg.ticket_id
        if msg.ticket_id is not None
        else OutboundMessage.recipient_id == msg.recipient_id
    )
    rows = db.session.scalars(
        select(OutboundMessage.sent_external_id).where(
            match, OutboundMessage.channel == msg.channel, OutboundMessage.sent_external_id.is_not(None)
        )
    )
    return frozenset(r for r in rows if r)


def _mark_sent(rows: list[OutboundMessage], external_id: str, now: dt.datetime) -> None:
    """Every member of one platform call is answered once, by that call."""
    for msg in rows:
        move(msg, MessageState.SENT)
        msg.sent_external_id = external_id
        msg.sent_at = now
    first_public_reply(rows, now)
    pull_forward(rows, now)


def pull_forward(sent: list[OutboundMessage], now: dt.datetime) -> None:
    """A reply that had been failing got through: its platform is back, so every reply of that account
    waiting out a backoff is due now (catch-up within a sweep, not within the longest backoff). Only a
    recovered reply does this: fresh replies succeeding beside one that fails for its own reason do not
    keep that one retrying at every sweep."""
    for channel in sorted({m.channel for m in sent if m.failing_since is not None}):
        db.session.execute(
            update(OutboundMessage)
            .where(
                OutboundMessage.channel == channel,
                OutboundMessage.state == MessageState.FAILED,
                OutboundMessage.next_attempt_at > now,
            )
            .values(next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
    for msg in sent:
        msg.failing_since = None


def _after_failure(
    app: Flask,
    channel: Any,
    members: list[OutboundMessage],
    target: Any,
    problem: ChannelError,
    now: dt.datetime,
) -> tuple[str, int]:
    """The members' fate after a failed call (retry.on_failure), then what it asks of this module: the DM
    that answers a deleted thread, or the retry job of a lone message at its due time."""
    status, due = on_failure(app, channel, members, target, problem, now)
    if status == REROUTE_TO_DM:
        return send_batch(app, [members[0].id], dm=True)
    if due is not None:
        get_queue(app).enqueue(SEND_OUTBOUND_JOB, members[0].id, delay=due - now)
    return status, 0


def _nameable(
    app: Flask, channel: Any, members: list[OutboundMessage], now: dt.datetime
) -> list[OutboundMessage]:
    """The members a cluster or digest reply may name: those whose source post the platform still has.

    A reply naming someone who deleted their report would undo their choice. A member whose post is gone
    is dropped and handled as a deleted source (redacted; answered by DM if possible, else no more); one
    the platform cannot answer about is dropped from this call and left pending, answered later on its
    own or in another group. The lead is not asked: the reply goes in its thread, and a thread that is
    gone makes the platform refuse the call (on_failure). These writes commit with the claim; if the
    claim loses a race they roll back with it and the next round asks again.
    """
    lead = members[0]
    exists: dict[str, bool | None] = {}
    for msg in members[1:]:
        source = msg.in_reply_to_id
        # never asked: a DM (an X DM event is not a tweet; DMs are never grouped anyway), no thread,
        # the lead's own thread, or a post already asked about
        if msg.is_dm or source is None or source == lead.in_reply_to_id or source in exists:
            continue
        try:
            exists[source] = bool(channel.post_exists(source))
        except ChannelError as exc:
            log.warning("cannot check %s post %s before naming its author: %s", msg.channel, source, exc)
            exists[source] = None
    kept = [lead] + [m for m in members[1:] if exists.get(m.in_reply_to_id or "", True) is True]
    for msg in members[1:]:
        if exists.get(msg.in_reply_to_id or "", True) is None:
            msg.last_error = error_note(
                msg, "Left out of a group reply: the platform could not say whether its post still exists."
            )
    settings = settings_of(app)
    for source, ok in exists.items():
        if ok is False:  # redacts our copy, moves its thread to DM or cancels it (the member included)
            forget_gone_source(db.session(), settings, lead.channel, source, now=now)
    return kept


def send_plain_each(app: Flask, members: list[OutboundMessage]) -> tuple[int, list[int]]:
    """Plain replies (each its own platform call, under its own key) claimed by one commit and settled by
    one more: what `send_batch` does for one message, with two commits for all instead of two each.

    `members`: rows read by `lock_messages` in this transaction, each pending with no recorded call. A crash
    between the calls leaves the rest "sending" under their keys, settled later by `resolve_batch` exactly
    as after a crash in `send_batch`. A member that fails goes through `on_failure` as there, after the
    replies posted before it are stored. Returns (how many were sent, the ids of those that failed).
    """
    now = utcnow()
    claimed = claim_each(members, now)
    if not claimed:
        db.session.rollback()
        return 0, []
    commit_keeping_loaded()
    done: list[tuple[OutboundMessage, str]] = []  # posted, with the platform's id: marked sent at the end
    failed: list[int] = []
    for msg in claimed:
        channel = runtime_of(app).channels.get(msg.channel)
        target = reply_target(msg)
        key = msg.idempotency_key
        try:
            sent = (
                channel.find_sent(target, key, text=msg.text, known_ids=known_ids(msg))
                if msg.attempts > 1
                else None
            )
            if sent is None:
                sent = channel.send(target, msg.text, idempotency_key=key)
        except Exception as exc:
            problem = call_failure(exc, key)
            # the replies posted before this one first: a failure never hides them
            commit_settled(_settle_sent, done, now)
            done = []
            _after_failure(app, channel, [msg], target, problem, now)
            failed.append(msg.id)
            continue
        done.append((msg, sent.external_id))
    sent_count = len(claimed) - len(failed)
    commit_settled(_settle_sent, done, now)
    return sent_count, failed


def _settle_sent(done: list[tuple[OutboundMessage, str]], now: dt.datetime) -> None:
    """Mark posted replies sent (each only if still under its own claim) and stamp their tickets once."""
    sent_at = utcnow()
    settled = compare_and_set_each(
        [
            (
                msg,
                {"state": MessageState.SENT, "sent_external_id": external_id, "sent_at": sent_at},
                msg.idempotency_key,
            )
            for msg, external_id in done
        ]
    )
    first_public_reply(settled, now)
    pull_forward(settled, now)


def resolve_batch(app: Flask, key: str, now: dt.datetime) -> int:
    """Settle a call whose outcome was never recorded: all its members are sent if the platform has it.

    Otherwise the key is cleared and the members go back to the queue, free to be planned afresh (a
    new membership gets a new key, so the platform's own idempotency cannot mis-attribute a post).
    When the platform cannot say (find_sent fails), asking again waits (backoff) and counts as an
    attempt: after the last one the members are dead with their key kept (the outcome is still
    unknown), so `outbox --retry-dead` makes them ask the platform first. Every write is a
    compare-and-set (`settle`): a member another sender claimed meanwhile is not touched.
    """
    rows = _unsettled(key)
    live = [m for m in rows if m.state != MessageState.DEAD]
    if not live or any(m.state == MessageState.SENDING and not stale(m, now) for m in live):
        db.session.rollback()
        return 0
    route, lead = _lead_of(key, rows, live)
    channel = runtime_of(app).channels.get(lead.channel)
    policy = retry_policy(app)
    members = [lead] + [m for m in rows if m.id != lead.id]
    target = reply_target(lead, dm=route == DM_ROUTE, mentions=_mentions(members))
    text = lead.text if route == PLAIN_ROUTE else lead.call_text
    try:
        # a grouped call without its text recorded was never made: the text is kept before the call
        found = None if text is None else channel.find_sent(target, key, text=text, known_ids=known_ids(lead))
    except Exception as exc:  # any failure: the outcome stays unknown, and is asked again later
        _still_unknown(policy, key, live, exc, now)
        return 0
    if found is None:
        _not_posted(policy, key, live, now)
        return 0
    log.info("outbound batch %s was already posted as %s", key, found.external_id)
    settled = [
        m
        for m in rows
        if settle(m, key, state=MessageState.SENT, sent_external_id=found.external_id, sent_at=now)
    ]
    first_public_reply(settled, now)
    pull_forward(settled, now)
    db.session.commit()
    return len(settled)


def _unsettled(key: str) -> list[OutboundMessage]:
    """The members of the call `key` not settled yet, as the database holds them (locked on PostgreSQL)."""
    stmt = (
        select(OutboundMessage)
        .where(
            OutboundMessage.batch_key == key,
            OutboundMessage.state.in_(values_of(UNSETTLED_STATES)),
        )
        .execution_options(populate_existing=True)  # compared below with what the database holds
    )
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list(db.session.scalars(stmt))


def _lead_of(
    key: str, rows: list[OutboundMessage], live: list[OutboundMessage]
) -> tuple[str, OutboundMessage]:
    """The call's route and lead (whose thread the call went to), read from the key."""
    route, lead_id = _route_of(key)
    lead = next((m for m in rows if (m.id == lead_id if lead_id else m.idempotency_key == key)), None)
    if lead is None and lead_id is not None:
        lead = db.session.get(OutboundMessage, lead_id)
    return route, lead if lead is not None else live[0]


def _still_unknown(
    policy: RetryPolicy, key: str, live: list[OutboundMessage], exc: Exception, now: dt.datetime
) -> None:
    """The platform could not say whether the call was posted: ask again after a backoff, as an attempt."""
    if not isinstance(exc, ChannelError):
        log.error("checking outbound batch %s failed unexpectedly", key, exc_info=exc)
    log.warning("cannot check whether outbound batch %s was posted: %s", key, exc)
    retry_after = exc.retry_after if isinstance(exc, ChannelError) else None
    note = f"Cannot check whether it was posted: {exc}"
    for msg in live:
        attempts = msg.attempts + 1
        since = msg.failing_since or now
        if attempts >= policy.max_attempts and now - since >= policy.budget:
            settle(msg, key, state=MessageState.DEAD, attempts=attempts, last_error=error_note(msg, note))
        else:
            due = now + backoff(attempts, retry_after)
            settle(
                msg,
                key,
                state=MessageState.FAILED,
                attempts=attempts,
                next_attempt_at=due,
                failing_since=since,
                last_error=error_note(msg, note),
            )
    db.session.commit()


def _not_posted(policy: RetryPolicy, key: str, live: list[OutboundMessage], now: dt.datetime) -> None:
    """The platform has no such post: the members are free again (a spent one is dead)."""
    for msg in live:
        if policy.spent(msg, now):
            note = f"Not posted after {msg.attempts} attempts."
            settle(msg, key, batch_key=None, state=MessageState.DEAD, last_error=msg.last_error or note)
        elif msg.state == MessageState.SENDING:
            settle(msg, key, batch_key=None, state=MessageState.FAILED)  # due now: its attempt is spent
        else:
            settle(msg, key, batch_key=None)
    db.session.commit()
