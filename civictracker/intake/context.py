"""The app context a job runs in: the worker's own when there is one, else a new app (jobs take ids only)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, has_app_context


@contextmanager
def job_context() -> Iterator[Flask]:
    """Reuse the worker's app context when there is one (no per-job app), else build one."""
    if has_app_context():
        yield current_app._get_current_object()  # type: ignore[attr-defined]
        return
    from civictracker.app import create_app

    app = create_app()
    with app.app_context():
        yield app
