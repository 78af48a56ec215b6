"""Fixtures: fake X and Mastodon servers on local ports, and real adapters pointed at them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from civictracker.channels.mastodon import MastodonChannel
from civictracker.channels.x import XChannel
from tests.fakes import serve
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.x_api import FakeX


@pytest.fixture
def fake_x() -> Iterator[FakeX]:
    yield FakeX()


@pytest.fixture
def x_url(fake_x: FakeX) -> Iterator[str]:
    with serve(fake_x) as url:
        yield url


@pytest.fixture
def x_channel(fake_x: FakeX, x_url: str) -> XChannel:
    return XChannel(
        user_id=fake_x.me_id,
        consumer_key="ck",
        consumer_secret="cs",
        access_token="at",
        access_token_secret="ats",
        base_url=x_url,
        timeout=5,
    )


@pytest.fixture
def fake_masto() -> Iterator[FakeMastodon]:
    yield FakeMastodon()


@pytest.fixture
def masto_channel(fake_masto: FakeMastodon) -> Iterator[MastodonChannel]:
    with serve(fake_masto) as url:
        yield MastodonChannel(api_base_url=url, access_token="token", request_timeout=5)
