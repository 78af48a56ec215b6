"""The `flask civictracker ...` commands for admins, operators and evaluation."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import sys
from collections.abc import Iterator
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from civictracker.extensions import current_session, db
from civictracker.runtime import runtime_of, settings_of
from civictracker.services.errors import DomainError

log = logging.getLogger(__name__)

civictracker_cli = click.Group("civictracker", help="civictracker administration and intake commands.")


class MigrationCommands(click.Group):
    """`flask db ...`: Flask-Migrate's commands, its extension bound and imported when one of them runs (the
    flask CLI has pushed the app's context by then), so no other command pays for Alembic. The group's own
    options are declared here, as Flask-Migrate declares them, and handed to its group's callback."""

    def __init__(self) -> None:
        super().__init__(
            "db",
            help="Perform database migrations (Flask-Migrate).",
            params=[
                click.Option(["-d", "--directory"], default=None, help="Migration script directory"),
                click.Option(
                    ["-x", "--x-arg"],
                    multiple=True,
                    help="Additional arguments consumed by custom env.py scripts",
                ),
            ],
            callback=self._group_callback,
        )

    def _group(self) -> click.Group:
        from civictracker.bootstrap import bind_migrations

        bind_migrations(current_app._get_current_object())  # type: ignore[attr-defined]
        from flask_migrate.cli import db as group

        return group

    def _group_callback(self, **params: Any) -> Any:
        callback = self._group().callback
        return click.get_current_context().invoke(callback, **params) if callback else None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._group().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._group().get_command(ctx, cmd_name)


def register_cli(app: Flask) -> None:
    app.cli.add_command(civictracker_cli)
    app.cli.add_command(MigrationCommands())
    # Later modules add their commands to the same group (geocode, triage, replay, poll, new-city).
    for module in ("civictracker.cli.geo", "civictracker.cli.intake", "civictracker.cli.city"):
        try:
            __import__(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise


def _settings() -> Any:

    return settings_of(current_app)


def city_gazetteer() -> Any:
    """The configured city's gazetteer, cached in the instance folder (for the evaluation commands)."""
    return runtime_of(current_app).gazetteer()


def city_remote() -> Any:
    """The remote geocoder CIVICTRACKER_GEOCODER_REMOTE configures, or None (offline only)."""
    return runtime_of(current_app).remote


def read_jsonl_objects() -> Iterator[tuple[int, dict[str, Any] | None, str | None]]:
    """(line number, object, None) for each JSON object on stdin, or (n, None, error) for a bad line."""
    # Invalid UTF-8 in a line must not end the run: it becomes U+FFFD and the line is still judged.
    stdin = sys.stdin
    if isinstance(stdin, io.TextIOWrapper):
        stdin.reconfigure(encoding="utf-8", errors="replace")
    for n, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            yield n, None, f"line {n}: not a JSON object ({exc})"
            continue
        if not isinstance(item, dict):
            yield n, None, f"line {n}: each line must be a JSON object"
            continue
        yield n, item, None


def parse_geotag(value: object) -> tuple[float, float] | None:
    """A geotag given as {"lat", "lon"} or [lat, lon]; anything else is no geotag."""
    if isinstance(value, dict) and "lat" in value and "lon" in value:
        return (value["lat"], value["lon"])
    if isinstance(value, list | tuple) and len(value) == 2:
        return (value[0], value[1])
    return None


@civictracker_cli.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "dispatcher", "crew"]), default="dispatcher")
@click.option("--name", default="")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--crew", "crew_name", default=None, help="For role crew: the crew this account belongs to.")
@with_appcontext
def create_user_command(email: str, role: str, name: str, password: str, crew_name: str | None) -> None:
    """Create a staff account."""
    from civictracker.models import Crew
    from civictracker.services.users import create_user

    crew_id = None
    if crew_name:
        crew = db.session.query(Crew).filter_by(name=crew_name).one_or_none()
        if crew is None:
            raise click.ClickException(f"No crew named {crew_name!r}.")
        crew_id = crew.id
    try:
        user = create_user(current_session(), email, password, role=role, name=name, crew_id=crew_id)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    db.session.commit()
    click.echo(f"Created {user.role} {user.email} (id {user.id}).")


@civictracker_cli.command("reset-password")
@click.argument("email")
@with_appcontext
def reset_password_command(email: str) -> None:
    """Print a one-time link (valid one hour) that lets EMAIL set a new password; no mail server needed."""
    from sqlalchemy import select

    from civictracker.models import User
    from civictracker.services.password_reset import LINK_LIFETIME, issue_password_reset
    from civictracker.web.auth.reset import reset_link

    user = current_session().scalar(select(User).where(User.email == email.strip().lower()))
    if user is None:
        raise click.ClickException(f"No user with e-mail {email!r}.")
    token = issue_password_reset(current_session(), user, acting=None)
    db.session.commit()
    with current_app.test_request_context():
        link = reset_link(token)
    hours = int(LINK_LIFETIME.total_seconds() // 3600)
    click.echo(
        f"One-time link for {user.email} (works once, for {hours} hour; earlier links no longer work):"
    )
    click.echo(link)


@civictracker_cli.command("import-city")
@click.option("--pack", default=None, help="City pack folder; default: the configured city.")
@with_appcontext
def import_city_command(pack: str | None) -> None:
    """Load a city pack's service catalog (and check its streets load)."""
    from pathlib import Path

    from civictracker.citypack import CityPackError, load_city_pack
    from civictracker.services.catalog import import_services

    path = Path(pack).resolve() if pack else _settings().city_pack_dir
    try:
        city = load_city_pack(path)
    except CityPackError as exc:
        raise click.ClickException(str(exc)) from None
    created, updated = import_services(current_session(), city.services)
    db.session.commit()
    click.echo(f"{city.name}: {created} services created, {updated} updated.")


@civictracker_cli.command("worker")
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@with_appcontext
def worker_command(burst: bool) -> None:
    """Run an rq worker in this process (no fork per job) with one app context for every job."""
    from civictracker.queue import get_queue

    queue = get_queue()
    if queue.is_inline:
        raise click.ClickException("CIVICTRACKER_REDIS_URL is not set: jobs run inline, no worker is needed.")
    import math

    from rq import Queue

    from civictracker.jobs.worker import run_worker

    def connect() -> tuple[list[Queue], Any]:
        connection = queue.connection()
        return [Queue(queue.queue_name, connection=connection)], connection

    # A SimpleWorker runs jobs in this process: no fork per job (tens to hundreds of ms each, and a
    # forked child would inherit the parent's database connections).
    db.engine.dispose()
    # A running job's lease: about one poll interval, so a killed worker's periodic job runs again soon.
    lease_s = max(2, math.ceil(settings_of(current_app).poll_interval))
    run_worker(connect, burst=burst, lease_s=lease_s)


@civictracker_cli.command("prepare-caches")
@with_appcontext
def prepare_caches_command() -> None:
    """Build the instance folder's caches (the city's gazetteer, the language identifier) now, so the first
    CLI call, request or job after set-up does not pay for them (about 1.5 s); and triage's compiled
    patterns (`triage/regex_cache.py`), also those compiled on first use, read here from a few posts."""
    from civictracker.triage.classify import triage_texts
    from civictracker.triage.lang import prepare_identifier

    city_gazetteer()
    prepare_identifier()
    triage_texts(_WARM_UP_POSTS)  # loads the model; the patterns are written when this process ends
    click.echo(f"Caches ready in {settings_of(current_app).resolved_instance_path / 'cache'}")


# Posts that take triage's lazily built paths: a request, a reply, a question, a DM in Spanish, an emergency.
_WARM_UP_POSTS = [
    ("huge pothole in front of 10 Main St, please fix it", "mention"),
    ("still not fixed, they came and left", "reply"),
    ("when is street cleaning on Hampshire St?", "mention"),
    ("hay basura tirada en la esquina de Cambridge St y Prospect St desde el lunes", "dm"),
    ("I smell gas outside 5 Oak St, it's strong", "mention"),
]


@civictracker_cli.command("init-db")
@with_appcontext
def init_db_command() -> None:
    """Apply every migration (flask db upgrade) and load the city's services."""
    from civictracker.bootstrap import prepare_database

    prepare_database(current_app)
    click.echo("Database is at the latest migration; services loaded.")


def follow_demo_port(app: Flask, host: str, port: int) -> None:
    """Reply links point at the port the demo serves on, unless CIVICTRACKER_PUBLIC_URL says otherwise."""
    if os.environ.get("CIVICTRACKER_PUBLIC_URL"):
        return
    runtime = runtime_of(app)
    shown = "127.0.0.1" if host in {"0.0.0.0", "::"} else host  # noqa: S104 (compared, not bound)
    url = f"http://{shown}:{port}"
    runtime.settings = dataclasses.replace(runtime.settings, public_url=url)
    runtime.replies = dataclasses.replace(runtime.replies, public_url=url)


@civictracker_cli.command("demo")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@click.option("--no-serve", is_flag=True, help="Prepare the demo data and exit.")
@with_appcontext
def demo_command(host: str, port: int, no_serve: bool) -> None:
    """Prepare the embedded demo (database, city, staff, crews, replayed posts) and serve the web app."""
    from civictracker.bootstrap import prepare_database, prepare_demo

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    follow_demo_port(app, host, port)
    prepare_database(app)
    login = prepare_demo(app)
    click.echo("")
    click.echo(f"  civictracker demo: http://{host}:{port}/")
    click.echo(f"  dispatcher login: {login['email']}  password: {login['password']}")
    click.echo(f"  admin login:      {login['admin_email']}  password: {login['password']}")
    click.echo("")
    sys.stdout.flush()
    if no_serve:
        return
    from civictracker.bootstrap import serve_demo

    serve_demo(app, host, port)
