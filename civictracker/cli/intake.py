"""`flask civictracker triage|poll|replay|outbox|retry-failed|check-sources|scheduler`: intake jobs."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click
from flask import current_app
from flask.cli import with_appcontext

from civictracker.cli.commands import (
    city_gazetteer,
    city_remote,
    civictracker_cli,
    parse_geotag,
    read_jsonl_objects,
)
from civictracker.runtime import city_of, settings_of

if TYPE_CHECKING:
    from civictracker.intake.analysis import PostText


@civictracker_cli.command("triage")
@click.option("--jsonl", is_flag=True, required=True, help='Read {"id","text","channel"} lines on stdin.')
@with_appcontext
def triage_command(jsonl: bool) -> None:
    """Judge posts without touching the database: request?, service, urgency, language, location, intent."""
    from civictracker.triage.classify import TRIAGE_BATCH

    lines: list[tuple[int, dict[str, Any] | None, str | None]] = []
    for line in read_jsonl_objects():
        lines.append(line)
        if len(lines) >= TRIAGE_BATCH:  # the models read a batch of posts at once: answers come in batches
            _triage_lines(lines)
            lines = []
    _triage_lines(lines)
    sys.stdout.flush()


def _triage_lines(lines: list[tuple[int, dict[str, Any] | None, str | None]]) -> None:
    """Write the answer to each line, in order: its analysis, or why it could not be read."""
    from civictracker.intake.analysis import analyze_posts

    city = city_of(current_app)
    posts = [_post_of(item) for _n, item, _error in lines]
    read = [post for post in posts if post is not None]
    gz, remote = city_gazetteer(), city_remote()
    results = iter(analyze_posts(read, gazetteer=gz, services=city.services, remote=remote))
    for (n, item, error), post in zip(lines, posts, strict=True):
        if item is None or post is None:
            problem = error or f"line {n}: text must be a string"
            sys.stdout.write(json.dumps({"id": None, "error": problem}) + "\n")
            continue
        result = next(results)
        sys.stdout.write(json.dumps({"id": item.get("id"), **result.to_dict()}, ensure_ascii=False) + "\n")


def _post_of(item: dict[str, Any] | None) -> PostText | None:
    """The post a JSON line describes, or None when it has no text to read."""
    from civictracker.intake.analysis import PostText

    text = item.get("text") if item is not None else None
    if item is None or not isinstance(text, str):
        return None
    channel = item.get("channel") or "mention"
    kind = channel if channel in {"mention", "dm", "reply"} else "mention"
    return PostText(text, kind, parse_geotag(item.get("geotag")))


@civictracker_cli.command("poll")
@click.option("--channel", "channels", multiple=True, help="Channel to poll (default: every configured one).")
@click.option("--loop", is_flag=True, help="Keep polling every CIVICTRACKER_POLL_INTERVAL seconds.")
@with_appcontext
def poll_command(channels: tuple[str, ...], loop: bool) -> None:
    """Fetch new posts (jobs run inline, or on the rq worker when Redis is configured)."""
    import time

    from civictracker.jobs import posts as jobs
    from civictracker.outbox import sweep as outbox

    settings = settings_of(current_app)
    names = list(channels) or settings.channel_names
    while True:
        for name in names:
            click.echo(f"{name}: {jobs.poll_channel(name)} new post(s)")
        click.echo(f"outbox: {outbox.sweep_outbox()} sent")
        if not loop:
            return
        time.sleep(settings.poll_interval)


@civictracker_cli.command("replay")
@with_appcontext
def replay_command() -> None:
    """Play the whole replay feed (the city's demo feed by default) through intake once."""
    from civictracker.jobs.replay_demo import replay_feed_once

    click.echo(json.dumps(replay_feed_once(current_app._get_current_object())))  # type: ignore[attr-defined]


@civictracker_cli.command("outbox")
@click.option("--retry-dead", is_flag=True, help="Give dead messages another round of attempts.")
@with_appcontext
def outbox_command(retry_dead: bool) -> None:
    """Show outbox counts by state; optionally send dead messages again."""
    from sqlalchemy import update

    from civictracker.extensions import db
    from civictracker.models import MessageState, OutboundMessage
    from civictracker.models.outbox import MESSAGE_TRANSITIONS
    from civictracker.models.transitions import check_transition
    from civictracker.models.types import utcnow
    from civictracker.outbox import sweep as outbox

    if retry_dead:
        db.session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.state == MessageState.DEAD)
            .values(
                state=check_transition(MESSAGE_TRANSITIONS, MessageState.DEAD, MessageState.PENDING),
                attempts=0,
                next_attempt_at=utcnow(),
                failing_since=None,  # a fresh retry budget
            )
        )
        db.session.commit()
        outbox.sweep_outbox()
    click.echo(json.dumps(outbox.outbox_counts()))


@civictracker_cli.command("retry-failed")
@with_appcontext
def retry_failed_command() -> None:
    """Re-run posts whose processing failed or never finished."""
    from civictracker.jobs import posts as jobs

    click.echo(f"{jobs.retry_failed_posts()} post(s) re-enqueued")


@civictracker_cli.command("check-sources")
@click.option("--limit", default=25, show_default=True, help="Most platform calls in this run.")
@click.option("--post", "post_id", type=int, default=None, help="Check this one post (any ticket state).")
@with_appcontext
def check_sources_command(limit: int, post_id: int | None) -> None:
    """Ask the platforms whether source posts of recent open tickets still exist; redact deleted ones."""
    from civictracker.outbox import sources

    if post_id is not None:
        click.echo(f"post {post_id}: {sources.check_source(post_id)}")
        return
    click.echo(json.dumps(sources.check_sources(limit=limit)))


@civictracker_cli.command("scheduler")
@click.option(
    "--interval", type=float, default=None, help="Seconds between polls (CIVICTRACKER_POLL_INTERVAL)."
)
@click.option(
    "--slow-every",
    type=float,
    default=300.0,
    show_default=True,
    help="Seconds between check-sources / retry-failed rounds.",
)
@click.option("--once", is_flag=True, help="Run one tick and exit.")
@with_appcontext
def scheduler_command(interval: float | None, slow_every: float, once: bool) -> None:
    """Enqueue periodic jobs (polls, outbox sweep, source checks, retries) on rq; inline without Redis."""
    from civictracker.jobs.scheduler import Scheduler

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    scheduler = Scheduler(app, interval=interval or settings_of(app).poll_interval, slow_every=slow_every)
    if once:
        click.echo(json.dumps(scheduler.tick()))
        return
    scheduler.run_forever()
