"""`make demo PORT=...`: the links the demo posts in replies follow the port it serves on."""

from __future__ import annotations

from pathlib import Path

import pytest

from civictracker.cli.commands import follow_demo_port
from civictracker.runtime import runtime_of, settings_of
from tests.conftest import drop_app, make_app


def test_reply_links_follow_the_port_unless_the_public_url_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CIVICTRACKER_PUBLIC_URL", raising=False)
    app, pg_db = make_app("sqlite", tmp_path)
    try:
        follow_demo_port(app, "0.0.0.0", 8080)
        assert runtime_of(app).replies.public_url == "http://127.0.0.1:8080"
        assert settings_of(app).public_url == "http://127.0.0.1:8080"
        monkeypatch.setenv("CIVICTRACKER_PUBLIC_URL", "https://311.example.gov")
        follow_demo_port(app, "127.0.0.1", 9000)
        assert runtime_of(app).replies.public_url == "http://127.0.0.1:8080"  # the operator's URL wins
    finally:
        drop_app(app, pg_db)


def test_makefile_passes_the_port() -> None:
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "PORT ?= 5000" in makefile and "demo --host $(HOST) --port $(PORT)" in makefile
