"""A failed platform call: try again after a backoff until the retry budget (time) runs out, re-route, or
give up.

The budget is time, not attempts: a reply whose calls keep failing is retried on one backoff schedule
(5 s doubling up to BACKOFF_CAP_S) for at least the city's answer target from its first failure
(`failing_since`), and is dead only once that time is over and its attempts are spent too. A platform
that said when to come back (429/503 Retry-After, X's x-rate-limit-reset) is not asked before then.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from flask import Flask

from civictracker.channels.base import REPLY_REFUSED, ChannelError, ReplyTarget
from civictracker.channels.retry import backoff_delay
from civictracker.extensions import db
from civictracker.models import MessageState, OutboundMessage
from civictracker.outbox.claims import error_note, move
from civictracker.outbox.reach import DM_REFUSED
from civictracker.outbox.refusals import BY_DM, NOWHERE, answer_refused
from civictracker.outbox.sources import DELETED_NO_DM, forget_gone_source
from civictracker.runtime import city_of, settings_of

log = logging.getLogger(__name__)

BACKOFF_CAP_S = 300.0  # the longest wait between two calls: a platform back up is tried within 5 min


@dataclass(frozen=True)
class RetryPolicy:
    """When a failing reply is dead: `max_attempts` spent and `budget` passed since its first failure."""

    max_attempts: int
    budget: dt.timedelta

    def spent(self, msg: OutboundMessage, now: dt.datetime) -> bool:
        if msg.attempts < self.max_attempts:
            return False
        # never failed on a platform (its workers died mid-call each time): the attempts alone decide
        return msg.failing_since is None or now - msg.failing_since >= self.budget


# The default budget is this many times the city's answer target: a platform down for the whole target
# (an hour) still gets every reply out once it is back, rather than losing the first ones at the edge.
BUDGET_TARGETS = 2


def retry_policy(app: Flask) -> RetryPolicy:
    """The app's policy: CIVICTRACKER_OUTBOX_RETRY_BUDGET_S, else twice the city's first-response target."""
    from civictracker.services.inbox import first_response_minutes

    settings = settings_of(app)
    target_s = 60.0 * first_response_minutes(city_of(app).meta)
    budget_s = settings.outbox_retry_budget_s or BUDGET_TARGETS * target_s
    return RetryPolicy(settings.outbox_max_attempts, dt.timedelta(seconds=budget_s))


def note_failing(msg: OutboundMessage, now: dt.datetime) -> None:
    """Start the retry budget's clock at the first failure (kept until the message is settled)."""
    if msg.failing_since is None:
        msg.failing_since = now


# on_failure's status when the answered post is gone and its author can be DMed: the caller sends the
# lead by DM at once (the send lives in calls.py, which calls this module).
REROUTE_TO_DM = "dm"


def backoff(attempts: int, retry_after: float | None = None) -> dt.timedelta:
    """How long a message waits after its `attempts`-th call failed: 5 s doubling up to 5 minutes, +-20%,
    and at least what the platform asked for. The formula is the channels' one (backoff_delay)."""
    return dt.timedelta(
        seconds=backoff_delay(attempts, base=5.0, cap=BACKOFF_CAP_S, jitter=0.2, retry_after=retry_after)
    )


def call_failure(exc: Exception, key: str) -> ChannelError:
    """A failed platform call as `on_failure` takes it. Called in the `except` block of the call."""
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


def on_failure(
    app: Flask,
    channel: Any,
    members: list[OutboundMessage],
    target: ReplyTarget,
    exc: ChannelError,
    now: dt.datetime,
) -> tuple[str, dt.datetime | None]:
    """Settle the members of a failed call: the status ("retry", "dead", "cancelled" or REROUTE_TO_DM),
    and when a lone member is due again (the caller enqueues its retry job for then), else None."""
    if _source_gone(channel, target, exc):
        return _answer_elsewhere(app, members, now), None
    if target.is_dm and not members[0].is_dm and not exc.retryable:
        return _dm_refused(members, exc, now), None
    if exc.refusal == REPLY_REFUSED and not target.is_dm:
        # the platform will not take this reply (X's reply rules): another way to the resident
        outcome = answer_refused(settings_of(app), members, exc, now)
        if outcome == BY_DM:
            return REROUTE_TO_DM, None
        return ("dead", None) if outcome == NOWHERE else ("retry", now)
    for msg in members:
        msg.last_error = error_note(msg, str(exc))
    if not exc.retryable and len(members) == 1:
        lead = members[0]
        move(lead, MessageState.DEAD)
        db.session.commit()
        log.warning("outbound message %s is dead after %s attempts: %s", lead.id, lead.attempts, exc)
        return "dead", None
    return _try_later(retry_policy(app), members, exc, now)


def _try_later(
    policy: RetryPolicy, members: list[OutboundMessage], exc: ChannelError, now: dt.datetime
) -> tuple[str, dt.datetime | None]:
    """Each member is due again after its backoff, or dead once its budget is spent (time and attempts).

    A retryable failure may come after the post was made (timeout, 5xx): the key stays, and the next
    round asks the platform first. A refused cluster is known unsent: its members are freed.
    """
    status = "retry"
    for msg in members:
        if not exc.retryable:
            msg.batch_key = None
        note_failing(msg, now)
        if policy.spent(msg, now):
            move(msg, MessageState.DEAD)
            status = "dead"
        else:
            move(msg, MessageState.FAILED)
            msg.next_attempt_at = now + backoff(msg.attempts, exc.retry_after)
    lead = members[0]
    due = lead.next_attempt_at if len(members) == 1 and lead.state == MessageState.FAILED else None
    db.session.commit()
    if status == "dead":
        log.warning("outbound batch %s: some members are dead after the last attempt: %s", lead.id, exc)
    return status, due


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


def _dm_refused(members: list[OutboundMessage], exc: ChannelError, now: dt.datetime) -> str:
    """A public message spilled to DM, and the platform refused the DM (X 403 "You cannot send messages to
    this user": they closed their DMs). Nothing was sent: it goes back to the public lane, due now, its
    attempt given back (the refusal was about the DM, not the reply). The DM_REFUSED line keeps the sweep
    from spilling this reporter to DM again for a day (dm_possible)."""
    for msg in members:  # a spill is always one message; a loop keeps the types simple
        move(msg, MessageState.PENDING)
        msg.batch_key, msg.next_attempt_at = None, now
        msg.attempts = max(0, msg.attempts - 1)
        msg.last_error = f"{DM_REFUSED}: {exc}; answered in public instead."[:2000]
    db.session.commit()
    log.warning("outbound message %s: DM refused (%s); back to the public lane", members[0].id, exc)
    return "retry"


def _answer_elsewhere(app: Flask, members: list[OutboundMessage], now: dt.datetime) -> str:
    """The post we answered was deleted: reach its author by DM if the platform allows it (REROUTE_TO_DM);
    otherwise stop answering them about this ticket. A new public post naming someone who just deleted
    their report would undo their choice (see sources.reroute_thread). Our copy of the post is redacted
    now (check_sources may never revisit it). Other members of a cluster go back to the queue."""
    lead = members[0]
    for msg in members[1:]:
        move(msg, MessageState.PENDING)
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
        move(lead, MessageState.FAILED)
        lead.is_dm = True
        lead.last_error = f"The post {gone} we were answering is gone; answered by DM instead."
        db.session.commit()
        return REROUTE_TO_DM
    move(lead, MessageState.CANCELLED)
    lead.last_error = DELETED_NO_DM
    db.session.commit()
    return "cancelled"
