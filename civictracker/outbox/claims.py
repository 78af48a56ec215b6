"""The bookkeeping that makes a platform call happen once: lock rows, claim them, compare-and-set, commit."""

from __future__ import annotations

import datetime as dt
import enum
import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm.attributes import set_committed_value

from civictracker.extensions import db
from civictracker.models import MessageState, OutboundMessage, Reporter, Ticket
from civictracker.models.outbox import MESSAGE_TRANSITIONS, WAITING_STATES
from civictracker.models.transitions import check_transition
from civictracker.outbox.reach import DM_REFUSED

log = logging.getLogger(__name__)

SENDING_STALE_AFTER = dt.timedelta(minutes=2)  # a "sending" row older than this lost its worker
_TRY_AGAIN = {"40P01", "40001"}  # PostgreSQL: deadlock detected, serialization failure


def move(msg: OutboundMessage, state: MessageState) -> None:
    """Set the message's state, as MESSAGE_TRANSITIONS allows (IllegalTransition otherwise)."""
    msg.state = check_transition(MESSAGE_TRANSITIONS, msg.state, state)


def stale(msg: OutboundMessage, now: dt.datetime) -> bool:
    """A "sending" row whose worker is gone: nobody will settle it but a resolver."""
    return msg.state == MessageState.SENDING and now - msg.next_attempt_at >= SENDING_STALE_AFTER


def unconfirmed(msg: OutboundMessage, now: dt.datetime) -> bool:
    """A recorded platform call whose outcome is unknown: its worker died, or the answer was lost.

    "pending" with a key is a row that died with its outcome unknown and was given another round
    (`outbox --retry-dead`): the platform is asked first, as for any other unsettled call.
    """
    return msg.batch_key is not None and (msg.state in WAITING_STATES or stale(msg, now))


def error_note(msg: OutboundMessage, error: str) -> str:
    """The row's new last_error: `error`, after the DM refusal line if the row has one (see DM_REFUSED)."""
    old = msg.last_error or ""
    if old.startswith(DM_REFUSED) and not error.startswith(DM_REFUSED):
        return (old.split("\n", 1)[0][:500] + "\n" + error)[:2000]
    return error[:2000]


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


def claim(members: list[OutboundMessage], key: str, now: dt.datetime) -> bool:
    """Mark the members "sending" under `key`, each only if it is still as we read it (compare_and_set).

    On SQLite nothing locks the rows we read (the web process and the poll loop may both pick a pending
    message); on PostgreSQL it costs nothing beside the row lock. False when another sender changed any
    member since: the caller rolls back and leaves the batch.
    """
    return all(
        compare_and_set(
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


def claim_each(members: list[OutboundMessage], now: dt.datetime) -> list[OutboundMessage]:
    """`claim` for each member alone, under its own idempotency key: the members claimed, in order.

    PostgreSQL: one statement for all (compare_and_set_each); SQLite: one each, as `claim` does."""
    return compare_and_set_each(
        [
            (
                msg,
                {
                    "state": MessageState.SENDING,
                    "attempts": msg.attempts + 1,
                    "next_attempt_at": now,
                    "batch_key": msg.idempotency_key,
                },
                None,
            )
            for msg in members
        ]
    )


def settle(msg: OutboundMessage, key: str, **values: Any) -> bool:
    """Write `values` on one member of the call `key` only if it is still as we read it.

    On SQLite nothing locks the rows a resolver read while it waited for the platform: another sender
    may have settled them and claimed them afresh meanwhile. Its claim is left alone.
    """
    return compare_and_set(msg, values, key=key)


def compare_and_set(msg: OutboundMessage, values: dict[str, Any], *, key: str | None = None) -> bool:
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


def compare_and_set_each(
    changes: list[tuple[OutboundMessage, dict[str, Any], str | None]],
) -> list[OutboundMessage]:
    """`compare_and_set` of each (message, values, key): the messages written, in order.

    PostgreSQL: one UPDATE ... FROM (VALUES ...) RETURNING for each set of columns, the same test per row
    (a reply page's claims and settlements were two statements per reply, a third of a page's statements).
    SQLite: one compare_and_set each.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return [msg for msg, values, key in changes if compare_and_set(msg, values, key=key)]
    groups: dict[tuple[tuple[str, ...], bool], list[tuple[OutboundMessage, dict[str, Any], str | None]]] = {}
    for msg, values, key in changes:
        if "state" in values:
            check_transition(MESSAGE_TRANSITIONS, msg.state, values["state"])
        groups.setdefault((tuple(sorted(values)), key is not None), []).append((msg, values, key))
    written: set[int] = set()
    for (names, with_key), rows in groups.items():
        written.update(_compare_and_set_rows(names, with_key, rows))
    done = [msg for msg, _, _ in changes if msg.id in written]
    for msg, values, _ in changes:
        if msg.id in written:
            for name, value in values.items():
                set_committed_value(msg, name, value)
    return done


def _compare_and_set_rows(
    names: tuple[str, ...], with_key: bool, rows: list[tuple[OutboundMessage, dict[str, Any], str | None]]
) -> set[int]:
    """One UPDATE of `names` on each row still as read (PostgreSQL): the ids it wrote."""
    params: dict[str, list[Any]] = {
        "w_id": [msg.id for msg, _, _ in rows],
        "w_state": [_plain(msg.state) for msg, _, _ in rows],
        "w_attempts": [msg.attempts for msg, _, _ in rows],
    }
    if with_key:
        params["w_key"] = [key for _, _, key in rows]
    for name in names:
        params[f"v_{name}"] = [_plain(values[name]) for _, values, _ in rows]
    return set(db.session.execute(_rows_statement(names, with_key), params).scalars())


def _plain(value: Any) -> Any:
    """A value as its column stores it (an enum's value; an aware datetime in UTC)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use an aware datetime")
        return value.astimezone(dt.UTC)
    return value


@lru_cache(maxsize=16)
def _rows_statement(names: tuple[str, ...], with_key: bool) -> Any:
    """The UPDATE ... FROM unnest(arrays) of compare_and_set_each, as fixed text: one statement whatever
    the number of rows, so neither SQLAlchemy nor the driver parses it anew for each page."""
    table = OutboundMessage.__table__
    dialect = postgresql.dialect()
    tested = ["w_id", "w_state", "w_attempts", *(["w_key"] if with_key else [])]
    given = [*tested, *(f"v_{n}" for n in names)]
    column_of = {"w_id": "id", "w_state": "state", "w_attempts": "attempts", "w_key": "batch_key"}
    column_of.update({f"v_{n}": n for n in names})
    arrays = ", ".join(
        f"CAST(:{g} AS {table.c[column_of[g]].type.compile(dialect=dialect)}[])" for g in given
    )
    tests = " AND ".join(
        f"m.{column_of[g]} = g.{g}"
        for g in ("w_id", "w_state", "w_attempts", *(["w_key"] if with_key else []))
    )
    sets = ", ".join(f"{n} = g.v_{n}" for n in names)
    # (names are the model's columns, never input)
    return text(
        f"UPDATE {table.name} AS m SET {sets} FROM unnest({arrays}) AS g({', '.join(given)}) "  # noqa: S608
        f"WHERE {tests} RETURNING m.id"
    )


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


def first_public_reply(rows: list[OutboundMessage], now: dt.datetime) -> None:
    """Stamp the tickets of messages just sent with their first public reply, if they have none yet.

    PostgreSQL: a ticket an intake page holds (one more report of it, in a page that commits only at its
    end) is not waited for: the sender would sleep for the rest of that page while holding the rows it
    stamped before, on which the other worker's next page then waits in turn. It is stamped by a job
    instead, with the same time (stamp_first_replies), or here, waiting, when jobs run inline.
    """
    ticket_ids = sorted({msg.ticket_id for msg in rows if msg.ticket_id})
    if not ticket_ids:
        return
    # The first public reply is set once: one conditional UPDATE, instead of loading each ticket (with
    # its geometries) to look at one column. Every caller commits right after, which expires any copy.
    tickets = Ticket.__table__
    if db.session.get_bind().dialect.name != "postgresql":
        stamp_first_replies(ticket_ids, now)
        return
    due = set(db.session.scalars(_UNSTAMPED, {"ids": ticket_ids}))  # (a committed stamp: nothing to do)
    if not due:
        return
    free = (
        select(tickets.c.id)
        .where(tickets.c.id.in_(sorted(due)), tickets.c.first_public_reply_at.is_(None))
        .order_by(tickets.c.id)
        .with_for_update(skip_locked=True)
    )
    stamped = set(
        db.session.scalars(
            update(tickets)
            .where(tickets.c.id.in_(free.scalar_subquery()))
            .values(first_public_reply_at=now)
            .returning(tickets.c.id)
        )
    )
    busy = sorted(due - stamped)
    if busy:
        _stamp_later(busy, now)


_UNSTAMPED = text("SELECT id FROM tickets WHERE id = ANY(:ids) AND first_public_reply_at IS NULL")


def stamp_first_replies(ticket_ids: list[int], now: dt.datetime) -> None:
    """Stamp these tickets' first public reply at `now` unless one was stamped earlier (waits for their
    row locks)."""
    tickets = Ticket.__table__
    db.session.execute(
        update(tickets)
        .where(
            tickets.c.id.in_(ticket_ids),
            (tickets.c.first_public_reply_at.is_(None)) | (tickets.c.first_public_reply_at > now),
        )
        .values(first_public_reply_at=now)
    )


def _stamp_later(ticket_ids: list[int], now: dt.datetime) -> None:
    """The tickets an intake page holds: a job stamps them once it has committed (inline: now, waiting)."""
    from civictracker.queue import get_queue

    queue = get_queue()
    if not queue.is_inline:
        from redis.exceptions import RedisError

        try:
            queue.enqueue("civictracker.outbox.sweep.stamp_first_replies_job", ticket_ids, now.isoformat())
            return
        except RedisError as exc:  # no job: stamped here, waiting as before
            log.warning("could not enqueue the first-reply stamp of tickets %s (%s)", ticket_ids, exc)
    stamp_first_replies(ticket_ids, now)


def commit_keeping_loaded() -> None:
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


def commit_settled(mark_sent: Callable[..., None], *args: Any, tries: int = 3) -> None:
    """Run `mark_sent` (mark posted messages sent) and commit; chosen as a deadlock's victim, run it
    again, as PostgreSQL asks.

    Stamping the tickets' first public reply can meet an intake page updating the same tickets in another
    order. If every try fails, the messages stay "sending" under their key and `resolve_batch` settles
    them later: posted once, recorded late.
    """
    for attempt in range(1, tries + 1):
        try:
            mark_sent(*args)
            db.session.commit()
            return
        except OperationalError as exc:
            db.session.rollback()
            if attempt == tries or getattr(exc.orig, "sqlstate", None) not in _TRY_AGAIN:
                raise
            log.warning("settling sent messages: %s; trying again", exc.orig)
