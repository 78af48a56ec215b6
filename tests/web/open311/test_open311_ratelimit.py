"""Per-address limits on the Open311 API: a 429 written as an Open311 error list, in JSON or XML."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from flask import Flask

from civictracker.config import ConfigError, Settings, validate
from tests.conftest import REDIS_URL, drop_app, make_app

BASE = "/open311/v2"


@pytest.fixture()
def limited_app(tmp_path: Path) -> Iterator[Flask]:
    app, _ = make_app(
        "sqlite",
        tmp_path,
        redis_url=REDIS_URL,
        queue_name=f"ct-test-{uuid.uuid4().hex[:8]}",
        open311_rate_limit="3/minute",
        open311_post_rate_limit="1/minute",
    )
    yield app
    # The counts stay in Redis under this app's unique prefix and expire with their window.
    drop_app(app, None)


def test_the_whole_api_shares_one_budget_per_address(limited_app: Flask) -> None:
    client = limited_app.test_client()
    assert client.get(f"{BASE}/services.json").status_code == 200
    assert client.get(f"{BASE}/discovery.json").status_code == 200
    assert client.get(f"{BASE}/requests.json").status_code == 200
    r = client.get(f"{BASE}/services.json")
    assert r.status_code == 429
    assert r.get_json() == [
        {
            "code": 429,
            "description": "Too many requests from this address; wait and try again (see Retry-After).",
        }
    ]
    assert int(r.headers["Retry-After"]) > 0
    r = client.get(f"{BASE}/services.xml")
    assert r.status_code == 429 and r.content_type.startswith("text/xml")
    assert ET.fromstring(r.data).findtext("error/code") == "429"
    # Another address has its own budget.
    other = client.get(f"{BASE}/services.json", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 200


def test_posts_have_a_tighter_limit_of_their_own(limited_app: Flask) -> None:
    client = limited_app.test_client()
    first = client.post(f"{BASE}/requests.json", data={"service_code": "nope"})
    assert first.status_code != 429  # refused for its content (no API key), still counted
    assert client.post(f"{BASE}/requests.json", data={"service_code": "nope"}).status_code == 429
    assert client.get(f"{BASE}/services.json").status_code == 200  # reads still go


def test_limits_are_checked_at_start_up() -> None:
    with pytest.raises(ConfigError, match="OPEN311_RATE_LIMIT"):
        validate(Settings(open311_rate_limit="lots"))
    validate(Settings(open311_rate_limit="", open311_post_rate_limit="5/second;100/hour"))
