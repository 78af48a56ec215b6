"""civictracker: a 311-style issue tracker for cities, fed by social posts."""

from __future__ import annotations

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    """The application factory (imported lazily so `civictracker.geo` and friends load without Flask)."""
    from civictracker.app import create_app as factory

    return factory(*args, **kwargs)


__all__ = ["create_app"]
