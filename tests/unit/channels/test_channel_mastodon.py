"""MastodonChannel with the real Mastodon.py client against the fake Mastodon server."""

from __future__ import annotations

import json

import pytest

from civictracker.channels.base import ChannelError, ReplyTarget, deliver_once
from civictracker.channels.mastodon import MastodonChannel, html_to_text
from tests.fakes.mastodon_api import FakeMastodon, mastodon_length


def _reply_to(
    post_id: str, handle: str, *, visibility: str | None = "public", dm: bool = False
) -> ReplyTarget:
    return ReplyTarget(
        channel="mastodon",
        is_dm=dm,
        recipient_id="",
        recipient_handle=handle,
        in_reply_to_id=post_id,
        visibility=visibility,
    )


def test_fetch_mentions_since_cursor_dm_and_html(
    fake_masto: FakeMastodon, masto_channel: MastodonChannel
) -> None:
    s1 = fake_masto.add_status(
        "ana@other.example",
        "@cambridgefix pothole at 5 Main St & Elm <big>\nsee https://example.org/photos/2024/pothole-main.jpg",
    )
    s2 = fake_masto.add_status("bob", "@cambridgefix my address is 12 Elm St, light out", visibility="direct")
    fake_masto.add_status("carl", "just chatting, no mention")
    first = masto_channel.fetch_since(None)
    assert [(p.external_id, p.kind, p.visibility) for p in first.posts] == [
        (s1, "mention", "public"),
        (s2, "dm", "direct"),
    ]
    ana = first.posts[0]
    assert ana.author_handle == "ana@other.example"
    assert ana.text == (
        "@cambridgefix pothole at 5 Main St & Elm <big>\nsee https://example.org/photos/2024/pothole-main.jpg"
    )
    assert (
        ana.raw["type"] == "mention" and ana.raw["status"]["id"] == s1 and ana.created_at.tzinfo is not None
    )
    assert first.posts[1].is_dm

    assert masto_channel.fetch_since(first.cursor).posts == []
    s3 = fake_masto.add_status("dora", "@cambridgefix graffiti")
    later = masto_channel.fetch_since(first.cursor)
    assert [p.external_id for p in later.posts] == [s3]
    note_calls = [r for r in fake_masto.requests if r[1] == "/api/v1/notifications"]
    assert note_calls[-1][2]["types[]"] == ["mention"] and "min_id" in note_calls[-1][2]


def test_burst_larger_than_a_page_is_not_skipped(
    fake_masto: FakeMastodon, masto_channel: MastodonChannel
) -> None:
    cursor = masto_channel.fetch_since(None).cursor
    ids = [fake_masto.add_status(f"user{i}", f"@cambridgefix report {i}") for i in range(95)]
    got = masto_channel.fetch_since(cursor)
    assert [p.external_id for p in got.posts] == ids
    assert json.loads(got.cursor or "")["notifications"] == fake_masto.notifications[-1]["id"]


def test_reply_same_visibility_mentions_recipient(
    fake_masto: FakeMastodon, masto_channel: MastodonChannel
) -> None:
    for visibility in ("public", "unlisted", "private"):
        sid = fake_masto.add_status("ana@other.example", "@cambridgefix tree down", visibility=visibility)
        post = next(p for p in masto_channel.fetch_since(None).posts if p.external_id == sid)
        sent = masto_channel.send(
            _reply_to(sid, post.author_handle, visibility=post.visibility),
            "Ticket #CT-3",
            idempotency_key=f"k-{visibility}",
        )
        made = fake_masto.posts[-1]
        assert made["in_reply_to"] == sid and made["visibility"] == visibility
        assert made["text"].startswith("@ana@other.example ") and made["id"] == sent.external_id
        status = fake_masto.statuses[sent.external_id]
        assert status["mentions"][0]["acct"] == "ana@other.example"


def test_dm_answered_by_direct_status(fake_masto: FakeMastodon, masto_channel: MastodonChannel) -> None:
    sid = fake_masto.add_status("bob", "@cambridgefix light out at my house, 12 Elm St", visibility="direct")
    post = masto_channel.fetch_since(None).posts[0]
    # even if a caller passed the wrong visibility, a DM is answered "direct"
    masto_channel.send(
        _reply_to(sid, post.author_handle, visibility="public", dm=True),
        "Ticket #CT-4",
        idempotency_key="dm4",
    )
    assert fake_masto.posts[-1]["visibility"] == "direct" and fake_masto.posts[-1]["in_reply_to"] == sid


def test_cluster_reply_mentions_every_reporter(
    fake_masto: FakeMastodon, masto_channel: MastodonChannel
) -> None:
    sid = fake_masto.add_status("ana", "@cambridgefix flooding on Memorial Dr")
    target = ReplyTarget(
        channel="mastodon",
        is_dm=False,
        recipient_id="",
        recipient_handle="ana",
        in_reply_to_id=sid,
        visibility="public",
        mention_handles=("bob", "carl@other.example"),
    )
    sent = masto_channel.send(target, "Thanks all, this is ticket #CT-9", idempotency_key="ack:9")
    accts = {m["acct"] for m in fake_masto.statuses[sent.external_id]["mentions"]}
    assert accts == {"ana", "bob", "carl@other.example"}


def test_reply_too_long_is_shortened(fake_masto: FakeMastodon, masto_channel: MastodonChannel) -> None:
    sid = fake_masto.add_status("ana", "@cambridgefix sidewalk")
    url = "https://civic.example.org/tickets/77?" + "x" * 200
    long_text = "Thank you for reporting this. " * 25 + f"Ticket #CT-77, follow it at {url} please."
    sent = masto_channel.send(_reply_to(sid, "ana"), long_text, idempotency_key="ack:77")
    assert (
        mastodon_length(sent.text) <= 500
        and url in sent.text
        and "#CT-77" in sent.text
        and "·" not in sent.text
    )
    assert fake_masto.posts[-1]["text"] == sent.text


def test_idempotency_key_and_find_sent_post_once(
    fake_masto: FakeMastodon, masto_channel: MastodonChannel
) -> None:
    sid = fake_masto.add_status("ana", "@cambridgefix noise at night")
    target = _reply_to(sid, "ana")
    fake_masto.lose_post_responses = 1  # posted, but the answer is lost (503)
    with pytest.raises(ChannelError) as exc:
        deliver_once(masto_channel, target, "Ticket #CT-5", idempotency_key="ack:5", maybe_sent=False)
    assert exc.value.retryable and len(fake_masto.posts) == 1
    found = deliver_once(masto_channel, target, "Ticket #CT-5", idempotency_key="ack:5", maybe_sent=True)
    assert found.external_id == fake_masto.posts[0]["id"] and len(fake_masto.posts) == 1
    # a blind resend with the same key is also absorbed by Mastodon's Idempotency-Key
    again = masto_channel.send(target, "Ticket #CT-5", idempotency_key="ack:5")
    assert again.external_id == found.external_id and len(fake_masto.posts) == 1
    assert masto_channel.find_sent(target, "other-key", text="Ticket #CT-6") is None
    # the same words under an id another outbox message already holds are not this call's
    assert (
        masto_channel.find_sent(target, "ack:5", text="Ticket #CT-5", known_ids={found.external_id}) is None
    )


def test_find_sent_sees_our_direct_replies(fake_masto: FakeMastodon, masto_channel: MastodonChannel) -> None:
    sid = fake_masto.add_status("bob", "@cambridgefix secret", visibility="direct")
    target = _reply_to(sid, "bob", dm=True)
    sent = masto_channel.send(target, "Ticket #CT-6", idempotency_key="dm:6")
    assert (
        found := masto_channel.find_sent(target, "dm:6", text="Ticket #CT-6")
    ) is not None and found.external_id == sent.external_id


def test_down_then_recovery_nothing_lost(fake_masto: FakeMastodon, masto_channel: MastodonChannel) -> None:
    cursor = masto_channel.fetch_since(None).cursor
    sid = fake_masto.add_status("ana", "@cambridgefix water main break")
    fake_masto.go_down(3)
    for _ in range(3):
        with pytest.raises(ChannelError) as exc:
            masto_channel.fetch_since(cursor)
        assert exc.value.retryable and exc.value.status == 503
    assert [p.external_id for p in masto_channel.fetch_since(cursor).posts] == [sid]


def test_429_maps_to_retry_after(fake_masto: FakeMastodon, masto_channel: MastodonChannel) -> None:
    masto_channel.account_id()
    fake_masto.exhaust(reset_in=90)
    with pytest.raises(ChannelError) as exc:
        masto_channel.fetch_since(None)
    assert exc.value.retryable and exc.value.status == 429
    assert exc.value.retry_after is not None and 85 <= exc.value.retry_after <= 92
    calls = len(fake_masto.requests)
    with pytest.raises(ChannelError):
        masto_channel.post_exists("1")  # the known-exhausted window is not spent again
    assert len(fake_masto.requests) == calls


def test_post_exists_deleted_and_reply_to_deleted(
    fake_masto: FakeMastodon, masto_channel: MastodonChannel
) -> None:
    sid = fake_masto.add_status("ana", "@cambridgefix pothole")
    assert masto_channel.post_exists(sid) is True
    fake_masto.delete(sid)
    assert masto_channel.post_exists(sid) is False
    with pytest.raises(ChannelError) as exc:
        masto_channel.send(_reply_to(sid, "ana"), "Ticket #CT-1", idempotency_key="x")
    assert not exc.value.retryable and exc.value.status == 404


def test_unreachable_server_is_retryable() -> None:
    channel = MastodonChannel(
        api_base_url="http://127.0.0.1:9", access_token="t", account_id="1", request_timeout=1
    )
    with pytest.raises(ChannelError) as exc:
        channel.post_exists("5")
    assert exc.value.retryable


def test_html_to_text() -> None:
    html = (
        '<p><span class="h-card"><a href="https://fake.social/@cf" class="u-url mention">@<span>cf</span></a></span>'
        " fix &amp; hurry<br />now</p><p>second &lt;para&gt;</p>"
    )
    assert html_to_text(html) == "@cf fix & hurry\nnow\n\nsecond <para>"
