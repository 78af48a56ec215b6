"""Helpers for intake tests: build posts and run them through the real jobs."""

from __future__ import annotations

import datetime as dt
import itertools

from civictracker.extensions import db
from civictracker.intake import jobs
from civictracker.intake.channels.base import IncomingPost
from civictracker.intake.pipeline import receive_post
from civictracker.models import InboundPost

_ids = itertools.count(1)


def incoming(
    text: str,
    *,
    author: str = "u1",
    handle: str | None = None,
    kind: str = "mention",
    reply_to: str | None = None,
    ext: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
    channel: str = "replay",
) -> IncomingPost:
    return IncomingPost(
        channel=channel,
        external_id=ext or f"t-{next(_ids)}",
        kind=kind,
        author_id=author,
        author_handle=handle or f"h_{author}",
        text=text,
        created_at=dt.datetime.now(dt.UTC),
        in_reply_to_id=reply_to,
        conversation_id=reply_to,
        lat=lat,
        lon=lon,
    )


def deliver(text: str, **kwargs: object) -> InboundPost:
    """Store a post, commit, process it with the real job; returns the reloaded post."""
    post, _ = receive_post(db.session, incoming(text, **kwargs))  # type: ignore[arg-type]
    db.session.commit()
    jobs.process_post(post.id)
    db.session.expire_all()
    stored = db.session.get(InboundPost, post.id)
    assert stored is not None
    return stored
