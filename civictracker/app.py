"""The application factory: settings, extensions, spatial engine, city runtime, blueprints, CLI.

Only the entry points (wsgi.py, civictracker.cli) import this module; the rest reach the app's settings
and city through civictracker.runtime."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from civictracker.citypack import load_city_pack
from civictracker.config import ConfigError, Settings, load_or_create_secret, validate
from civictracker.database import check_database, engine_options, install_row_numbering, install_spatialite
from civictracker.extensions import csrf, db, login_manager
from civictracker.paths import TEMPLATES_DIR

log = logging.getLogger(__name__)


def create_app(config: Settings | dict[str, Any] | None = None, *, check: bool = True) -> Flask:
    """Build the app. `config` is Settings, or overrides for Settings.from_env (tests pass a dict)."""
    settings = config if isinstance(config, Settings) else Settings.from_env(**(config or {}))
    validate(settings)
    instance = settings.resolved_instance_path
    instance.mkdir(parents=True, exist_ok=True)

    app = Flask(
        "civictracker",
        instance_path=str(instance),
        template_folder=str(TEMPLATES_DIR),
        static_folder=None,
    )
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app.config.update(
        SECRET_KEY=settings.secret_key or load_or_create_secret(instance),
        SQLALCHEMY_DATABASE_URI=settings.resolved_database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_SECURE=settings.session_cookie_secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.config.update(settings.extra)

    db.init_app(app)
    # Flask-Migrate is bound on first need (bootstrap.bind_migrations): `flask db ...`, init-db, demo.
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)

    with app.app_context():
        engine = db.engine
        if settings.is_sqlite:
            install_spatialite(engine, settings.spatialite_library)
            install_row_numbering()
        if check:
            check_database(engine, settings)

    from civictracker.queue import JobQueue
    from civictracker.runtime import KEY, CityRuntime

    runtime = CityRuntime.build(settings, load_city_pack(settings.city_pack_dir))
    app.extensions[KEY] = runtime

    app.extensions["civictracker.queue"] = JobQueue.from_settings(app, settings, check=check)

    import civictracker.models  # noqa: F401  (registers the tables)
    from civictracker.cli.commands import register_cli
    from civictracker.web import register_web

    register_web(app)
    register_cli(app)
    return app


__all__ = ["ConfigError", "create_app"]
