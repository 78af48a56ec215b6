"""XChannel with the real tweepy client against the fake X API v2."""

from __future__ import annotations

import json
import time

import pytest

from civictracker.channels.base import ChannelError, ReplyTarget, deliver_once
from civictracker.channels.x import XChannel
from civictracker.postlength import weighted_length
from tests.fakes.x_api import FakeX


def _public(post_id: str, handle: str = "ana") -> ReplyTarget:
    return ReplyTarget(
        channel="x", is_dm=False, recipient_id="", recipient_handle=handle, in_reply_to_id=post_id
    )


def test_fetch_mentions_and_dms_since_cursor(fake_x: FakeX, x_channel: XChannel) -> None:
    t1 = fake_x.add_tweet(
        "ana", "@CambridgeFix pothole at 5 Main St", coordinates=(42.3601, -71.0942), lang="en"
    )
    fake_x.add_tweet("carl", "unrelated chatter")  # not a mention
    d1 = fake_x.add_dm("bob", "streetlight out on Elm St")
    first = x_channel.fetch_since(None)
    assert [(p.external_id, p.kind) for p in first.posts] == [(t1, "mention"), (d1, "dm")]
    ana = first.posts[0]
    assert (ana.author_handle, ana.lat, ana.lon, ana.lang) == ("ana", 42.3601, -71.0942, "en")
    assert ana.conversation_id == t1 and ana.created_at.tzinfo is not None
    assert ana.raw["data"]["id"] == t1 and ana.raw["includes"]["users"][0]["username"] == "ana"
    assert first.posts[1].conversation_id == f"{fake_x.me_id}-{fake_x.add_user('bob')}"
    assert json.loads(first.cursor or "") == {"mentions": t1, "dms": d1, "started": "1"}

    # nothing new: same cursor, no posts; the request used since_id
    again = x_channel.fetch_since(first.cursor)
    assert again.posts == [] and json.loads(again.cursor or "") == json.loads(first.cursor or "")
    mention_calls = [r for r in fake_x.requests if r[1].endswith("/mentions")]
    assert mention_calls[-1][2]["since_id"] == t1
    assert "referenced_tweets" in mention_calls[-1][2]["tweet.fields"]

    t2 = fake_x.add_tweet("dora", "@cambridgefix graffiti on the bridge")
    d2 = fake_x.add_dm("bob", "still dark")
    later = x_channel.fetch_since(first.cursor)
    assert [p.external_id for p in later.posts] == [t2, d2]


def test_many_mentions_are_paged_not_lost(fake_x: FakeX, x_channel: XChannel) -> None:
    start = x_channel.fetch_since(None).cursor
    ids = [fake_x.add_tweet(f"user{i}", f"@CambridgeFix report {i}") for i in range(230)]
    got = x_channel.fetch_since(start)
    assert [p.external_id for p in got.posts] == ids  # oldest first, all three pages
    assert sum(1 for r in fake_x.requests if r[1].endswith("/mentions")) == 1 + 3


def test_own_posts_and_dms_are_skipped(fake_x: FakeX, x_channel: XChannel) -> None:
    t = fake_x.add_tweet("ana", "@CambridgeFix tree down on Oak St")
    sent = x_channel.send(_public(t), "Thanks, ticket #CT-7", idempotency_key="ack:7:ana")
    x_channel.send(
        ReplyTarget(
            channel="x",
            is_dm=True,
            recipient_id=fake_x.add_user("bob"),
            recipient_handle="bob",
            in_reply_to_id=None,
        ),
        "Ticket #CT-8",
        idempotency_key="ack:8:bob",
    )
    posts = x_channel.fetch_since(None).posts
    assert [p.external_id for p in posts] == [t]
    assert sent.external_id not in {p.external_id for p in posts}


def test_reply_to_our_tweet_is_kind_reply(fake_x: FakeX, x_channel: XChannel) -> None:
    t = fake_x.add_tweet("ana", "@CambridgeFix pothole on Hampshire St")
    ours = x_channel.send(_public(t), "Got it: ticket #CT-9", idempotency_key="ack:9:ana")
    answer = fake_x.add_tweet("ana", "it's near the corner of Prospect", in_reply_to=ours.external_id)
    post = next(p for p in x_channel.fetch_since(None).posts if p.external_id == answer)
    assert post.kind == "reply" and post.in_reply_to_id == ours.external_id and post.conversation_id == t


def test_threaded_reply_and_dm_by_dm(fake_x: FakeX, x_channel: XChannel) -> None:
    t = fake_x.add_tweet("ana", "@CambridgeFix broken signal at Mass Ave")
    reply = x_channel.send(
        _public(t), "Thanks! Ticket #CT-12 https://civic.example/t/12", idempotency_key="k1"
    )
    stored = fake_x.tweets[reply.external_id]
    assert stored["referenced_tweets"] == [{"type": "replied_to", "id": t}]
    assert stored["conversation_id"] == t and stored["author_id"] == fake_x.me_id
    # the resident is named first, and no tag is added
    assert reply.text == "@ana Thanks! Ticket #CT-12 https://civic.example/t/12"

    bob = fake_x.add_user("bob")
    dm = x_channel.send(
        ReplyTarget(channel="x", is_dm=True, recipient_id=bob, recipient_handle="bob", in_reply_to_id=None),
        "Your report is ticket #CT-13",
        idempotency_key="k2",
    )
    assert fake_x.posts[-1] == {"kind": "dm", "id": dm.external_id, "text": dm.text, "to": bob}
    assert [p["kind"] for p in fake_x.posts] == ["tweet", "dm"]  # the DM produced no public tweet


def test_reply_too_long_is_shortened_keeping_ref_and_url(fake_x: FakeX, x_channel: XChannel) -> None:
    t = fake_x.add_tweet("ana", "@CambridgeFix sidewalk heaved")
    url = "https://civic.example.org/tickets/123456?lang=en&utm_source=x&utm_medium=reply&ref=" + "a" * 60
    text = (
        "Thanks for your report about the heaved sidewalk on Massachusetts Avenue between Prospect Street "
        "and Essex Street near Central Square. It is ticket #CT-123456 and the crew expects to fix it by "
        "Friday 12 January, weather permitting. Follow it here: " + url + " Reply 'stop' to stop updates."
    )
    sent = x_channel.send(_public(t), text, idempotency_key="ack:123456")
    assert weighted_length(sent.text, 23, wide_weight=2) <= 280
    assert "#CT-123456" in sent.text and url in sent.text and "…" in sent.text and "·" not in sent.text
    assert fake_x.posts[-1]["text"] == sent.text


def test_api_down_then_recovers_nothing_lost(fake_x: FakeX, x_channel: XChannel) -> None:
    cursor = x_channel.fetch_since(None).cursor
    t = fake_x.add_tweet("ana", "@CambridgeFix flooding on Memorial Dr")
    fake_x.go_down(4)
    with pytest.raises(ChannelError) as down:
        x_channel.fetch_since(cursor)
    assert down.value.retryable and down.value.status == 503
    # one stream failing keeps its cursor and reports the error; the other stream still advances
    fake_x.go_down(1)
    partial = x_channel.fetch_since(cursor)
    assert partial.posts == [] and [e.where for e in partial.errors] == ["mentions"]
    fake_x.go_down(0)
    recovered = x_channel.fetch_since(partial.cursor)
    assert [p.external_id for p in recovered.posts] == [t]


def test_send_during_outage_is_retryable_and_posts_once(fake_x: FakeX, x_channel: XChannel) -> None:
    t = fake_x.add_tweet("ana", "@CambridgeFix rats in the alley")
    fake_x.go_down(2)
    for _ in range(2):
        with pytest.raises(ChannelError) as exc:
            deliver_once(x_channel, _public(t), "Ticket #CT-5", idempotency_key="ack:5", maybe_sent=False)
        assert exc.value.retryable
    sent = deliver_once(x_channel, _public(t), "Ticket #CT-5", idempotency_key="ack:5", maybe_sent=True)
    assert len(fake_x.posts) == 1 and fake_x.posts[0]["id"] == sent.external_id


def test_worker_died_after_posting_exactly_once_on_restart(fake_x: FakeX, x_channel: XChannel) -> None:
    t = fake_x.add_tweet("ana", "@CambridgeFix streetlight out")
    fake_x.lose_post_responses = 1  # the tweet is made, the answer never arrives
    with pytest.raises(ChannelError):
        deliver_once(x_channel, _public(t), "Ticket #CT-44", idempotency_key="ack:44", maybe_sent=False)
    assert len(fake_x.posts) == 1
    # restart: the outbox row says "attempt started, no result", so maybe_sent=True
    again = deliver_once(x_channel, _public(t), "Ticket #CT-44", idempotency_key="ack:44", maybe_sent=True)
    assert len(fake_x.posts) == 1 and again.external_id == fake_x.posts[0]["id"]
    # a different event for the same post is not mistaken for it
    other = deliver_once(
        x_channel, _public(t), "Ticket #CT-44 assigned", idempotency_key="assigned:44", maybe_sent=True
    )
    assert len(fake_x.posts) == 2 and other.external_id != again.external_id


def test_dm_lost_answer_found_again(fake_x: FakeX, x_channel: XChannel) -> None:
    bob = fake_x.add_user("bob")
    target = ReplyTarget(
        channel="x", is_dm=True, recipient_id=bob, recipient_handle="bob", in_reply_to_id=None
    )
    fake_x.lose_post_responses = 1
    with pytest.raises(ChannelError):
        x_channel.send(target, "Ticket #CT-50", idempotency_key="ack:50")
    found = deliver_once(x_channel, target, "Ticket #CT-50", idempotency_key="ack:50", maybe_sent=True)
    assert [p["id"] for p in fake_x.posts] == [found.external_id]


def test_duplicate_content_answer_resolves_to_first_post(fake_x: FakeX, x_channel: XChannel) -> None:
    t = fake_x.add_tweet("ana", "@CambridgeFix noise")
    first = x_channel.send(_public(t), "Ticket #CT-60", idempotency_key="ack:60")
    second = x_channel.send(_public(t), "Ticket #CT-60", idempotency_key="ack:60")  # X answers 403 duplicate
    assert second.external_id == first.external_id and len(fake_x.posts) == 1


def test_429_gives_retry_after_from_reset_header(fake_x: FakeX, x_channel: XChannel) -> None:
    t = fake_x.add_tweet("ana", "@CambridgeFix trash not collected")
    fake_x.exhaust("tweet_create", reset_in=120)
    with pytest.raises(ChannelError) as exc:
        x_channel.send(_public(t), "Ticket #CT-70", idempotency_key="ack:70")
    assert exc.value.retryable and exc.value.status == 429
    assert exc.value.retry_after is not None and 115 <= exc.value.retry_after <= 121
    calls = len(fake_x.requests)
    # the adapter remembers the window: no request is spent until the reset
    with pytest.raises(ChannelError) as again:
        x_channel.send(_public(t), "Ticket #CT-70", idempotency_key="ack:70")
    assert again.value.status == 429 and len(fake_x.requests) == calls
    assert fake_x.posts == []


def test_rate_limit_headers_are_tracked_and_reset_honoured(fake_x: FakeX, x_url: str) -> None:
    now = [time.time()]
    channel = XChannel(user_id=fake_x.me_id, bearer_token="user-token", base_url=x_url, clock=lambda: now[0])
    fake_x.set_limit("mentions", 2)
    channel.fetch_since(None)
    channel.fetch_since(None)
    remaining, reset = channel.rate_limits["mentions"]
    assert remaining == 0 and reset > now[0]
    calls = len(fake_x.requests)
    limited = channel.fetch_since(None)  # mentions wait for the reset; DMs still read
    assert [e.where for e in limited.errors] == ["mentions"] and "rate limit" in limited.errors[0].message
    assert not any(r[1].endswith("/mentions") for r in fake_x.requests[calls:])
    now[0] = reset + 1  # our clock passes the reset: the adapter tries again (the fake's window is real time)
    fake_x.set_limit("mentions", 5)
    assert channel.fetch_since(None).posts == []


def test_client_errors_are_permanent_with_clear_message(fake_x: FakeX, x_channel: XChannel) -> None:
    t = fake_x.add_tweet("ana", "@CambridgeFix pothole")
    fake_x.delete(t)
    with pytest.raises(ChannelError) as exc:
        x_channel.send(_public(t), "Ticket #CT-80", idempotency_key="ack:80")
    assert not exc.value.retryable and exc.value.status == 403
    assert "deleted or not visible" in str(exc.value) and "tweet_create" in str(exc.value)


def test_post_exists_and_deleted(fake_x: FakeX, x_channel: XChannel) -> None:
    t = fake_x.add_tweet("ana", "@CambridgeFix pothole")
    assert x_channel.post_exists(t) is True
    fake_x.delete(t)
    assert x_channel.post_exists(t) is False


def test_unreachable_api_is_retryable() -> None:
    channel = XChannel(user_id="1", bearer_token="t", base_url="http://127.0.0.1:9", timeout=1)
    with pytest.raises(ChannelError) as exc:
        channel.post_exists("123")
    assert exc.value.retryable


def test_credentials_required() -> None:
    with pytest.raises(ValueError):
        XChannel(user_id="1")


def test_identical_updates_to_two_threads_both_post_and_are_found(fake_x: FakeX, x_channel: XChannel) -> None:
    # Without a tag, two followers' identical updates differ by the resident named first (X refuses
    # duplicate content), and each is found in its own thread after a lost answer.
    t1, t2 = (
        fake_x.add_tweet("ana", "@CambridgeFix pothole"),
        fake_x.add_tweet("bob", "@CambridgeFix pothole"),
    )
    text = "Update on #CT-70: a crew is assigned."
    first = x_channel.send(_public(t1, "ana"), text, idempotency_key="event:1:follower:1")
    fake_x.lose_post_responses = 1
    with pytest.raises(ChannelError):
        x_channel.send(_public(t2, "bob"), text, idempotency_key="event:1:follower:2")
    found = deliver_once(
        x_channel, _public(t2, "bob"), text, idempotency_key="event:1:follower:2", maybe_sent=True
    )
    assert len(fake_x.posts) == 2 and found.external_id == fake_x.posts[1]["id"] != first.external_id
    # the same words in the same thread, already recorded for another message: not taken for this call
    assert (
        x_channel.find_sent(
            _public(t1, "ana"), "event:2:follower:1", text=text, known_ids={first.external_id}
        )
        is None
    )
