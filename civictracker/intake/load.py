"""Reading a page of stored posts: the posts with their authors, and the unprocessed posts they answer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.intake.reporters import Loaded
from civictracker.models import InboundPost, PostState, Reporter
from civictracker.services.post_facts import thread_ids


def load_posts(session: Session, post_ids: list[int], *, skip_locked: bool = False) -> Loaded:
    """Posts by id with their authors' reporter rows (None if new), in one statement.

    On PostgreSQL the posts are locked (two workers never process the same post at once), in id order, so
    two workers given overlapping pages wait for each other instead of deadlocking. `skip_locked`: the
    posts another transaction holds are left out instead of waited for.
    """
    stmt = (
        select(InboundPost, Reporter)
        .outerjoin(
            Reporter,
            (Reporter.channel == InboundPost.channel) & (Reporter.external_id == InboundPost.author_id),
        )
        .where(InboundPost.id.in_(post_ids))
        .order_by(InboundPost.id)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(of=InboundPost, skip_locked=skip_locked)
    return {row[0].id: (row[0], row[1]) for row in session.execute(stmt)}


def unprocessed_parents(session: Session, loaded: Loaded) -> dict[int, tuple[str, str]]:
    """Stored posts that posts of this page answer, not processed yet and not in the page: their
    (channel, external id) by id.

    Processed first, in the same page, they give their replies a thread to attach to: a reply handled
    before the post it answers would be taken for a new report (a resident adding a detail a moment
    later, in the next poll page, while a retry or another worker still holds the first).
    """
    wanted: dict[str, set[str]] = {}
    for post, _ in loaded.values():
        wanted.setdefault(post.channel, set()).update(thread_ids(post))
    parents: dict[int, tuple[str, str]] = {}
    for channel, external_ids in wanted.items():
        if not external_ids:
            continue
        rows = session.execute(
            select(InboundPost.id, InboundPost.external_id).where(
                InboundPost.channel == channel,
                InboundPost.external_id.in_(sorted(external_ids)),
                InboundPost.state == PostState.RECEIVED,
                InboundPost.id.not_in(list(loaded)),
            )
        )
        parents.update((post_id, (channel, external_id)) for post_id, external_id in rows)
    return dict(sorted(parents.items()))
