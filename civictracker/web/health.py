"""Liveness and readiness for the deployer: is the app up, is the database reachable."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from civictracker.extensions import db
from civictracker.geo.spatial import spatial_extension_version

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():  # type: ignore[no-untyped-def]
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        version = spatial_extension_version(conn)
    return jsonify(status="ok", database=db.engine.dialect.name, spatial=version)
