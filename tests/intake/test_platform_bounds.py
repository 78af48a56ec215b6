"""A platform's odd lang, thread id or date is bounded when stored: it never fails the poll (issue #16)."""

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


@pytest.fixture()
def fake_x(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeX]:
    fake = FakeX()
    with serve(fake) as url:
        settings = dataclasses.replace(settings_of(app), channels="x", x_user_id=fake.me_id)
        monkeypatch.setattr(runtime_of(app), "settings", settings)
        channel = XChannel(user_id=fake.me_id, access_token="at", consumer_key="ck", consumer_secret="cs",
                           access_token_secret="ats", base_url=url, timeout=5)  # fmt: skip
        register_channel(app, "x", channel)
        yield fake


def _posts(channel: str) -> list[InboundPost]:
    db.session.expire_all()
    return list(db.session.scalars(select(InboundPost).where(InboundPost.channel == channel)))


def test_x_poll_survives_a_long_lang_a_long_thread_id_and_an_impossible_date(fake_x: FakeX) -> None:
    odd = fake_x.add_tweet("ana", "@CambridgeFix pothole at 150 Hampshire St", lang="x" * 40)
    fake_x.tweets[odd]["conversation_id"] = "9" * 300 + "\x00"
    fake_x.tweets[odd]["created_at"] = "9999-12-31T23:59:59-05:00"
    fake_x.add_tweet("bea", "@CambridgeFix streetlight out at 40 Pearl St")
    assert jobs.poll_channel("x") == 2
    by_id = {p.external_id: p for p in _posts("x")}
    assert len(by_id[odd].lang or "") <= 8  # dropped at receive (processing then sets its own guess)
    assert by_id[odd].conversation_id == "9" * 200
    assert by_id[odd].posted_at is not None and by_id[odd].posted_at.year < 2200


def test_mastodon_poll_survives_a_long_language(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeMastodon()
    with serve(fake) as url:
        settings = dataclasses.replace(
            settings_of(app), channels="mastodon", mastodon_base_url=url, mastodon_access_token="t"
        )
        monkeypatch.setattr(runtime_of(app), "settings", settings)
        register_channel(
            app, "mastodon", MastodonChannel(api_base_url=url, access_token="t", request_timeout=5)
        )
        fake.add_status("ana", "@cambridgefix pothole at 150 Hampshire St", language="pt-BR-x-long-tag")
        assert jobs.poll_channel("mastodon") == 1
    [post] = _posts("mastodon")
    assert len(post.lang or "") <= 8
