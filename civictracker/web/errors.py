"""Error pages: HTML for people, JSON for API paths; never a traceback to the client."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from civictracker.extensions import db

log = logging.getLogger(__name__)


def _wants_json() -> bool:
    return (
        request.path.endswith(".json")
        or request.path.startswith("/api/")
        or (request.accept_mimetypes.best == "application/json")
    )


def register(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):  # type: ignore[no-untyped-def]
        if _wants_json():
            return jsonify(error=exc.name, description=exc.description, code=exc.code), exc.code
        return render_template("errors/error.html", error=exc), exc.code

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):  # type: ignore[no-untyped-def]
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
        db.session.rollback()
        if _wants_json():
            return jsonify(error="Internal Server Error", code=500), 500
        return render_template("errors/error.html", error=None), 500
