"""The web layer: blueprints for the public site, the dispatcher console, auth and Open311."""

from __future__ import annotations

import importlib
import logging

from flask import Flask

log = logging.getLogger(__name__)

# (module, blueprint attribute, url prefix); a module not written yet is skipped so the app still starts.
BLUEPRINTS = [
    ("civictracker.web.health", "bp", None),
    ("civictracker.web.public", "bp", None),
    ("civictracker.web.auth", "bp", "/auth"),
    ("civictracker.web.console", "bp", "/console"),
    ("civictracker.web.open311", "bp", "/open311/v2"),
    ("civictracker.web.webhooks", "bp", "/webhooks"),
]


def register_web(app: Flask) -> None:
    from civictracker.web import errors

    errors.register(app)
    for module_name, attr, prefix in BLUEPRINTS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        blueprint = getattr(module, attr, None)
        if blueprint is not None:
            app.register_blueprint(blueprint, url_prefix=prefix)
