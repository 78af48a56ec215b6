"""The outbox never names a reporter who deleted their report, and no message is stuck or lost (review fixes)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import DBAPIError

from civictracker.channels.base import ChannelError
from civictracker.channels.x import XChannel
from civictracker.extensions import db
from civictracker.intake.receive import receive_post
from civictracker.jobs import posts as jobs
from civictracker.models import InboundPost, OutboundMessage, Ticket, TicketEvent
from civictracker.models.types import utcnow
from civictracker.outbox import calls as outbox_calls
from civictracker.outbox import reach, sources
from civictracker.outbox import sweep as outbox
from civictracker.runtime import register_channel
from tests.intake import test_outbox_clusters as storm
from tests.intake.helpers import incoming
from tests.intake.test_outbox_clusters import PLACES, Env, _age, _drain, _our_tweets, _rows

env = storm.env  # the storm fixture: each backend, the real X and Mastodon adapters on local fakes


class _Wrapped:
    """The real X adapter, with one of its calls replaced by the test."""

    def __init__(self, inner: XChannel, **calls: Any) -> None:
        self.inner, self.calls = inner, calls
        self.name, self.max_length, self.url_weight = inner.name, inner.max_length, inner.url_weight

    def __getattr__(self, name: str) -> Any:
        return self.calls.get(name) or getattr(self.inner, name)


def _by_handle() -> dict[str, OutboundMessage]:
    """The public replies by reporter (each of these tests queues one per reporter)."""
    return {m.recipient_handle: m for m in _rows() if not m.is_dm}


def _source(external_id: str) -> InboundPost:
    db.session.expire_all()
    post = db.session.scalar(select(InboundPost).where(InboundPost.external_id == external_id))
    assert post is not None
    return post


def _all_text(env: Env) -> str:
    return " ".join(p["text"] for p in env.fx.posts if p["kind"] == "tweet")


# -- 1. a cluster or digest names only reporters whose report still exists ---------------------------------


def test_cluster_leaves_out_reporters_who_deleted_their_report(env: Env) -> None:
    env.report("dee_m", "hello", dm=True)  # dee has DMed us: X lets us DM her back
    ids = {
        u: env.report(u, "huge pothole at 150 Hampshire St")
        for u in ["ana_w", "ben_k", "cai_l", "dee_m", "eli_n"]
    }
    sources_of = {u: db.session.get(InboundPost, i).external_id for u, i in ids.items()}
    env.fx.delete(sources_of["cai_l"])  # cai and dee take their reports down before we answer
    env.fx.delete(sources_of["dee_m"])
    _age(4)
    assert outbox.sweep_outbox() == 2  # one reply, for ben and eli only
    reply = _our_tweets(env.fx)[-1]
    assert "@eli_n" in reply["text"] and reply["in_reply_to"] == sources_of["ben_k"]
    assert "cai_l" not in _all_text(env) and "dee_m" not in _all_text(env)
    rows = {m.recipient_handle: m for m in _rows() if m.ticket_id and m.kind in {"ack", "merged"}}
    ben, cai, dee, eli = rows["ben_k"], rows["cai_l"], rows["dee_m"], rows["eli_n"]
    assert ben.state == eli.state == "sent" and ben.sent_external_id == eli.sent_external_id
    # the batch key covers exactly the reporters named
    assert (
        ben.batch_key
        == eli.batch_key
        == outbox_calls._batch_key(outbox_calls.CLUSTER_ROUTE, ben.id, [ben.id, eli.id])
    )
    assert {m.id for m in _rows() if m.batch_key == ben.batch_key} == {ben.id, eli.id}
    # cai cannot be DMed: no more replies; dee is answered by DM instead
    assert (cai.state, cai.last_error, cai.sent_external_id) == ("cancelled", sources.DELETED_NO_DM, None)
    assert (dee.state, dee.is_dm, dee.in_reply_to_id) == ("pending", True, None)
    for user in ["cai_l", "dee_m"]:  # our copies are redacted, with the ticket's internal note
        post = _source(sources_of[user])
        assert post.text == "" and post.raw == sources.REDACTED_RAW and post.redacted_at is not None
    notes = db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "source_deleted")).all()
    assert len(notes) == 2 and not any(n.is_public for n in notes)
    _drain()
    dee = db.session.get(OutboundMessage, dee.id)
    assert (
        dee.state == "sent"
        and next(p for p in env.fx.posts if p["id"] == dee.sent_external_id)["kind"] == "dm"
    )
    assert "cai_l" not in _all_text(env) and "dee_m" not in _all_text(env)


def test_member_the_platform_cannot_check_is_left_out_and_answered_later(env: Env) -> None:
    ids = {u: env.report(u, "huge pothole at 150 Hampshire St") for u in ["ana_w", "ben_k", "cai_l"]}
    cai_post = db.session.get(InboundPost, ids["cai_l"]).external_id
    asked: list[str] = []

    def post_exists(external_id: str) -> bool:
        asked.append(external_id)
        if external_id == cai_post:
            raise ChannelError("X API 429 on tweet_lookup", retryable=True, status=429)
        return env.x.post_exists(external_id)

    register_channel(env.app, "x", _Wrapped(env.x, post_exists=post_exists))
    _age(4)
    assert outbox.sweep_outbox() == 1  # the batch shrank to ben: a plain reply in his thread
    assert asked == [cai_post]
    rows = _by_handle()
    ben, cai = rows["ben_k"], rows["cai_l"]
    assert ben.state == "sent" and ben.batch_key == ben.idempotency_key
    assert "cai_l" not in _all_text(env)
    assert (cai.state, cai.batch_key, cai.attempts) == ("pending", None, 0) and "Left out" in cai.last_error
    assert _source(cai_post).redacted_at is None  # unknown is not deleted
    register_channel(env.app, "x", env.x)
    _drain()
    cai = db.session.get(OutboundMessage, cai.id)
    reply = next(p for p in env.fx.posts if p["id"] == cai.sent_external_id)
    assert cai.batch_key == cai.idempotency_key and reply["in_reply_to"] == cai_post  # on its own


def test_digest_that_shrinks_to_one_is_a_plain_reply(env: Env) -> None:
    ids = {
        u: env.report(u, f"pothole at {p}")
        for u, p in zip(["d_one", "d_two", "d_three"], PLACES, strict=False)
    }
    _age(25, sent=False)  # the acks have waited long enough for a digest
    for msg in _rows():
        if msg.state == "sent":
            msg.sent_at = msg.sent_at - dt.timedelta(minutes=4)  # one paced slot
    db.session.commit()
    gone = db.session.get(InboundPost, ids["d_three"]).external_id
    env.fx.delete(gone)
    assert outbox.sweep_outbox() == 1
    rows = _by_handle()
    two, three = rows["d_two"], rows["d_three"]
    assert two.state == "sent" and two.batch_key == two.idempotency_key  # a plain reply, no digest
    assert "d_three" not in _all_text(env)
    assert three.state == "cancelled" and _source(gone).text == ""


# -- 2. a send refused because the source is gone redacts our copy -----------------------------------------


def test_refused_reply_to_a_deleted_post_redacts_it_and_the_ticket_triage(env: Env) -> None:
    tweet = env.fx.add_tweet("no_dms", "@CambridgeFix pothole at 88 Norfolk St")
    env.fx.delete(tweet)
    post, _ = receive_post(
        db.session,
        incoming(
            "pothole at 88 Norfolk St",
            author=env.fx.add_user("no_dms"),
            handle="no_dms",
            ext=tweet,
            channel="x",
        ),
    )
    db.session.commit()
    jobs.process_post(post.id)  # the ack is refused at once: the thread is gone
    (msg,) = _rows()
    assert msg.state == "cancelled" and msg.last_error == sources.DELETED_NO_DM
    gone = _source(tweet)
    assert gone.text == "" and gone.raw == sources.REDACTED_RAW and gone.redacted_at is not None
    ticket = db.session.get(Ticket, gone.ticket_id)
    assert "reasons" not in ticket.triage and ticket.triage["service_code"] == "pothole"
    (event,) = db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "source_deleted"))
    assert not event.is_public and f"post {gone.id}" in event.internal_note


# -- 3. a DM spill the platform refuses goes back to the public lane ---------------------------------------


def _dm_creates(env: Env, user_id: str) -> int:
    return sum(
        1
        for m, path, _ in env.fx.requests
        if m == "POST" and path == f"/2/dm_conversations/with/{user_id}/messages"
    )


def test_refused_dm_spill_is_answered_in_public_and_not_spilled_again(env: Env) -> None:
    env.report("pen_pal", "streetlight out at 50 Church St", dm=True)  # a DM before: X would let us DM back
    for user, place in zip(["first_one", "second", "pen_pal", "fourth"], PLACES[:4], strict=True):
        env.report(user, f"pothole at {place}")
    pen_pal = env.fx.add_user("pen_pal")
    env.fx.dm_closed.add(pen_pal)  # ...but she has closed her DMs since
    before = _dm_creates(env, pen_pal)  # the DM acknowledging her DM report
    spiller = next(m for m in _rows() if m.recipient_handle == "pen_pal" and not m.is_dm)
    for msg in _rows():
        msg.created_at -= dt.timedelta(minutes=11)  # past the spill wait, the public lane still full
    db.session.commit()
    assert outbox.sweep_outbox() == 0
    assert _dm_creates(env, pen_pal) == before + 1  # the spill was tried, and refused
    row = db.session.get(OutboundMessage, spiller.id)
    assert (row.state, row.is_dm, row.batch_key, row.attempts) == ("pending", False, None, 0)
    assert row.last_error.startswith(reach.DM_REFUSED) and "cannot send messages" in row.last_error
    assert outbox.dm_possible(env.settings, "x", {row.reporter_id}) == set()
    for msg in _rows():
        msg.created_at -= dt.timedelta(minutes=11)
    db.session.commit()
    outbox.sweep_outbox()
    assert _dm_creates(env, pen_pal) == before + 1  # not spilled again
    _drain()
    row = db.session.get(OutboundMessage, spiller.id)
    assert row.state == "sent" and row.last_error.startswith(reach.DM_REFUSED)
    reply = next(p for p in env.fx.posts if p["id"] == row.sent_external_id)
    assert reply["kind"] == "tweet" and "@pen_pal" in reply["text"]  # her reply, or a digest naming her
    assert _dm_creates(env, pen_pal) == before + 1


# -- 4. nothing stuck: unsettled calls back off and end dead; stuck keys do not starve the rest ------------


def _lost_reply(env: Env) -> OutboundMessage:
    """ben's ack was posted but the answer was lost: failed, its key kept (the outcome is unknown)."""
    for user, place in zip(["ana_w", "ben_k"], PLACES, strict=False):
        env.report(user, f"pothole at {place}")
    _age(4)
    env.fx.lose_post_responses = 1
    assert outbox.sweep_outbox() == 0
    ben = _by_handle()["ben_k"]
    assert ben.state == "failed" and ben.batch_key == ben.idempotency_key
    return ben


def test_unsettled_call_backs_off_then_dies_and_an_admin_retry_finds_it(env: Env) -> None:
    from civictracker.cli.commands import civictracker_cli

    ben = _lost_reply(env)

    def find_sent(target: Any, key: str, **_: Any) -> Any:
        raise ChannelError("X API 403 on user_tweets: Forbidden", retryable=False, status=403)

    register_channel(env.app, "x", _Wrapped(env.x, find_sent=find_sent))
    states = []
    for _ in range(12):
        _age(61, sent=False)  # past any backoff
        outbox.sweep_outbox()
        row = db.session.get(OutboundMessage, ben.id)
        states.append(row.state)
        if row.state == "dead":
            break
        assert row.state == "failed" and row.next_attempt_at > utcnow()  # pushed back, not asked again now
    assert states[-1] == "dead" and len(states) == env.settings.outbox_max_attempts - 1
    assert row.batch_key == ben.idempotency_key and "Cannot check" in row.last_error  # outcome unknown
    assert len(_our_tweets(env.fx)) == 2
    register_channel(env.app, "x", env.x)  # the platform answers again; an admin retries the dead
    result = env.app.test_cli_runner().invoke(civictracker_cli, ["outbox", "--retry-dead"])
    assert result.exit_code == 0, result.output
    row = db.session.get(OutboundMessage, ben.id)
    tweets = _our_tweets(env.fx)
    assert row.state == "sent" and row.sent_external_id == tweets[-1]["id"]
    assert len(tweets) == 2  # found, not posted again


def test_recovery_takes_the_longest_due_first_and_pushes_stuck_keys_back(env: Env) -> None:
    for user, place in zip(["ana_w", "ben_k", "cai_l", "dee_m"], PLACES, strict=False):
        env.report(user, f"pothole at {place}")
    rows = [m for m in _rows() if m.state == "pending"]
    assert len(rows) == 3
    now = utcnow()
    for i, msg in enumerate(rows):  # three calls with unknown outcomes; the first two cannot be settled
        msg.state, msg.attempts = "failed", 1
        msg.batch_key = f"k-{i}-{'stuck' if i < 2 else 'fine'}"
        msg.next_attempt_at = now - dt.timedelta(minutes=10 - i)
    db.session.commit()

    def find_sent(target: Any, key: str, **_: Any) -> Any:
        if "stuck" in key:
            raise ChannelError("X API 403 on user_tweets", retryable=False, status=403)
        return None

    register_channel(env.app, "x", _Wrapped(env.x, find_sent=find_sent))
    outbox._recover_unconfirmed(env.app, utcnow(), limit=2)
    db.session.expire_all()
    stuck = [db.session.get(OutboundMessage, m.id) for m in rows[:2]]
    assert all(m.next_attempt_at > utcnow() and m.attempts == 2 for m in stuck)  # backed off
    outbox._recover_unconfirmed(env.app, utcnow(), limit=2)
    fine = db.session.get(OutboundMessage, rows[2].id)
    assert (fine.state, fine.batch_key) == ("failed", None)  # settled: not posted, free to send


def test_an_unexpected_error_is_retried_then_dead_never_stuck_sending(env: Env) -> None:
    env.report("ana_w", f"pothole at {PLACES[0]}")

    def send(target: Any, text: str, *, idempotency_key: str) -> Any:
        raise RuntimeError("unreadable answer")

    register_channel(env.app, "x", _Wrapped(env.x, send=send))
    env.report("ben_k", f"pothole at {PLACES[1]}")
    ben = _by_handle()["ben_k"]
    for _ in range(env.settings.outbox_max_attempts + 2):
        _age(61)
        outbox.sweep_outbox()  # does not raise
        row = db.session.get(OutboundMessage, ben.id)
        assert row.state != "sending" and "RuntimeError" in row.last_error
        if row.state == "dead":
            break
    assert row.state == "dead" and row.attempts == env.settings.outbox_max_attempts
    assert len(_our_tweets(env.fx)) == 1


def test_a_message_with_no_attempts_left_is_dead_at_claim(env: Env) -> None:
    env.report("ana_w", f"pothole at {PLACES[0]}")
    env.report("ben_k", f"pothole at {PLACES[1]}")
    ben = _by_handle()["ben_k"]
    ben.state, ben.attempts = "failed", env.settings.outbox_max_attempts  # its worker died on the last try
    db.session.commit()
    _age(16)
    outbox.sweep_outbox()
    row = db.session.get(OutboundMessage, ben.id)
    assert row.state == "dead" and row.sent_external_id is None
    assert len(_our_tweets(env.fx)) == 1


# -- 5. a slow resolver never overwrites a claim made meanwhile --------------------------------------------


def test_slow_resolver_leaves_a_fresh_claim_alone(env: Env) -> None:
    ben = _lost_reply(env)
    other = create_engine(str(db.engine.url))
    blocked: list[bool] = []

    def find_sent(target: Any, key: str, **_: Any) -> Any:
        # While the platform answers, another sender settles the row and claims it afresh (same plain key).
        try:
            with other.begin() as conn:
                if other.dialect.name == "postgresql":
                    conn.execute(text("SET LOCAL lock_timeout = '300ms'"))
                conn.execute(
                    text("UPDATE outbound_messages SET state='sending', attempts=attempts+1 WHERE id=:i"),
                    {"i": ben.id},
                )
            blocked.append(False)
        except DBAPIError:
            blocked.append(True)  # PostgreSQL: the resolver holds the row lock, so no claim can happen
        return None  # "not posted", as the resolver read it

    register_channel(env.app, "x", _Wrapped(env.x, find_sent=find_sent))
    assert outbox_calls.resolve_batch(env.app, ben.idempotency_key, utcnow()) == 0
    other.dispose()
    db.session.expire_all()
    row = db.session.get(OutboundMessage, ben.id)
    if blocked == [True]:
        assert db.engine.dialect.name == "postgresql"
        assert (row.state, row.batch_key, row.attempts) == ("failed", None, 1)
    else:
        assert blocked == [False]
        # the other sender's claim stands: cleared, it would be posted again by the next round
        assert (row.state, row.batch_key, row.attempts) == ("sending", ben.idempotency_key, 2)
