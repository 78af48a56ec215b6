"""A process that cannot start says why in one line naming the fix; the traceback only with --debug.

wsgi.py (gunicorn, `flask --app wsgi ...`) and the `civictracker` console script build the app through
`app_or_exit`. `flask --debug` sets FLASK_DEBUG before the app is loaded, so it shows the traceback too.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from flask import Flask

from civictracker.app import ConfigError, create_app
from civictracker.citypack import CityPackError

# gunicorn's WORKER_BOOT_ERROR: its master stops with "Worker failed to boot" instead of re-spawning
# workers that would fail the same way forever; any non-zero status stops the flask CLI.
STARTUP_FAILED = 3


def debugging(environ: Mapping[str, str] = os.environ) -> bool:
    return environ.get("FLASK_DEBUG", "").strip().lower() in {"1", "true", "yes", "on"}


def one_line(exc: BaseException) -> str:
    """The error as the single line an operator reads: what failed and the fix the message names."""
    text = " ".join(str(exc).split())
    if isinstance(exc, CityPackError):
        return f"civictracker: {text} Fix the city pack or set CIVICTRACKER_CITY to another."
    if isinstance(exc, ConfigError):
        return f"civictracker: {text}"
    return f"civictracker: cannot start: {text}"  # an OSError names the path (instance folder, secret file)


def app_or_exit(*args: Any, stderr: TextIO | None = None, **kwargs: Any) -> Flask:
    """create_app, or one line on stderr and exit status 3 when the configuration or a backend is wrong."""
    try:
        return create_app(*args, **kwargs)
    except (ConfigError, CityPackError, OSError) as exc:
        if debugging():
            raise
        print(one_line(exc), file=stderr or sys.stderr)
        raise SystemExit(STARTUP_FAILED) from None
