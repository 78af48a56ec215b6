"""The web layer: blueprints for the public site, the dispatcher console, auth and Open311."""

from __future__ import annotations

from flask import Flask


def register_web(app: Flask) -> None:
    from civictracker.runtime import settings_of
    from civictracker.web import compress, errors, filters, params, security
    from civictracker.web.auth import bp as auth_bp
    from civictracker.web.console import bp as console_bp
    from civictracker.web.health import bp as health_bp
    from civictracker.web.open311 import bp as open311_bp
    from civictracker.web.public import bp as public_bp
    from civictracker.web.ratelimits import init_rate_limits
    from civictracker.web.webhooks import bp as webhooks_bp

    params.register(app)  # first: the bounded id converter must be in place before any route is added
    errors.register(app)
    security.register(app)
    filters.register(app)
    compress.register(app)
    app.register_blueprint(health_bp)
    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp, url_prefix="/auth")
    app.register_blueprint(console_bp, url_prefix="/console")
    app.register_blueprint(open311_bp, url_prefix="/open311/v2")
    app.register_blueprint(webhooks_bp)
    init_rate_limits(app, settings_of(app))
