"""The outbox jobs: send a message now if its account has room, or sweep the queue within posting caps.

How one platform call is made exactly once (claims, batch keys, settling after a crash) is in
`calls.py`; this module decides what goes when.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import Any

from flask import Flask
from sqlalchemy import func, or_, select

from civictracker.extensions import db
from civictracker.models import MessageKind, MessageState, OutboundMessage
from civictracker.models.outbox import FINAL_STATES, WAITING_STATES
from civictracker.models.transitions import values_of
from civictracker.models.types import utcnow
from civictracker.outbox.calls import resolve_batch, send_batch, send_plain_each
from civictracker.outbox.claims import SENDING_STALE_AFTER, lock_messages, stamp_first_replies, unconfirmed
from civictracker.outbox.lanes import admit, lane_history, outbox_policy
from civictracker.outbox.reach import dm_possible
from civictracker.outbox.schedule import DM, POST, Pending, plan
from civictracker.runtime import job_context, settings_of
from civictracker.services.notify import ACK_KINDS

log = logging.getLogger(__name__)


def send_outbound(message_id: int) -> str:
    """Post one outbound message in its thread (DM by DM), exactly once, with retries and a dead end.

    This is the fast path right after intake. On a capped account it sends only when the account has
    room now and nothing else waits in the same lane; otherwise it leaves the message to the next
    `sweep_outbox`, which orders, clusters and spills the whole queue within the caps.
    """
    with job_context() as app:
        now = utcnow()
        # The row as send_batch wants it (locked on PostgreSQL), read once: the common case needs no other.
        locked: list[tuple[OutboundMessage, bool]] | None = lock_messages([message_id])
        if not locked:
            db.session.rollback()
            return "skipped"  # gone, or another worker holds it
        msg = locked[0][0]
        if msg.batch_key is not None and unconfirmed(msg, now):
            # an earlier attempt may have got through: settle it with the platform before anything else
            resolve_batch(app, msg.batch_key, now)
            db.session.expire_all()
            locked = None  # resolve_batch ended the transaction (and the lock): send_batch locks again
            settled = db.session.get(OutboundMessage, message_id)
            if settled is None or settled.state == MessageState.SENT:
                db.session.rollback()
                return "sent" if settled is not None else "skipped"
            msg = settled
        if msg.state == MessageState.FAILED and msg.next_attempt_at > now:
            # A retry is scheduled for later (by the failure that set it, or the sweep got there first):
            # an early job must not spend another attempt, or retries double at every failure.
            db.session.rollback()
            return "deferred"
        if msg.state in WAITING_STATES and not admit(outbox_policy(settings_of(app)), msg, now):
            db.session.rollback()
            return "deferred"
        status, _ = send_batch(app, [message_id], locked=locked)
        return status


def send_outbound_page(message_ids: list[int]) -> str:
    """send_outbound for the replies one intake page queued, with one read and two commits for all.

    A reply that can go now as it is (pending, no earlier call to settle, an uncapped lane, a reporter
    who has not opted out) is posted by `send_plain_each`; any other takes the single-message path, which
    settles, admits, cancels or gives up exactly as it always did. Returns how many were sent.
    """

    with job_context() as app:
        settings = settings_of(app)
        policy = outbox_policy(settings)
        ids = sorted(set(message_ids))
        plain: list[OutboundMessage] = []
        single: list[int] = []
        for msg, opted_out in lock_messages(ids):
            uncapped = not policy.caps_for(msg.channel, DM if msg.is_dm else POST)
            spent = msg.attempts >= settings.outbox_max_attempts  # the single path decides (retry_policy)
            fresh = msg.state == MessageState.PENDING and msg.batch_key is None and not spent
            if fresh and uncapped and not opted_out:
                plain.append(msg)
            elif msg.state not in FINAL_STATES:
                single.append(msg.id)
        if plain:
            sent, failed = send_plain_each(app, plain)
        else:
            db.session.rollback()  # the rows read for nothing: let go of them
            sent, failed = 0, []
    # Each of these is a job of its own, as before pages: a retry, a cap or a settlement is its business.
    sent += sum(send_outbound(message_id) == "sent" for message_id in single)
    if failed:
        log.info("%d of %d replies of a page failed; each is retried on its own", len(failed), len(ids))
    return f"sent={sent}"


def stamp_first_replies_job(ticket_ids: list[int], sent_at: str) -> int:
    """Stamp the first public reply of tickets an intake page held when their reply was sent."""
    with job_context():
        stamp_first_replies(ticket_ids, dt.datetime.fromisoformat(sent_at))
        db.session.commit()
        return len(ticket_ids)


def sweep_outbox(limit: int = 2000) -> int:
    """Send what is due within each account's caps: urgent first, then oldest; nothing is dropped.

    When a capped account cannot keep up, merged reporters of one ticket share one reply, a reporter
    who can be DMed is answered by DM after a wait, and long-waiting acknowledgements share a digest.
    Returns how many messages were answered.
    """
    with job_context() as app:
        settings = settings_of(app)
        now = utcnow()
        answered = _recover_unconfirmed(app, now)
        _probe_failing_accounts(now)
        rows = _due(now, limit)
        if not rows:
            db.session.rollback()
            return answered
        history = lane_history(None, now)
        dm_ok = _dm_reachable(settings, rows)
        db.session.rollback()
        decided = plan(_pending(rows, dm_ok), history, now.timestamp(), outbox_policy(settings))
        is_dm = {r.id: r.is_dm for r in rows}
        for batch in decided.batches:
            batch_ids = [r_id for m in batch.messages if isinstance(r_id := m.id, int)]
            spill = batch.kind == DM and not is_dm[batch_ids[0]]
            _, n = send_batch(app, batch_ids, dm=spill, digest=batch.digest)
            answered += n
    return answered


def _recover_unconfirmed(app: Flask, now: dt.datetime, limit: int = 200) -> int:
    """Settle every call whose outcome was never recorded (crashed worker, lost answer) before planning.

    The longest-due first: a call the platform cannot settle is pushed back (resolve_batch), so a few
    stuck keys never starve the rest of the `limit`.
    """
    due = func.min(OutboundMessage.next_attempt_at)
    keys = db.session.scalars(
        select(OutboundMessage.batch_key)
        .where(
            OutboundMessage.batch_key.is_not(None),
            or_(
                OutboundMessage.state.in_(values_of(WAITING_STATES))
                & (OutboundMessage.next_attempt_at <= now),
                (OutboundMessage.state == MessageState.SENDING)
                & (OutboundMessage.next_attempt_at <= now - SENDING_STALE_AFTER),
            ),
        )
        .group_by(OutboundMessage.batch_key)
        .order_by(due, OutboundMessage.batch_key)
        .limit(limit)
    ).all()
    db.session.rollback()
    return sum(resolve_batch(app, key, now) for key in keys if key)


def _probe_failing_accounts(now: dt.datetime) -> None:
    """An account whose replies all wait out a backoff gets one of them (the soonest due) tried now.

    So a platform that comes back is noticed within one sweep, and the first reply through brings the
    others forward (calls.pull_forward): catch-up takes a sweep or two, not the longest backoff. One call
    per account per sweep while it is down. A reply that was told when to come back (a rate limit, a
    Retry-After) is never the probe: the platform's own time is honoured.
    """
    waiting = (
        (OutboundMessage.state == MessageState.FAILED)
        & OutboundMessage.batch_key.is_(None)
        & OutboundMessage.failing_since.is_not(None)
    )
    due_now = set(
        db.session.scalars(
            select(OutboundMessage.channel)
            .where(
                OutboundMessage.state.in_(values_of(WAITING_STATES)), OutboundMessage.next_attempt_at <= now
            )
            .distinct()
        )
    )
    soonest = db.session.execute(
        select(OutboundMessage.channel, func.min(OutboundMessage.next_attempt_at))
        .where(waiting, OutboundMessage.next_attempt_at > now)
        .group_by(OutboundMessage.channel)
    ).all()
    probes = []
    for channel, when in soonest:
        if channel in due_now:
            continue
        probe = db.session.scalar(
            select(OutboundMessage)
            .where(waiting, OutboundMessage.channel == channel, OutboundMessage.next_attempt_at == when)
            .order_by(OutboundMessage.id)
            .limit(1)
        )
        if probe is not None and not _told_when(probe.last_error):
            probe.next_attempt_at = now
            probes.append(probe.id)
    if probes:
        db.session.commit()
    else:
        db.session.rollback()


def _told_when(error: str | None) -> bool:
    """Whether the failure named its own wait (the adapters' 429 and Retry-After errors say so)."""
    text = (error or "").lower()
    return "rate limit" in text or "retry after" in text


def _due(now: dt.datetime, limit: int) -> Sequence[Any]:
    """The messages due now with no call to settle first (_recover_unconfirmed): urgent, then oldest."""
    free = OutboundMessage.batch_key.is_(None)
    return db.session.execute(
        select(
            OutboundMessage.id,
            OutboundMessage.channel,
            OutboundMessage.kind,
            OutboundMessage.is_dm,
            OutboundMessage.urgent,
            OutboundMessage.created_at,
            OutboundMessage.ticket_id,
            OutboundMessage.event_id,
            OutboundMessage.reporter_id,
            OutboundMessage.recipient_handle,
            OutboundMessage.lang,
            OutboundMessage.visibility,
        )
        .where(
            or_(
                (OutboundMessage.state == MessageState.PENDING)
                & free
                & (OutboundMessage.next_attempt_at <= now),
                (OutboundMessage.state == MessageState.FAILED)
                & free
                & (OutboundMessage.next_attempt_at <= now),
                (OutboundMessage.state == MessageState.SENDING)
                & free
                & (OutboundMessage.next_attempt_at <= now - SENDING_STALE_AFTER),
            )
        )
        .order_by(OutboundMessage.urgent.desc(), OutboundMessage.created_at)
        .limit(limit)
    ).all()


def _dm_reachable(settings: Any, rows: Sequence[Any]) -> set[int]:
    """The reporters of public messages in `rows` whom their account may DM (a spill's way out)."""
    dm_ok: set[int] = set()
    for name in {r.channel for r in rows}:
        ids = {r.reporter_id for r in rows if r.channel == name and r.reporter_id and not r.is_dm}
        dm_ok |= dm_possible(settings, name, ids)
    return dm_ok


def _pending(rows: Sequence[Any], dm_ok: set[int]) -> list[Pending]:
    """The due rows as the planner takes them."""
    pending = []
    for r in rows:
        group = _group(r)
        pending.append(
            Pending(
                id=r.id,
                account=r.channel,
                kind=DM if r.is_dm else POST,
                created_at=r.created_at.timestamp(),
                urgent=r.urgent,
                group=group,
                handle=r.recipient_handle,
                dm_ok=not r.is_dm and r.reporter_id in dm_ok,
                digest_ok=group is not None and ":ack:" in group,  # acknowledgements only
                lang=r.lang,
            )
        )
    return pending


def _group(row: Any) -> str | None:
    """Messages one public reply may answer together: same ticket, same update, language and visibility.

    DMs never join (their reporters must not be named in public), nor do followers-only/direct
    Mastodon threads; acknowledgements of merged reports ("ack" for the first, "merged" for the rest)
    are one group, a status update's messages another (one event).
    """
    if row.is_dm or row.ticket_id is None or row.visibility not in (None, "public", "unlisted"):
        return None
    if row.kind in ACK_KINDS:
        family = MessageKind.ACK.value
    elif row.event_id is not None:
        family = f"event{row.event_id}"
    else:
        return None
    return f"{row.channel}:t{row.ticket_id}:{family}:{row.lang}:{row.visibility or ''}"


def outbox_counts() -> dict[str, int]:
    with job_context():
        rows = db.session.execute(
            select(OutboundMessage.state, func.count()).group_by(OutboundMessage.state)
        ).all()
        return {state: int(count) for state, count in rows}
