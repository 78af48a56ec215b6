"""Storing posts as they arrive, before anything can fail: once per platform id, whatever the redeliveries."""

from __future__ import annotations

import datetime as dt
import json
import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session

from civictracker.channels.base import FeedError, IncomingPost
from civictracker.channels.bounds import MAX_ID_CHARS, MAX_RAW_CHARS, lang_or_none
from civictracker.intake.analysis import MAX_STORED_TEXT, clean_text
from civictracker.models import InboundPost, PostState, RejectedInput
from civictracker.models.types import utcnow
from civictracker.services.photos import store_media
from civictracker.services.post_facts import VISIBILITY_KEY

log = logging.getLogger(__name__)


def receive_post(
    session: Session, incoming: IncomingPost, *, now: dt.datetime | None = None
) -> tuple[InboundPost, bool]:
    """Store the raw post before anything can fail; a second delivery returns the stored row."""
    same = (InboundPost.channel == incoming.channel) & (InboundPost.external_id == external_id_of(incoming))
    existing = session.scalar(select(InboundPost).where(same))
    if existing is not None:
        return existing, False
    post = _new_post(incoming, now)
    try:
        with session.begin_nested():
            session.add(post)
    except IntegrityError:  # a concurrent delivery stored it first
        stored = session.scalar(select(InboundPost).where(same))
        if stored is None:  # the unique key fired for a row we cannot see: say so, do not guess
            raise
        return stored, False
    _keep_media(session, [(post, incoming)])
    return post, True


def external_id_of(incoming: IncomingPost) -> str:
    """The platform id as stored (cleaned, bounded): every lookup uses this same form, so a redelivery of
    an odd id (a NUL, 300 characters) finds the row stored the first time."""
    return _stored_id(incoming.external_id) or ""


def _stored_id(value: str | None) -> str | None:
    return None if value is None else clean_text(value)[:MAX_ID_CHARS]


def receive_posts(
    session: Session, incomings: list[IncomingPost], *, now: dt.datetime | None = None
) -> list[tuple[InboundPost, bool]]:
    """receive_post for a page of posts (a poll): one lookup per channel and one INSERT for the new ones.

    The same guarantees: a post already stored is returned as it is, and if a concurrent delivery
    stored one of the new ones first, the savepoint is rolled back and the page is received one post
    at a time, which settles each conflict on its own.
    """
    stored: dict[tuple[str, str], InboundPost] = {}
    for channel in {i.channel for i in incomings}:
        ids = [external_id_of(i) for i in incomings if i.channel == channel]
        for row in session.scalars(
            select(InboundPost).where(InboundPost.channel == channel, InboundPost.external_id.in_(ids))
        ):
            stored[(row.channel, row.external_id)] = row
    results: list[tuple[InboundPost, bool]] = []
    new: list[InboundPost] = []
    for incoming in incomings:
        key = (incoming.channel, external_id_of(incoming))
        if key in stored:
            results.append((stored[key], False))  # stored before, or earlier in this page
            continue
        post = stored[key] = _new_post(incoming, now)
        new.append(post)
        results.append((post, True))
    if not new:
        return results
    try:
        with session.begin_nested():
            session.add_all(new)
    except IntegrityError:
        return [receive_post(session, incoming, now=now) for incoming in incomings]
    by_key = {(i.channel, external_id_of(i)): i for i in incomings}
    _keep_media(session, [(post, by_key[(post.channel, post.external_id)]) for post in new])
    return results


def _keep_media(session: Session, pairs: list[tuple[InboundPost, IncomingPost]]) -> None:
    """The attachments' URLs, types and alt text, after the posts are stored (their ids known), each post in
    a savepoint of its own: whatever goes wrong with an attachment, the post is already kept (its raw JSON
    holds the attachment as the platform sent it), and the failure is logged."""
    for post, incoming in pairs:
        if not incoming.media:
            continue
        try:
            with session.begin_nested():
                store_media(session, post, incoming.media)
        except (SQLAlchemyError, ValueError, TypeError):
            log.exception("post %s: its attachments could not be stored; the post is kept", post.id)


def _new_post(incoming: IncomingPost, now: dt.datetime | None) -> InboundPost:
    text = clean_text(incoming.text)
    return InboundPost(
        channel=incoming.channel,
        external_id=external_id_of(incoming),
        kind=incoming.kind if incoming.kind in {"mention", "dm", "reply"} else "mention",
        # A platform's odd thread ids and language tags are bounded like external_id, never fatal to a poll.
        conversation_id=_stored_id(incoming.conversation_id),
        in_reply_to_id=_stored_id(incoming.in_reply_to_id),
        author_id=clean_text(incoming.author_id)[:MAX_ID_CHARS],
        author_handle=clean_text(incoming.author_handle)[:MAX_ID_CHARS],
        is_dm=incoming.is_dm,
        text=text[:MAX_STORED_TEXT],
        lang=lang_or_none(incoming.lang),
        geotag_lat=incoming.lat,
        geotag_lon=incoming.lon,
        posted_at=incoming.created_at,
        received_at=now or utcnow(),
        raw=_clean_json(
            {
                **incoming.raw,
                **({"_text_truncated_from": len(text)} if len(text) > MAX_STORED_TEXT else {}),
                # the channel's reading of the visibility (Mastodon keeps it inside a notification's status)
                **({VISIBILITY_KEY: incoming.visibility} if incoming.visibility else {}),
            }
        ),
        state=PostState.RECEIVED,
        # given, not left to the column's server default: a row whose INSERT must fetch a server default
        # is written in a statement of its own, not with the page's others
        inbox_priority=0,
    )


def _clean_json(raw: dict[str, Any]) -> dict[str, Any]:
    try:
        dumped = json.dumps(raw, default=str, ensure_ascii=True)
    except (TypeError, ValueError):
        return {"unserializable": repr(raw)[:2000]}
    result: dict[str, Any] = json.loads(dumped.replace("\\u0000", "\\ufffd"))
    return result


def record_rejects(
    session: Session, channel: str, errors: list[FeedError], *, now: dt.datetime | None = None
) -> list[RejectedInput]:
    """Keep each input a channel skipped, raw and with its reason, in the poll's transaction."""
    rows = [
        RejectedInput(
            channel=channel,
            location=clean_text(error.where)[:MAX_ID_CHARS],
            reason=clean_text(error.message)[:MAX_RAW_CHARS],
            raw=clean_text(error.raw)[:MAX_RAW_CHARS],
            received_at=now or utcnow(),
        )
        for error in errors
    ]
    session.add_all(rows)
    return rows
