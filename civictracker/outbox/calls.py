"""One platform call answering one or several outbound messages, exactly once: claim, post, settle."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from civictracker.channels.base import ChannelError, ReplyTarget
from civictracker.extensions import db
from civictracker.models import MessageKind, MessageState, OutboundMessage, Reporter, Ticket
from civictracker.models.outbox import FINAL_STATES, MESSAGE_TRANSITIONS, UNSETTLED_STATES, WAITING_STATES
from civictracker.models.transitions import check_transition, values_of
from civictracker.models.types import utcnow
from civictracker.outbox.reach import DM_REFUSED
from civictracker.runtime import runtime_of, settings_of

if TYPE_CHECKING:
    from civictracker.services.notify import ReplyContext

log = logging.getLogger(__name__)

SENDING_STALE_AFTER = dt.timedelta(minutes=2)  # a "sending" row older than this lost its worker
# The job that retries one message, by its import path as rq stores it: sweep.py (the jobs) imports this
# module, so this module names the job rather than importing it back.
SEND_OUTBOUND_JOB = "civictracker.outbox.sweep.send_outbound"


def backoff(attempts: int, retry_after: float | None = None) -> dt.timedelta:
    """Exponential backoff with jitter, at least what the platform asked for."""
    base = min(3600.0, 5.0 * (2 ** max(0, attempts - 1)))
    wait = base * (0.8 + 0.4 * random.random())
    return dt.timedelta(seconds=max(wait, retry_after or 0.0))


# How a batch key says which kind of platform call answered its members (see OutboundMessage.batch_key).
# A plain reply uses the message's own idempotency key; the others start with "~", which no key has.
DM_ROUTE = "~dm"  # ~dm:<id>: a public message answered by DM (spill, or its thread is gone)
CLUSTER_ROUTE = "~cluster"  # ~cluster:<lead id>:<members>: one public reply naming several reporters
DIGEST_ROUTE = "~digest"  # ~digest:<lead id>:<members>: the generic reply for acks of several tickets


def _batch_key(route: str, lead_id: int, member_ids: list[int]) -> str:
    if route == DM_ROUTE:
        return f"{route}:{lead_id}"
    digest = hashlib.sha256(",".join(str(i) for i in sorted(member_ids)).encode()).hexdigest()[:10]
    return f"{route}:{lead_id}:{digest}"


def _route_of(key: str) -> tuple[str, int | None]:
    """("plain", None) for a message's own key, else the route and the lead message's id."""
    if not key.startswith("~"):
        return "plain", None
    route, _, rest = key.partition(":")
    return route, int(rest.split(":", 1)[0])


def _error_note(msg: OutboundMessage, error: str) -> str:
    """The row's new last_error: `error`, after the DM refusal line if the row has one (see DM_REFUSED)."""
    old = msg.last_error or ""
    if old.startswith(DM_REFUSED) and not error.startswith(DM_REFUSED):
        return (old.split("\n", 1)[0][:500] + "\n" + error)[:2000]
    return error[:2000]


def _move(msg: OutboundMessage, state: MessageState) -> None:
    """Set the message's state, as MESSAGE_TRANSITIONS allows (IllegalTransition otherwise)."""
    msg.state = check_transition(MESSAGE_TRANSITIONS, msg.state, state)


def _stale(msg: OutboundMessage, now: dt.datetime) -> bool:
    return msg.state == MessageState.SENDING and now - msg.next_attempt_at >= SENDING_STALE_AFTER


def unconfirmed(msg: OutboundMessage, now: dt.datetime) -> bool:
    """A recorded platform call whose outcome is unknown: its worker died, or the answer was lost.

    "pending" with a key is a row that died with its outcome unknown and was given another round
    (`outbox --retry-dead`): the platform is asked first, as for any other unsettled call.
    """
    return msg.batch_key is not None and (msg.state in WAITING_STATES or _stale(msg, now))


def _reply_target(msg: OutboundMessage, *, dm: bool = False, mentions: tuple[str, ...] = ()) -> ReplyTarget:
    return ReplyTarget(
        channel=msg.channel,
        is_dm=msg.is_dm or dm,
        recipient_id=msg.recipient_id,
        recipient_handle=msg.recipient_handle,
        in_reply_to_id=msg.in_reply_to_id,
        conversation_id=msg.conversation_id,
        visibility=msg.visibility,
        mention_handles=() if (msg.is_dm or dm) else mentions,
    )


def lock_messages(ids: list[int]) -> list[tuple[OutboundMessage, bool]]:
    """The rows with whether their reporter opted out, in the given order (the lead first); on PostgreSQL
    rows another worker holds are left. One statement: the reporter's flag comes with the row."""
    stmt = (
        select(OutboundMessage, Reporter.opted_out)
        .outerjoin(Reporter, Reporter.id == OutboundMessage.reporter_id)
        .where(OutboundMessage.id.in_(ids))
        # the state read here decides whether to post: always the database's, never an identity-map copy
        .execution_options(populate_existing=True)
    )
    if db.session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=OutboundMessage, skip_locked=True)  # not the reporter row
    rows = {m.id: (m, bool(opted_out)) for m, opted_out in db.session.execute(stmt)}
    return [rows[i] for i in ids if i in rows]


def _mark_sent(rows: list[OutboundMessage], external_id: str, now: dt.datetime) -> None:
    """Every member of one platform call is answered once, by that call."""
    for msg in rows:
        _move(msg, MessageState.SENT)
        msg.sent_external_id = external_id
        msg.sent_at = now
    _first_public_reply(rows, now)


def _first_public_reply(rows: list[OutboundMessage], now: dt.datetime) -> None:
    ticket_ids = sorted({msg.ticket_id for msg in rows if msg.ticket_id})
    if ticket_ids:
        # The first public reply is set once: one conditional UPDATE, instead of loading each ticket (with
        # its geometries) to look at one column. Both callers commit right after, which expires any copy.
        tickets = Ticket.__table__
        db.session.execute(
            update(tickets)
            .where(tickets.c.id.in_(ticket_ids), tickets.c.first_public_reply_at.is_(None))
            .values(first_public_reply_at=now)
        )


def _claim(members: list[OutboundMessage], key: str, now: dt.datetime) -> bool:
    """Mark the members "sending" under `key`, each only if it is still as we read it (_compare_and_set).

    On SQLite nothing locks the rows we read (the web process and the poll loop may both pick a pending
    message); on PostgreSQL it costs nothing beside the row lock. False when another sender changed any
    member since: the caller rolls back and leaves the batch.
    """
    return all(
        _compare_and_set(
            msg,
            {
                "state": MessageState.SENDING,
                "attempts": msg.attempts + 1,
                "next_attempt_at": now,
                "batch_key": key,
            },
        )
        for msg in members
    )


def _compare_and_set(msg: OutboundMessage, values: dict[str, Any], *, key: str | None = None) -> bool:
    """Write `values` on the message's row only if it is still as we read it: same state and attempts (a
    plain reply's key is the same on every attempt, so these tell a fresh claim apart), and, given `key`,
    still under that call. The loaded object is kept in step, so no second UPDATE follows at flush."""
    if "state" in values:
        check_transition(MESSAGE_TRANSITIONS, msg.state, values["state"])
    params = {f"v_{name}": value for name, value in values.items()}
    params.update(w_id=msg.id, w_state=msg.state, w_attempts=msg.attempts, w_key=key)
    done = db.session.execute(_compare_and_set_statement(tuple(sorted(values)), key is not None), params)
    if done.rowcount != 1:  # type: ignore[attr-defined]  # a CursorResult for an UPDATE
        return False
    for name, value in values.items():
        set_committed_value(msg, name, value)
    return True


@lru_cache(maxsize=64)
def _compare_and_set_statement(names: tuple[str, ...], with_key: bool) -> Any:
    """The conditional UPDATE for these columns, built once: a statement built per call costs ten times
    the database's own work (two per reply sent)."""
    table = OutboundMessage.__table__
    conditions = [
        table.c.id == bindparam("w_id"),
        table.c.state == bindparam("w_state"),
        table.c.attempts == bindparam("w_attempts"),
    ]
    if with_key:
        conditions.append(table.c.batch_key == bindparam("w_key"))
    return update(table).where(*conditions).values({name: bindparam(f"v_{name}") for name in names})


def _commit_keeping_loaded() -> None:
    """Commit without expiring what this transaction loaded (the members of a call about to be posted).

    They were just locked and written by this worker, and no other worker touches a fresh "sending" row,
    so their in-memory values are what the database holds: reading them again after the commit would
    cost one SELECT per member for nothing. Only this commit keeps them; every other one expires as usual.
    """
    session = db.session()
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def _settle(msg: OutboundMessage, key: str, **values: Any) -> bool:
    """Write `values` on one member of the call `key` only if it is still as we read it.

    On SQLite nothing locks the rows a resolver read while it waited for the platform: another sender
    may have settled them and claimed them afresh meanwhile. Its claim is left alone.
    """
    return _compare_and_set(msg, values, key=key)


def resolve_batch(app: Flask, key: str, now: dt.datetime) -> int:
    """Settle a call whose outcome was never recorded: all its members are sent if the platform has it.

    Otherwise the key is cleared and the members go back to the queue, free to be planned afresh (a
    new membership gets a new key, so the platform's own idempotency cannot mis-attribute a post).
    When the platform cannot say (find_sent fails), asking again waits (backoff) and counts as an
    attempt: after the last one the members are dead with their key kept (the outcome is still
    unknown), so `outbox --retry-dead` makes them ask the platform first. Every write is a
    compare-and-set (`_settle`): a member another sender claimed meanwhile is not touched.
    """

    settings = settings_of(app)
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
    rows = list(db.session.scalars(stmt))
    live = [m for m in rows if m.state != MessageState.DEAD]
    if not live or any(m.state == MessageState.SENDING and not _stale(m, now) for m in live):
        db.session.rollback()
        return 0
    route, lead_id = _route_of(key)
    lead = next((m for m in rows if (m.id == lead_id if lead_id else m.idempotency_key == key)), None)
    if lead is None and lead_id is not None:
        lead = db.session.get(OutboundMessage, lead_id)
    if lead is None:
        lead = live[0]
    channel = runtime_of(app).channels.get(lead.channel)
    target = _reply_target(lead, dm=route == DM_ROUTE)
    try:
        found = channel.find_sent(target, key)
    except Exception as exc:  # any failure: the outcome stays unknown, and is asked again later
        if not isinstance(exc, ChannelError):
            log.exception("checking outbound batch %s failed unexpectedly", key)
        log.warning("cannot check whether outbound batch %s was posted: %s", key, exc)
        retry_after = exc.retry_after if isinstance(exc, ChannelError) else None
        note = f"Cannot check whether it was posted: {exc}"
        for msg in live:
            attempts = msg.attempts + 1
            if attempts >= settings.outbox_max_attempts:
                _settle(
                    msg, key, state=MessageState.DEAD, attempts=attempts, last_error=_error_note(msg, note)
                )
            else:
                due = now + backoff(attempts, retry_after)
                _settle(
                    msg,
                    key,
                    state=MessageState.FAILED,
                    attempts=attempts,
                    next_attempt_at=due,
                    last_error=_error_note(msg, note),
                )
        db.session.commit()
        return 0
    if found is None:
        for msg in live:
            if msg.attempts >= settings.outbox_max_attempts:
                note = f"Not posted after {msg.attempts} attempts."
                _settle(msg, key, batch_key=None, state=MessageState.DEAD, last_error=msg.last_error or note)
            elif msg.state == MessageState.SENDING:
                _settle(msg, key, batch_key=None, state=MessageState.FAILED)  # due now: its attempt is spent
            else:
                _settle(msg, key, batch_key=None)
        db.session.commit()
        return 0
    log.info("outbound batch %s was already posted as %s", key, found.external_id)
    settled = [
        m
        for m in rows
        if _settle(m, key, state=MessageState.SENT, sent_external_id=found.external_id, sent_at=now)
    ]
    _first_public_reply(settled, now)
    db.session.commit()
    return len(settled)


def _compose_batch(ctx: ReplyContext, route: str, members: list[OutboundMessage]) -> str:
    from civictracker.models import TicketEvent
    from civictracker.services import notify

    lead = members[0]
    if route == "plain":
        return lead.text
    ticket = db.session.get(Ticket, lead.ticket_id) if lead.ticket_id else None
    event = db.session.get(TicketEvent, lead.event_id) if lead.event_id else None
    note = event.public_note if event is not None else ""
    if route == DM_ROUTE:
        return notify.compose_direct(ctx, lead.channel, lead.kind, lead.lang, ticket, note, lead.text)
    handles = [m.recipient_handle for m in members]
    if route == DIGEST_ROUTE:
        return notify.compose_digest(ctx, lead.channel, lead.lang, handles)
    if ticket is None:
        raise ChannelError("a cluster reply needs its ticket", retryable=False)
    return notify.compose_cluster(ctx, lead.channel, lead.kind, lead.lang, ticket, handles, note)


def _nameable(
    app: Flask, channel: Any, members: list[OutboundMessage], now: dt.datetime
) -> list[OutboundMessage]:
    """The members a cluster or digest reply may name: those whose source post the platform still has.

    A reply naming someone who deleted their report would undo their choice. A member whose post is gone
    is dropped and handled as a deleted source (redacted; answered by DM if possible, else no more); one
    the platform cannot answer about is dropped from this call and left pending, answered later on its
    own or in another group. The lead is not asked: the reply goes in its thread, and a thread that is
    gone makes the platform refuse the call (_on_failure). These writes commit with the claim; if the
    claim loses a race they roll back with it and the next round asks again.
    """
    from civictracker.outbox.sources import forget_gone_source

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
            msg.last_error = _error_note(
                msg, "Left out of a group reply: the platform could not say whether its post still exists."
            )
    settings = settings_of(app)
    for source, ok in exists.items():
        if ok is False:  # redacts our copy, moves its thread to DM or cancels it (the member included)
            forget_gone_source(db.session(), settings, lead.channel, source, now=now)
    return kept


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

    settings = settings_of(app)
    now = utcnow()
    members: list[OutboundMessage] = []
    for msg, opted_out in locked if locked is not None else lock_messages(ids):
        if msg.state in FINAL_STATES or (msg.state == MessageState.SENDING and not _stale(msg, now)):
            continue
        if msg.batch_key is not None:
            continue  # an unsettled call (or a dead one given another round): resolve_batch settles it first
        if opted_out and msg.kind != MessageKind.OPT_OUT:
            _move(msg, MessageState.CANCELLED)
            msg.last_error = "The resident opted out."
            continue
        if msg.attempts >= settings.outbox_max_attempts:
            # every attempt is spent (a worker killed mid-call each time never reached _on_failure)
            _move(msg, MessageState.DEAD)
            msg.last_error = msg.last_error or f"Not posted after {msg.attempts} attempts."
            continue
        members.append(msg)
    if not members:
        db.session.commit()
        return "skipped", 0
    channel = runtime_of(app).channels.get(members[0].channel)
    if not dm and len(members) > 1:
        members = _nameable(app, channel, members, now)  # before the claim: the key covers who is named
    lead = members[0]
    if dm:  # a public message answered by DM (spill, or its thread is gone): its own key
        members, route = [lead], DM_ROUTE
    elif len(members) == 1:
        route = "plain"
    else:
        route = DIGEST_ROUTE if digest else CLUSTER_ROUTE
    key = lead.idempotency_key if route == "plain" else _batch_key(route, lead.id, [m.id for m in members])
    was_in_flight = any(m.state == MessageState.SENDING for m in members)
    if not _claim(members, key, now):
        db.session.rollback()
        return "in_flight", 0  # another worker or thread claimed one of them first: it sends
    # Record the attempt before posting: if this process dies after the platform accepted the post,
    # the next round sees "sending" and asks the platform (find_sent) instead of posting again.
    _commit_keeping_loaded()
    mentions = tuple(m.recipient_handle for m in members[1:])
    target = _reply_target(lead, dm=route == DM_ROUTE, mentions=mentions)
    try:
        text = _compose_batch(runtime_of(app).replies, route, members)
        maybe_sent = route == "plain" and (was_in_flight or lead.attempts > 1)
        sent = channel.find_sent(target, key) if maybe_sent else None
        if sent is None:
            sent = channel.send(target, text, idempotency_key=key)
    except Exception as exc:
        return _on_failure(app, channel, members, target, _call_failure(exc, key), now)
    _commit_settled(_mark_sent, members, sent.external_id, utcnow())
    return "sent", len(members)


def _call_failure(exc: Exception, key: str) -> ChannelError:
    """A failed platform call as `_on_failure` takes it. Called in the `except` block of the call."""
    if isinstance(exc, ChannelError):
        return exc
    if isinstance(exc, ValueError):  # the text cannot fit the platform's limit
        return ChannelError(str(exc), retryable=False)
    # A bug or an answer we cannot read: retried, then dead.
    log.error("outbound call %s failed unexpectedly", key, exc_info=exc)
    db.session.rollback()  # the session may be unusable; the members' claim is committed already
    # Retryable: the call may have got through before it failed, so the key stays and the next round
    # asks the platform first. Never left "sending" with its attempts growing and no end.
    return ChannelError(f"unexpected error: {exc!r}", retryable=True)


_TRY_AGAIN = {"40P01", "40001"}  # PostgreSQL: deadlock detected, serialization failure


def _commit_settled(settle: Callable[..., None], *args: Any, tries: int = 3) -> None:
    """Run `settle` (mark posted messages sent) and commit; chosen as a deadlock's victim, run it again,
    as PostgreSQL asks.

    Stamping the tickets' first public reply can meet an intake page updating the same tickets in another
    order. If every try fails, the messages stay "sending" under their key and `resolve_batch` settles
    them later: posted once, recorded late.
    """
    for attempt in range(1, tries + 1):
        try:
            settle(*args)
            db.session.commit()
            return
        except OperationalError as exc:
            db.session.rollback()
            if attempt == tries or getattr(exc.orig, "sqlstate", None) not in _TRY_AGAIN:
                raise
            log.warning("settling sent messages: %s; trying again", exc.orig)


def send_plain_each(app: Flask, members: list[OutboundMessage]) -> tuple[int, list[int]]:
    """Plain replies (each its own platform call, under its own key) claimed by one commit and settled by
    one more: what `send_batch` does for one message, with two commits for all instead of two each.

    `members`: rows read by `lock_messages` in this transaction, each pending with no recorded call. A crash
    between the calls leaves the rest "sending" under their keys, settled later by `resolve_batch` exactly
    as after a crash in `send_batch`. A member that fails goes through `_on_failure` as there, after the
    replies posted before it are stored. Returns (how many were sent, the ids of those that failed).
    """
    now = utcnow()
    claimed = [m for m in members if _claim([m], m.idempotency_key, now)]
    if not claimed:
        db.session.rollback()
        return 0, []
    _commit_keeping_loaded()
    done: list[tuple[OutboundMessage, str]] = []  # posted, with the platform's id: marked sent at the end
    failed: list[int] = []
    for msg in claimed:
        channel = runtime_of(app).channels.get(msg.channel)
        target = _reply_target(msg)
        key = msg.idempotency_key
        try:
            sent = channel.find_sent(target, key) if msg.attempts > 1 else None
            if sent is None:
                sent = channel.send(target, msg.text, idempotency_key=key)
        except Exception as exc:
            problem = _call_failure(exc, key)
            # the replies posted before this one first: a failure never hides them
            _commit_settled(_settle_sent, done, now)
            done = []
            _on_failure(app, channel, [msg], target, problem, now)
            failed.append(msg.id)
            continue
        done.append((msg, sent.external_id))
    sent_count = len(claimed) - len(failed)
    _commit_settled(_settle_sent, done, now)
    return sent_count, failed


def _settle_sent(done: list[tuple[OutboundMessage, str]], now: dt.datetime) -> None:
    """Mark posted replies sent (each only if still under its own claim) and stamp their tickets once."""
    settled = [
        msg
        for msg, external_id in done
        if _settle(
            msg, msg.idempotency_key, state=MessageState.SENT, sent_external_id=external_id, sent_at=utcnow()
        )
    ]
    _first_public_reply(settled, now)


def _source_gone(channel: Any, target: ReplyTarget, exc: ChannelError) -> bool:
    """Whether a refused reply was refused because the post it answers no longer exists.

    X answers 403 ("deleted or not visible"), Mastodon 404; either could also mean something else,
    so the post itself is looked up before the reply is re-routed.
    """
    if exc.retryable or target.is_dm or target.in_reply_to_id is None or exc.status not in {403, 404}:
        return False
    try:
        return not channel.post_exists(target.in_reply_to_id)
    except ChannelError:
        return False


def _on_failure(
    app: Flask,
    channel: Any,
    members: list[OutboundMessage],
    target: ReplyTarget,
    exc: ChannelError,
    now: dt.datetime,
) -> tuple[str, int]:

    settings = settings_of(app)
    if _source_gone(channel, target, exc):
        return _answer_elsewhere(app, members, now)
    lead = members[0]
    if target.is_dm and not lead.is_dm and not exc.retryable:
        return _dm_refused(members, exc, now)
    for msg in members:
        msg.last_error = _error_note(msg, str(exc))
    if not exc.retryable and len(members) == 1:
        _move(lead, MessageState.DEAD)
        db.session.commit()
        log.warning("outbound message %s is dead after %s attempts: %s", lead.id, lead.attempts, exc)
        return "dead", 0
    # A retryable failure may come after the post was made (timeout, 5xx): the key stays, and the next
    # round asks the platform first. A refused cluster is known unsent: its members are freed.
    status = "retry"
    for msg in members:
        if not exc.retryable:
            msg.batch_key = None
        if msg.attempts >= settings.outbox_max_attempts:
            _move(msg, MessageState.DEAD)
            status = "dead"
        else:
            _move(msg, MessageState.FAILED)
            msg.next_attempt_at = now + backoff(msg.attempts, exc.retry_after)
    db.session.commit()
    if len(members) == 1 and lead.state == MessageState.FAILED:
        from civictracker.queue import get_queue

        get_queue(app).enqueue(SEND_OUTBOUND_JOB, lead.id, delay=lead.next_attempt_at - now)
    if status == "dead":
        log.warning("outbound batch %s: some members are dead after the last attempt: %s", lead.id, exc)
    return status, 0


def _dm_refused(members: list[OutboundMessage], exc: ChannelError, now: dt.datetime) -> tuple[str, int]:
    """A public message spilled to DM, and the platform refused the DM (X 403 "You cannot send messages to
    this user": they closed their DMs). Nothing was sent: it goes back to the public lane, due now, its
    attempt given back (the refusal was about the DM, not the reply). The DM_REFUSED line keeps the sweep
    from spilling this reporter to DM again for a day (dm_possible)."""
    for msg in members:  # a spill is always one message; a loop keeps the types simple
        _move(msg, MessageState.PENDING)
        msg.batch_key, msg.next_attempt_at = None, now
        msg.attempts = max(0, msg.attempts - 1)
        msg.last_error = f"{DM_REFUSED}: {exc}; answered in public instead."[:2000]
    db.session.commit()
    log.warning("outbound message %s: DM refused (%s); back to the public lane", members[0].id, exc)
    return "retry", 0


def _answer_elsewhere(app: Flask, members: list[OutboundMessage], now: dt.datetime) -> tuple[str, int]:
    """The post we answered was deleted: reach its author by DM if the platform allows it; otherwise stop
    answering them about this ticket. A new public post naming someone who just deleted their report would
    undo their choice (see sources.reroute_thread). Our copy of the post is redacted now (check_sources may
    never revisit it). Other members of a cluster go back to the queue."""
    from civictracker.outbox.sources import DELETED_NO_DM, forget_gone_source

    lead = members[0]
    for msg in members[1:]:
        _move(msg, MessageState.PENDING)
        msg.batch_key, msg.next_attempt_at = None, now
        msg.attempts = max(0, msg.attempts - 1)  # the refusal was about the lead's thread, not theirs
    gone = lead.in_reply_to_id or ""
    extra = frozenset({lead.reporter_id} if lead.reporter_id else set())
    # Our copy of the deleted post is redacted now: check_sources may never revisit it (closed ticket).
    reachable = forget_gone_source(
        db.session(), settings_of(app), lead.channel, gone, now=now, extra_reporters=extra
    )
    lead.in_reply_to_id, lead.batch_key, lead.next_attempt_at = None, None, now
    if lead.reporter_id in reachable:
        _move(lead, MessageState.FAILED)
        lead.is_dm = True
        lead.last_error = f"The post {gone} we were answering is gone; answered by DM instead."
        db.session.commit()
        return send_batch(app, [lead.id], dm=True)
    _move(lead, MessageState.CANCELLED)
    lead.last_error = DELETED_NO_DM
    db.session.commit()
    return "cancelled", 0
