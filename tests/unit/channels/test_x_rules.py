"""XChannel against the faithful FakeX: read budgets, 24-hour resets, reply rules, renamed fields."""

from __future__ import annotations

import logging

import pytest

from civictracker.channels.base import REPLY_REFUSED, ChannelError, ReplyTarget
from civictracker.channels.limits import X_TIERS, poll_interval
from civictracker.channels.x import XChannel
from tests.fakes import serve
from tests.fakes.x_api import FakeX


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def _channel(fake: FakeX, url: str, clock: Clock, tier: str = "self_serve") -> XChannel:
    return XChannel(
        user_id=fake.me_id, bearer_token="t", base_url=url, timeout=5, clock=clock, tier=X_TIERS[tier]
    )


def _reply(tweet_id: str, handle: str, *others: str) -> ReplyTarget:
    return ReplyTarget(
        channel="x",
        is_dm=False,
        recipient_id="",
        recipient_handle=handle,
        in_reply_to_id=tweet_id,
        mention_handles=others,
    )


def test_poll_intervals_come_from_the_table() -> None:
    tier = X_TIERS["self_serve"]
    assert poll_interval(tier, "dm_events") == 60.0  # 15 per 15 minutes
    assert poll_interval(tier, "mentions") == 3.0  # 300 per 15 minutes
    assert poll_interval(tier, "dm_conversation_events") == 60.0  # the same bucket as the polls


def test_dm_polls_every_5_s_for_15_min_meet_no_429_and_lose_no_dm() -> None:
    clock = Clock()
    fake = FakeX(clock=clock)
    with serve(fake) as url:
        x = _channel(fake, url, clock)
        cursor = x.fetch_since(None).cursor
        sent, got = [], []
        for i in range(180):  # every 5 s for 15 minutes: the old default
            clock.now += 5
            if i % 6 == 0:
                sent.append(fake.add_dm(f"res{i}", f"streetlight {i} out"))
            result = x.fetch_since(cursor)
            cursor = result.cursor
            got += [p.external_id for p in result.posts]
        clock.now += 120
        got += [p.external_id for p in x.fetch_since(cursor).posts]
    assert fake.count_429 == {}
    assert sorted(got) == sorted(sent)
    dm_reads = [r for r in fake.requests if r[1] == "/2/dm_events"]
    assert len(dm_reads) <= 17  # the first free one + ~15 per window
    assert x.skipped_reads["dm_events"] > 150


def test_find_sent_for_a_dm_uses_the_reserve_of_the_same_budget() -> None:
    clock = Clock()
    fake = FakeX(clock=clock)
    with serve(fake) as url:
        x = _channel(fake, url, clock)
        uid = fake.add_user("ana")
        fake.add_dm("ana", "hello")
        for _ in range(14):  # polls take the window down to the reserve
            fake._limit("dm_events").remaining -= 1
        x.fetch_since(None)  # sees remaining 0 after this read... the reserve
        target = ReplyTarget(
            channel="x", is_dm=True, recipient_id=uid, recipient_handle="ana", in_reply_to_id=None
        )
        with pytest.raises(ChannelError) as info:
            x.find_sent(target, "k", text="hi")
    assert info.value.status == 429 and info.value.retry_after and info.value.retry_after > 0
    assert fake.count_429 == {}  # refused here, not by the platform


def test_after_a_24_hour_cap_the_retry_waits_for_the_24_hour_reset() -> None:
    clock = Clock()
    fake = FakeX(clock=clock)
    with serve(fake) as url:
        x = _channel(fake, url, clock, tier="enterprise")
        tid = fake.add_tweet("ana", "@CambridgeFix pothole")
        fake.exhaust_day("tweet_create", reset_in=20 * 3600, scope="app")
        with pytest.raises(ChannelError) as info:
            x.send(_reply(tid, "ana"), "Thanks", idempotency_key="k1")
        assert info.value.status == 429
        # tweepy's reset_time is the 15-minute header (< 15 min): ours is the 24-hour one
        assert info.value.retry_after == pytest.approx(20 * 3600, abs=5)
        assert "24h-app" in str(info.value)
        with pytest.raises(ChannelError):  # known spent: refused without a request
            x.send(_reply(tid, "ana"), "Thanks again", idempotency_key="k2")
    assert fake.count_429 == {"tweet_create": 1}


def test_a_24_hour_header_only_answer_is_read_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    fake = FakeX(clock=clock, only_24h_headers=True)
    with serve(fake) as url:
        x = _channel(fake, url, clock, tier="enterprise")
        t1 = fake.add_tweet("ana", "@CambridgeFix pothole")
        with caplog.at_level(logging.WARNING, logger="civictracker.channels.x"):
            x.send(_reply(t1, "ana"), "Thanks", idempotency_key="k1")
            x.send(_reply(t1, "ana"), "Thanks, fixed", idempotency_key="k2")
        assert x.windows["tweet_create"]["24h-user"][0] == fake.day_limits["tweet_create"][0] - 2
    assert sum("24-hour limit headers only" in r.getMessage() for r in caplog.records) == 1


def test_reply_rules_known_before_posting() -> None:
    clock = Clock()
    fake = FakeX(clock=clock, reply_rule="self_serve")
    with serve(fake) as url:
        x = _channel(fake, url, clock)
        ours = fake._store_tweet(fake.me_id, "Road works on Elm St this week", None)
        named = fake.add_tweet("ana", "@CambridgeFix pothole at 5 Elm St")
        quoted = fake.add_tweet("bob", "look at this", quote_of=ours)
        silent = fake.add_tweet("cid", "pothole on Elm, someone tell the city")
        assert x.reply_allowed(_reply(named, "ana")) == (True, "")
        assert x.reply_allowed(_reply(quoted, "bob"))[0] is True
        allowed, why = x.reply_allowed(_reply(silent, "cid"))
        assert not allowed and "did not mention" in why
        assert x.reply_allowed(_reply(named, "ana", "bob"))[0] is False  # naming another reporter
        posts_before = len(fake.posts)
        with pytest.raises(ChannelError) as info:
            x.send(_reply(silent, "cid"), "Thanks", idempotency_key="k")
        assert info.value.refusal == REPLY_REFUSED and not info.value.retryable
        assert len(fake.posts) == posts_before
        x.send(_reply(named, "ana"), "Thanks, logged", idempotency_key="k2")


def test_an_hour_of_403_to_every_reply_is_marked_refused() -> None:
    clock = Clock()
    fake = FakeX(clock=clock, refuse_replies_until=clock.now + 3600)
    with serve(fake) as url:
        x = _channel(fake, url, clock, tier="enterprise")
        tid = fake.add_tweet("ana", "@CambridgeFix pothole")
        with pytest.raises(ChannelError) as info:
            x.send(_reply(tid, "ana"), "Thanks", idempotency_key="k")
        assert info.value.refusal == REPLY_REFUSED and info.value.status == 403
        clock.now += 3601
        assert x.send(_reply(tid, "ana"), "Thanks", idempotency_key="k").external_id


def test_renamed_and_dropped_fields_fall_back_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    fake = FakeX(clock=clock, field_spec="current")
    with serve(fake) as url:
        x = _channel(fake, url, clock, tier="none")
        t1 = fake.add_tweet("ana", "@CambridgeFix pothole at 5 Elm St")
        d1 = fake.add_dm("bob", "my bin was not collected")
        with caplog.at_level(logging.WARNING, logger="civictracker.channels.x"):
            first = x.fetch_since(None)
            t2 = fake.add_tweet("cid", "@CambridgeFix graffiti")
            d2 = fake.add_dm("dan", "light out")
            later = x.fetch_since(first.cursor)
    assert [p.external_id for p in first.posts] == [t1, d1] or {p.external_id for p in first.posts} == {
        t1,
        d1,
    }
    assert {p.external_id for p in later.posts} == {t2, d2}
    by_id = {p.external_id: p for p in first.posts + later.posts}
    assert by_id[d1].author_id == fake.add_user("bob") and by_id[t1].conversation_id == t1
    assert "post.fields" in x.fields and "sender_id" not in x.fields["dm_event_fields"]
    messages = [r.getMessage() for r in caplog.records if "answered 400" in r.getMessage()]
    assert len(messages) == 2  # tweet.fields once, dm_event.fields once


def test_without_sender_id_our_own_dm_is_not_read_as_the_residents() -> None:
    """X's current spec drops sender_id: the sender of a one-to-one DM is inferred as the other member,
    which would make the city's own answer a new post from the resident. The events we sent are skipped."""
    clock = Clock()
    fake = FakeX(clock=clock, field_spec="current")
    with serve(fake) as url:
        x = _channel(fake, url, clock, tier="none")
        cursor = x.fetch_since(None).cursor
        uid = fake.add_user("bob")
        d1 = fake.add_dm("bob", "my bin was not collected on Elm St")
        first = x.fetch_since(cursor)
        target = ReplyTarget(
            channel="x", is_dm=True, recipient_id=uid, recipient_handle="bob", in_reply_to_id=None
        )
        ours = x.send(target, "Thanks, logged as #12", idempotency_key="k").external_id
        d2 = fake.add_dm("bob", "thank you!")
        later = x.fetch_since(first.cursor)
    assert [p.external_id for p in first.posts] == [d1] and first.posts[0].author_id == uid
    assert [p.external_id for p in later.posts] == [d2]  # not `ours`, the city's own DM
    assert ours not in {p.external_id for p in later.posts}


def test_config_knows_the_tiers_of_the_table() -> None:
    from civictracker.channels.limits import MASTODON_TIERS
    from civictracker.config import MASTODON_TIER_NAMES, X_TIER_NAMES

    assert set(X_TIER_NAMES) == set(X_TIERS) and set(MASTODON_TIER_NAMES) == set(MASTODON_TIERS)


def test_an_adapters_memory_of_ids_keeps_the_newest_and_stays_bounded() -> None:
    from civictracker.channels.bounds import ID_MEMORY, remember

    memory: dict[str, int] = {}
    for n in range(ID_MEMORY + 5):
        remember(memory, str(n), n)
    assert len(memory) == ID_MEMORY
    assert "0" not in memory and "4" not in memory and memory[str(ID_MEMORY + 4)] == ID_MEMORY + 4
