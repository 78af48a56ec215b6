"""civictracker: a 311-style issue tracker for cities, fed by social posts."""

from __future__ import annotations

from civictracker.app import create_app

__all__ = ["create_app"]
