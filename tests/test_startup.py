"""Start-up: bad configuration is one clear message that names the fix, not a traceback in a request."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest

from civictracker.app import create_app
from civictracker.config import ConfigError, Settings


def _app(tmp_path: Path, **overrides: object):  # type: ignore[no-untyped-def]
    config = {"instance_path": str(tmp_path / "inst"), "secret_key": "x", **overrides}
    return create_app(config)


def test_malformed_database_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"DATABASE_URL.*not supported.*postgresql"):
        _app(tmp_path, database_url="mysql://root@localhost/ct")
    with pytest.raises(ConfigError, match=r"names no database"):
        _app(tmp_path, database_url="postgresql+psycopg://postgres@127.0.0.1:5432")


def test_unreachable_postgres_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Cannot connect to the database.*CIVICTRACKER_DATABASE_URL"):
        _app(tmp_path, database_url="postgresql+psycopg://postgres@127.0.0.1:1/nothing")


def test_missing_spatialite_names_the_package(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"libsqlite3-mod-spatialite"):
        _app(tmp_path, spatialite_library="/nonexistent/mod_spatialite_missing")


def test_unreachable_redis(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Cannot reach Redis.*unset"):
        _app(tmp_path, redis_url="redis://127.0.0.1:1/0")
    with pytest.raises(ConfigError, match=r"REDIS_URL"):
        _app(tmp_path, redis_url="http://localhost")


def test_env_vars_are_read_and_validated(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"CIVICTRACKER_DEDUPE_RADIUS_M": "99.5", "CIVICTRACKER_SESSION_COOKIE_SECURE": "yes"}
    )
    assert settings.dedupe_radius_m == 99.5 and settings.session_cookie_secure is True
    with pytest.raises(ConfigError, match=r"not a number"):
        Settings.from_env({"CIVICTRACKER_POLL_INTERVAL": "soon"})
    with pytest.raises(ConfigError, match=r"not a boolean"):
        Settings.from_env({"CIVICTRACKER_SESSION_COOKIE_SECURE": "maybe"})
    with pytest.raises(ConfigError, match=r"unknown channel"):
        _app(tmp_path, channels="replay,myspace")
    with pytest.raises(ConfigError, match=r"no city pack"):
        _app(tmp_path, city="atlantis")


def test_embedded_default_is_sqlite_in_instance_with_persistent_secret(tmp_path: Path) -> None:
    app = create_app({"instance_path": str(tmp_path / "inst")})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'inst' / 'civictracker.sqlite'}"
    secret = app.config["SECRET_KEY"]
    assert len(secret) == 64
    again = create_app({"instance_path": str(tmp_path / "inst")})
    assert again.config["SECRET_KEY"] == secret
    assert app.extensions["civictracker.queue"].is_inline


def test_healthz_reports_spatial_extension(client, backend) -> None:  # type: ignore[no-untyped-def]
    body = client.get("/healthz").get_json()
    assert body["status"] == "ok"
    assert body["database"] == ("sqlite" if backend == "sqlite" else "postgresql")
    assert body["spatial"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("OUTBOX_TARGET_S", "nan"), ("OUTBOX_DM_SPILL_AFTER_S", "-5"), ("X_POSTS_PER_15MIN", "0")],
)
def test_numeric_settings_must_be_finite_and_sensible(tmp_path: Path, name: str, value: str) -> None:
    env = {"CIVICTRACKER_INSTANCE_PATH": str(tmp_path), f"CIVICTRACKER_{name}": value}
    with pytest.raises(ConfigError, match=f"CIVICTRACKER_{name}"):
        create_app(Settings.from_env(env))


# --- A process that cannot start: one line naming the fix, no traceback unless debugging (issue #16) ---

BAD_STARTS = [
    ("CIVICTRACKER_REDIS_URL", "redis://127.0.0.1:1/0", "unset CIVICTRACKER_REDIS_URL"),
    (
        "CIVICTRACKER_DATABASE_URL",
        "postgresql+psycopg://postgres@127.0.0.1:1/none",
        "Check CIVICTRACKER_DATABASE_URL",
    ),
    ("CIVICTRACKER_CITY", "atlantis", "no city pack"),
]


@pytest.mark.parametrize(("name", "value", "fix"), BAD_STARTS, ids=[b[0] for b in BAD_STARTS])
def test_app_or_exit_prints_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str, fix: str
) -> None:
    from civictracker.cli.startup import STARTUP_FAILED, app_or_exit

    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    err = io.StringIO()
    with pytest.raises(SystemExit) as exited:
        app_or_exit(
            {"instance_path": str(tmp_path), name.removeprefix("CIVICTRACKER_").lower(): value}, stderr=err
        )
    assert exited.value.code == STARTUP_FAILED
    lines = err.getvalue().splitlines()
    assert len(lines) == 1 and lines[0].startswith("civictracker: ") and fix in lines[0], lines


def test_a_broken_city_pack_is_one_line_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civictracker.cli.startup import app_or_exit

    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    pack = tmp_path / "pack"
    pack.mkdir()
    (pack / "city.json").write_text("{}")
    err = io.StringIO()
    with pytest.raises(SystemExit):
        app_or_exit({"instance_path": str(tmp_path / "inst"), "city": str(pack)}, stderr=err)
    [line] = err.getvalue().splitlines()
    assert "city.json lacks" in line and "CIVICTRACKER_CITY" in line


def test_flask_debug_keeps_the_traceback(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from civictracker.cli.startup import app_or_exit

    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigError, match="Cannot reach Redis"):
        app_or_exit({"instance_path": str(tmp_path), "redis_url": "redis://127.0.0.1:1/0"})


def _run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    root = Path(__file__).resolve().parents[1]
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("CIVICTRACKER_", "FLASK_"))}
    environ |= {"PYTHONPATH": str(root), "CIVICTRACKER_INSTANCE_PATH": str(tmp_path), **env}
    return subprocess.run(
        args, cwd=root, env=environ, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_flask_cli_fails_in_one_line_and_debug_shows_the_traceback(tmp_path: Path) -> None:
    # `flask --app wsgi ...` imports wsgi.py as gunicorn's workers do: one code path for both.
    unreachable = {"CIVICTRACKER_REDIS_URL": "redis://127.0.0.1:1/0"}
    done = _run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "civictracker", "worker"], tmp_path, **unreachable
    )
    assert done.returncode == 3, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Cannot reach Redis" in lines[0] and "Traceback" not in done.stderr, lines
    debug = _run([sys.executable, "-m", "flask", "--debug", "--app", "wsgi", "civictracker", "worker"], tmp_path,
                 **unreachable)  # fmt: skip
    assert debug.returncode != 0 and "Traceback" in debug.stderr
