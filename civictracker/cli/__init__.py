"""The command line: the `civictracker` console script here, the `flask civictracker ...` commands beside it.

With wsgi.py, the only importer of civictracker.app: the commands themselves (commands.py, geo.py,
intake.py) are registered by create_app and never build an app.
"""

from __future__ import annotations


def main() -> None:
    """The `civictracker` console script: the Flask CLI bound to the app factory."""
    from flask.cli import FlaskGroup

    from civictracker.cli.startup import app_or_exit

    FlaskGroup(create_app=app_or_exit)(prog_name="civictracker")
