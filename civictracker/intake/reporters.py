"""The residents behind posts: one reporter row per channel account, created once, blocked ones ignored."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civictracker.intake.context import PageCache, PipelineEnv
from civictracker.models import InboundPost, Reporter
from civictracker.models.report import DONE_STATES

Loaded = dict[int, tuple[InboundPost, Reporter | None]]  # posts by id, with their authors' rows as read


def add_new_reporters(session: Session, loaded: Loaded, page: PageCache) -> None:
    """Reporter rows for the new authors of a page (as `load_posts` read it), written in one flush.

    One savepoint for all instead of one each. If a concurrent worker created one of them first, the
    savepoint fails and each post creates its own in `get_reporter`, which settles each conflict.
    """
    new: dict[tuple[str, str], Reporter] = {}
    for post, reporter in loaded.values():
        key = (post.channel, post.author_id)
        if reporter is None and post.state not in DONE_STATES and key not in new:
            new[key] = new_reporter(post)
    if not new:
        return
    try:
        with session.begin_nested():
            session.add_all(new.values())
    except IntegrityError:
        return
    page.reporters.update(new)


def get_reporter(session: Session, post: InboundPost, reporter: Reporter | None, page: PageCache) -> Reporter:
    """The author's reporter row: `reporter` as loaded with the post, or a new one."""
    key = (post.channel, post.author_id)
    earlier = page.reporters.get(key)  # created for an earlier post of this page
    if reporter is None and earlier is not None and earlier in session:  # (and not rolled back)
        reporter = earlier
    if reporter is None:
        reporter = new_reporter(post)
        try:
            with session.begin_nested():
                session.add(reporter)
        except IntegrityError:
            reporter = session.scalar(
                select(Reporter).where(
                    Reporter.channel == post.channel, Reporter.external_id == post.author_id
                )
            )
            assert reporter is not None
        page.reporters[key] = reporter
    elif post.author_handle and reporter.handle != post.author_handle:
        reporter.handle = post.author_handle
    return reporter


def new_reporter(post: InboundPost) -> Reporter:
    return Reporter(channel=post.channel, external_id=post.author_id, handle=post.author_handle)


def is_blocked(post: InboundPost, env: PipelineEnv) -> bool:
    """The author is on the city's block list (CIVICTRACKER_BLOCKED_ACCOUNTS), by id or handle."""
    handle = post.author_handle.lower().lstrip("@")
    return bool(env.blocked & {f"{post.channel}:{post.author_id}", handle, f"@{handle}"})
