"""Platform rules end to end: a Mastodon stranger's filtered DM and X's refused replies through the app."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import select

from civictracker.channels.mastodon import MastodonChannel
from civictracker.channels.x import XChannel
from civictracker.extensions import db
from civictracker.jobs import posts as jobs
from civictracker.models import InboundPost
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
