"""Mastodon 4.3's filtered notifications, its notification policy, unknown types and 404 for hidden posts."""

from __future__ import annotations

import logging

import pytest

from civictracker.channels.mastodon import MastodonChannel
from tests.fakes import serve
from tests.fakes.mastodon_api import FakeMastodon


def test_the_fake_filters_strangers_private_mentions_like_mastodon(fake_masto: FakeMastodon) -> None:
    """Without include_filtered, a stranger's DM is only in the notification requests (as on 4.3+)."""
    import requests

    sid = fake_masto.add_status("stranger", "@cambridgefix streetlight out at 3 Oak St", visibility="direct")
    with serve(fake_masto) as url:
        auth = {"Authorization": "Bearer t"}
        plain = requests.get(f"{url}/api/v1/notifications", headers=auth, timeout=5).json()
        assert plain == []
        full = requests.get(
            f"{url}/api/v1/notifications", params={"include_filtered": "true"}, headers=auth, timeout=5
        ).json()
        assert [n["status"]["id"] for n in full] == [sid]
        requested = requests.get(f"{url}/api/v1/notifications/requests", headers=auth, timeout=5).json()
        assert [r["last_status"]["id"] for r in requested] == [sid]


def test_a_strangers_dm_is_read(fake_masto: FakeMastodon, masto_channel: MastodonChannel) -> None:
    first = masto_channel.fetch_since(None)
    followed = fake_masto.add_account("friend")
    fake_masto.following.add(followed)
    s1 = fake_masto.add_status("stranger", "@cambridgefix my bin was not collected", visibility="direct")
    s2 = fake_masto.add_status("friend", "@cambridgefix graffiti on the bridge", visibility="direct")
    got = masto_channel.fetch_since(first.cursor)
    assert [(p.external_id, p.kind) for p in got.posts] == [(s1, "dm"), (s2, "dm")]
    calls = [q for _, path, q in fake_masto.requests if path == "/api/v1/notifications"]
    assert all(q.get("include_filtered") == ["true"] for q in calls)


def test_a_server_before_4_3_ignores_include_filtered(fake_masto: FakeMastodon) -> None:
    fake_masto.include_filtered_supported = False
    fake_masto.policy_private_mentions = "accept"  # what older servers did: no filtering at all
    sid = fake_masto.add_status("stranger", "@cambridgefix tree down", visibility="direct")
    with serve(fake_masto) as url:
        channel = MastodonChannel(api_base_url=url, access_token="t", request_timeout=5)
        assert [p.external_id for p in channel.fetch_since(None).posts] == [sid]


@pytest.mark.parametrize("consent", [False, True])
def test_a_policy_that_drops_dms_is_logged_and_fixed_only_with_consent(
    fake_masto: FakeMastodon, caplog: pytest.LogCaptureFixture, consent: bool
) -> None:
    fake_masto.policy_private_mentions = "drop"
    with serve(fake_masto) as url:
        channel = MastodonChannel(
            api_base_url=url, access_token="t", request_timeout=5, fix_dropped_dms=consent
        )
        with caplog.at_level(logging.WARNING, logger="civictracker.channels.mastodon"):
            cursor = channel.fetch_since(None).cursor
            channel.fetch_since(cursor)  # the policy is checked once per process
        sid = fake_masto.add_status("stranger", "@cambridgefix flooding on Elm", visibility="direct")
        got = [p.external_id for p in channel.fetch_since(cursor).posts]
    messages = [r.getMessage() for r in caplog.records]
    if consent:
        assert fake_masto.policy_private_mentions == "filter" and got == [sid]
        assert sum("changed from 'drop' to 'filter'" in m for m in messages) == 1
    else:
        assert fake_masto.policy_private_mentions == "drop" and got == []
        assert sum("drops private mentions" in m for m in messages) == 1


def test_an_unknown_notification_type_is_logged_once_and_skipped(
    fake_masto: FakeMastodon, masto_channel: MastodonChannel, caplog: pytest.LogCaptureFixture
) -> None:
    cursor = masto_channel.fetch_since(None).cursor
    sid = fake_masto.add_status("ana", "@cambridgefix pothole on Main St")
    fake_masto.types_filter_supported = False  # it answers every type, and invents one
    fake_masto.add_notification("zap", "bob", sid)
    fake_masto.add_notification("zap", "cid")
    with caplog.at_level(logging.WARNING, logger="civictracker.channels.mastodon"):
        got = masto_channel.fetch_since(cursor)
    assert [p.external_id for p in got.posts] == [sid]
    assert sum("'zap' notification" in r.getMessage() for r in caplog.records) == 1


def test_a_404_from_a_blocking_author_is_hidden_not_deleted(
    fake_masto: FakeMastodon, masto_channel: MastodonChannel
) -> None:
    cursor = masto_channel.fetch_since(None).cursor
    kept = fake_masto.add_status("ana", "@cambridgefix pothole on Main St")
    gone = fake_masto.add_status("bob", "@cambridgefix broken bench")
    left = fake_masto.add_status("cid", "@cambridgefix broken light")
    masto_channel.fetch_since(cursor)
    fake_masto.blocked_by.add(fake_masto.add_account("ana"))
    fake_masto.delete(gone)
    fake_masto.gone_accounts.add(fake_masto.add_account("cid"))
    fake_masto.delete(left)
    assert masto_channel.post_exists(kept) is True  # hidden from us: not redacted
    assert masto_channel.post_exists(gone) is False
    assert masto_channel.post_exists(left) is False
    # the author can be given explicitly (a restarted process has not read the post)
    assert masto_channel.post_exists(kept, author_id=fake_masto.add_account("ana")) is True
