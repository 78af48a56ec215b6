"""The outbox in a storm, on both backends: cluster replies, DM spill, digests, deleted threads, crashes."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from civictracker.channels.mastodon import MastodonChannel
from civictracker.channels.x import XChannel
from civictracker.config import Settings
from civictracker.extensions import db
from civictracker.intake.receive import receive_post
from civictracker.jobs import posts as jobs
from civictracker.models import Follower, OutboundMessage
from civictracker.outbox import sweep as outbox
from civictracker.runtime import register_channel, runtime_of, settings_of
from tests.fakes import serve
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.x_api import FakeX
from tests.intake.helpers import incoming

PLACES = ["150 Hampshire St", "400 Broadway", "88 Norfolk St", "1000 Massachusetts Ave", "50 Church St"]


@dataclasses.dataclass
class Env:
    app: Flask
    fx: FakeX
    masto: FakeMastodon
    x: XChannel
    settings: Settings

    def report(self, user: str, text: str, *, dm: bool = False, channel: str = "x") -> int:
        """A resident posts (or DMs) on the fake platform; intake stores and processes it for real."""
        if channel == "mastodon":
            ext = self.masto.add_status(
                user, f"@cambridgefix {text}", visibility="direct" if dm else "public"
            )
            author = self.masto.add_account(user)
        elif dm:
            ext, author = self.fx.add_dm(user, text), self.fx.add_user(user)
        else:
            ext, author = self.fx.add_tweet(user, f"@CambridgeFix {text}"), self.fx.add_user(user)
        kind = "dm" if dm else "mention"
        post, _ = receive_post(
            db.session, incoming(text, author=author, handle=user, kind=kind, ext=ext, channel=channel)
        )
        db.session.commit()
        jobs.process_post(post.id)
        db.session.expire_all()
        return post.id


@pytest.fixture()
def env(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Env]:
    """X capped at 4 posts per 15 min (paced: one per 3.75 min), DMs and Mastodon through the real adapters."""
    fx, masto = FakeX(), FakeMastodon()
    with serve(fx) as x_url, serve(masto) as masto_url:
        settings = dataclasses.replace(
            settings_of(app),
            channels="x,mastodon",
            x_user_id=fx.me_id,
            x_access_token="at",
            x_posts_per_15min=4,
            x_tier="enterprise",  # X self-serve refuses replies naming other reporters: no clusters
            mastodon_base_url=masto_url,
            mastodon_access_token="token",
        )
        monkeypatch.setattr(runtime_of(app), "settings", settings)
        x = XChannel(user_id=fx.me_id, bearer_token="user-token", base_url=x_url, timeout=5)
        register_channel(app, "x", x)
        register_channel(
            app,
            "mastodon",
            MastodonChannel(api_base_url=masto_url, access_token="token", request_timeout=5),
        )
        yield Env(app, fx, masto, x, settings)


def _age(minutes: float, *, sent: bool = True) -> None:
    """Time passes: every recorded time moves back (the caps' windows and the waits both see it)."""
    shift = dt.timedelta(minutes=minutes)
    for msg in db.session.scalars(select(OutboundMessage)):
        msg.created_at -= shift
        msg.next_attempt_at -= shift
        if msg.failing_since is not None:  # the retry budget's clock
            msg.failing_since -= shift
        if sent and msg.sent_at is not None:
            msg.sent_at -= shift
    db.session.commit()


def _rows() -> list[OutboundMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id)))


def _our_tweets(fx: FakeX) -> list[dict[str, Any]]:
    return [p for p in fx.posts if p["kind"] == "tweet"]


def _drain(rounds: int = 40) -> None:
    """Capacity returns: sweep, let 16 minutes pass, until nothing waits."""
    for _ in range(rounds):
        outbox.sweep_outbox()
        if not any(m.state in {"pending", "failed", "sending"} for m in _rows()):
            return
        _age(16)
    raise AssertionError("the outbox never drained")


def test_cluster_reply_answers_merged_reporters_once_and_never_names_a_dm_reporter(env: Env) -> None:
    for user in ["ana_w", "ben_k", "cai_l", "dee_m", "eli_n"]:
        env.report(user, "huge pothole at 150 Hampshire St")
    env.report("quiet_dm", "pothole at 150 Hampshire St, please fix", dm=True)
    rows = _rows()
    assert [m.kind for m in rows] == ["ack", "merged", "merged", "merged", "merged", "merged"]
    # The first reporter was answered at once; the DM went on the DM lane; the cap holds the rest.
    assert [m.state for m in rows] == ["sent", "pending", "pending", "pending", "pending", "sent"]
    assert outbox.sweep_outbox() == 0
    _age(4)  # one paced slot comes free for four waiting merged reporters: one reply covers them
    assert outbox.sweep_outbox() == 4
    rows = _rows()
    cluster = rows[1:5]
    assert {m.state for m in rows} == {"sent"}
    assert len({m.sent_external_id for m in cluster}) == 1
    assert all(m.batch_key and m.batch_key.startswith("~cluster:") for m in cluster)
    assert len({m.batch_key for m in cluster}) == 1
    tweets = _our_tweets(env.fx)
    assert len(tweets) == 2  # the first ack and one cluster reply: four reporters answered by one post
    reply = tweets[1]
    assert reply["in_reply_to"] == cluster[0].in_reply_to_id  # in the lead's thread
    for user in ["ben_k", "cai_l", "dee_m", "eli_n"]:
        assert f"@{user}" in reply["text"]
    assert "quiet_dm" not in " ".join(t["text"] for t in tweets)  # a DM reporter is never named in public
    assert "CT-" in reply["text"] and "Several of you" in reply["text"]
    dms = [p for p in env.fx.posts if p["kind"] == "dm"]
    assert len(dms) == 1 and dms[0]["to"] == env.fx.add_user("quiet_dm")
    # each reporter counts as answered exactly once
    assert Counter(m.reporter_id for m in rows if m.state == "sent") == Counter(
        {m.reporter_id: 1 for m in rows}
    )


def test_spill_to_dm_after_the_wait_then_nothing_dropped_when_capacity_returns(env: Env) -> None:
    env.report("pen_pal", "streetlight out at 50 Church St", dm=True)  # a DM before: X lets us DM back
    for user, place in zip(["first_one", "second", "pen_pal", "fourth"], PLACES[:4], strict=True):
        env.report(user, f"pothole at {place}")
    rows = [m for m in _rows() if not m.is_dm]
    assert [m.state for m in rows] == ["sent"] + ["pending"] * 3
    spiller = next(m for m in rows if m.recipient_handle == "pen_pal")
    # pen_pal has waited 11 minutes while the public lane stays full: answered by DM instead
    for msg in rows:
        msg.created_at -= dt.timedelta(minutes=11)
    db.session.commit()
    assert outbox.sweep_outbox() == 1
    spilled = db.session.get(OutboundMessage, spiller.id)
    assert spilled.state == "sent" and spilled.batch_key == f"~dm:{spiller.id}" and not spilled.is_dm
    dm = [p for p in env.fx.posts if p["kind"] == "dm"][-1]
    assert dm["to"] == env.fx.add_user("pen_pal") and "CT-" in dm["text"]
    assert [m.state for m in _rows()].count("pending") == 2  # the others (no DM possible) still wait
    _drain()
    rows = _rows()
    assert {m.state for m in rows} == {"sent"}  # nothing dropped
    posted = {p["id"] for p in env.fx.posts}
    assert {m.sent_external_id for m in rows} <= posted
    assert len(env.fx.posts) == len({m.sent_external_id for m in rows})  # nothing posted twice


def test_long_waiting_acks_of_different_tickets_share_one_digest(env: Env) -> None:
    for user, place in zip(["d_one", "d_two", "d_three", "d_four"], PLACES[:4], strict=True):
        env.report(user, f"pothole at {place}")
    _age(25, sent=False)  # 25 minutes of waiting while the lane stays full
    for msg in _rows():
        if msg.state == "sent":
            msg.sent_at = msg.sent_at - dt.timedelta(minutes=4)  # one paced slot, no more
    db.session.commit()
    assert outbox.sweep_outbox() == 3
    rows = _rows()
    digest = rows[1:]
    assert {m.state for m in digest} == {"sent"} and len({m.sent_external_id for m in digest}) == 1
    assert all(m.batch_key.startswith("~digest:") for m in digest)
    text = _our_tweets(env.fx)[-1]["text"]
    assert all(f"@{m.recipient_handle}" in text for m in digest) and "map" in text


class _Crashing:
    """The real adapter, with the worker killed right before or right after the platform call."""

    def __init__(self, inner: XChannel, *, after: bool) -> None:
        self.inner, self.after, self.armed = inner, after, True
        self.name, self.max_length, self.url_weight = inner.name, inner.max_length, inner.url_weight

    def send(self, target, text, *, idempotency_key):  # type: ignore[no-untyped-def]
        if self.armed and not self.after:
            self.armed = False
            raise KeyboardInterrupt("worker killed before posting")
        sent = self.inner.send(target, text, idempotency_key=idempotency_key)
        if self.armed:
            self.armed = False
            raise KeyboardInterrupt("worker killed after the platform accepted the post")
        return sent

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


@pytest.mark.parametrize("after", [True, False], ids=["killed-after-post", "killed-before-post"])
def test_crash_mid_batch_then_restart_posts_nothing_twice(env: Env, after: bool) -> None:
    for user in ["ana_w", "ben_k", "cai_l", "dee_m"]:
        env.report(user, "huge pothole at 150 Hampshire St")
    _age(4)
    register_channel(env.app, "x", _Crashing(env.x, after=after))
    with pytest.raises(KeyboardInterrupt):
        outbox.sweep_outbox()
    db.session.rollback()
    members = _rows()[1:]
    assert {m.state for m in members} == {"sending"} and len({m.batch_key for m in members}) == 1
    assert len(_our_tweets(env.fx)) == (2 if after else 1)
    assert outbox.sweep_outbox() == 0  # a fresh "sending" row belongs to a live worker: left alone
    _age(3, sent=False)  # the worker is gone for good: its rows are stale
    answered = outbox.sweep_outbox()
    assert answered == 3
    rows = _rows()
    assert {m.state for m in rows} == {"sent"}
    tweets = _our_tweets(env.fx)
    assert len(tweets) == 2  # the cluster reply exists exactly once
    assert {m.sent_external_id for m in rows[1:]} == {tweets[1]["id"]}


def test_lost_answer_on_a_cluster_is_found_not_reposted(env: Env) -> None:
    for user in ["ana_w", "ben_k", "cai_l"]:
        env.report(user, "huge pothole at 150 Hampshire St")
    _age(4)
    env.fx.lose_post_responses = 1  # X makes the post, then the answer is lost (503)
    assert outbox.sweep_outbox() == 0
    members = _rows()[1:]
    assert {m.state for m in members} == {"failed"} and members[0].batch_key.startswith("~cluster:")
    _age(2, sent=False)  # past the backoff
    assert outbox.sweep_outbox() == 2
    assert {m.state for m in _rows()} == {"sent"}
    assert len(_our_tweets(env.fx)) == 2


def test_deleted_source_post_falls_back_to_a_dm_or_stops(env: Env) -> None:
    env.report("pen_pal", "hello", dm=True)  # has DMed us: reachable by DM
    tweet_a = env.fx.add_tweet("pen_pal", "@CambridgeFix pothole at 400 Broadway")
    tweet_b = env.fx.add_tweet("no_dms", "@CambridgeFix pothole at 88 Norfolk St")
    env.fx.delete(tweet_a)
    env.fx.delete(tweet_b)
    for user, ext, text in [("pen_pal", tweet_a, "400 Broadway"), ("no_dms", tweet_b, "88 Norfolk St")]:
        post, _ = receive_post(
            db.session,
            incoming(f"pothole at {text}", author=env.fx.add_user(user), handle=user, ext=ext, channel="x"),
        )
        db.session.commit()
        jobs.process_post(post.id)
        _age(4)  # the cap's paced slot for the next one
    _drain()
    by_user = {m.recipient_handle: m for m in _rows()}
    via_dm, stopped = by_user["pen_pal"], by_user["no_dms"]
    assert via_dm.state == "sent" and via_dm.is_dm and via_dm.batch_key == f"~dm:{via_dm.id}"
    assert "gone" in via_dm.last_error
    dm = next(p for p in env.fx.posts if p["id"] == via_dm.sent_external_id)
    assert dm["kind"] == "dm" and dm["to"] == env.fx.add_user("pen_pal")
    # No DM possible: no new public post naming someone who took their report down; their thread is closed.
    assert (
        stopped.state == "cancelled" and stopped.sent_external_id is None and "deleted" in stopped.last_error
    )
    assert not any(p["text"].startswith("@no_dms") for p in env.fx.posts if p["kind"] == "tweet")
    follower = db.session.scalars(select(Follower).where(Follower.reporter_id == stopped.reporter_id)).one()
    assert not follower.active


def test_deleted_mastodon_status_is_answered_by_a_direct_status(env: Env) -> None:
    status = env.masto.add_status("rosa", "@cambridgefix pothole at 400 Broadway")
    env.masto.delete(status)
    post, _ = receive_post(
        db.session,
        incoming(
            "pothole at 400 Broadway",
            author=env.masto.add_account("rosa"),
            handle="rosa",
            ext=status,
            channel="mastodon",
        ),
    )
    db.session.commit()
    jobs.process_post(post.id)
    (msg,) = _rows()
    assert msg.state == "sent" and msg.is_dm and msg.batch_key == f"~dm:{msg.id}"
    sent = env.masto.posts[-1]
    assert (
        sent["visibility"] == "direct" and sent["in_reply_to"] is None and sent["text"].startswith("@rosa ")
    )
    assert len(env.masto.posts) == 1
