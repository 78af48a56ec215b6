"""Platform rules end to end: a Mastodon stranger's filtered DM and X's refused replies through the app."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from civictracker.channels.mastodon import MastodonChannel
from civictracker.channels.x import XChannel
from civictracker.extensions import db
from civictracker.jobs import posts as jobs
from civictracker.models import InboundPost, MessageState, OutboundMessage
from civictracker.outbox import sweep
from civictracker.outbox.refusals import REPLY_REFUSED_NOTE
from civictracker.runtime import register_channel, runtime_of, settings_of
from tests.fakes import serve
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.x_api import FakeX


@dataclasses.dataclass
class Platforms:
    x: FakeX
    masto: FakeMastodon


@pytest.fixture()
def platforms(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platforms]:
    """The backend app reading X and Mastodon through real adapters pointed at the faithful fakes."""
    fake_x, fake_masto = FakeX(), FakeMastodon()
    with serve(fake_x) as x_url, serve(fake_masto) as masto_url:
        settings = dataclasses.replace(
            settings_of(app),
            channels="x,mastodon",
            x_user_id=fake_x.me_id,
            x_access_token="at",
            mastodon_base_url=masto_url,
            mastodon_access_token="token",
        )
        monkeypatch.setattr(runtime_of(app), "settings", settings)
        register_channel(
            app,
            "x",
            XChannel(
                user_id=fake_x.me_id,
                consumer_key="ck",
                consumer_secret="cs",
                access_token="at",
                access_token_secret="ats",
                base_url=x_url,
                timeout=5,
            ),
        )
        register_channel(
            app, "mastodon", MastodonChannel(api_base_url=masto_url, access_token="token", request_timeout=5)
        )
        yield Platforms(fake_x, fake_masto)


def test_a_strangers_filtered_mastodon_dm_becomes_a_ticket(platforms: Platforms) -> None:
    jobs.poll_channel("mastodon")  # the first fetch: no backfill
    sid = platforms.masto.add_status(
        "stranger", "@cambridgefix big pothole at 150 Hampshire St", visibility="direct"
    )
    assert platforms.masto.policy_private_mentions == "filter"  # Mastodon 4.3's default
    assert jobs.poll_channel("mastodon") == 1
    post = db.session.scalar(
        select(InboundPost).where(InboundPost.channel == "mastodon", InboundPost.external_id == sid)
    )
    assert post is not None and post.is_dm and post.ticket_id is not None, post and post.reason


def _messages_to(handle: str) -> list[OutboundMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboundMessage).where(OutboundMessage.recipient_handle == handle)))


def test_an_hour_of_refused_replies_goes_by_dm_or_is_recorded_never_silently_lost(
    platforms: Platforms,
) -> None:
    fake = platforms.x
    jobs.poll_channel("x")
    fake.add_dm("ana", "hi, I report things here")  # ana has an open DM conversation with the city
    jobs.poll_channel("x")
    fake.refuse_replies_until = time.time() + 3600  # X answers 403 to every reply for an hour
    fake.add_tweet("ana", "@CambridgeFix big pothole at 150 Hampshire St")
    fake.add_tweet("bea", "@CambridgeFix streetlight out at 12 Elm St")
    jobs.poll_channel("x")
    sweep.sweep_outbox()
    ana = _messages_to("ana")
    public = [m for m in ana if (m.last_error or "").startswith(REPLY_REFUSED_NOTE)]
    assert public and all(m.is_dm and m.state == MessageState.SENT for m in public), [
        (m.state, m.is_dm, m.last_error) for m in ana
    ]
    assert any(p["kind"] == "dm" and p["to"] == fake.add_user("ana") for p in fake.posts)
    bea = _messages_to("bea")
    assert bea and all(m.state == MessageState.DEAD for m in bea), [(m.state, m.last_error) for m in bea]
    assert all((m.last_error or "").startswith(REPLY_REFUSED_NOTE) for m in bea)
    assert not [p for p in fake.posts if p["kind"] == "tweet"]  # nothing public got through
