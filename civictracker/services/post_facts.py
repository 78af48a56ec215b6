"""What a stored post says beyond its columns: visibility, privacy, its thread (intake and inbox)."""

from __future__ import annotations

from civictracker.models import InboundPost
from civictracker.models.values import Thread

VISIBILITY_KEY = "_visibility"  # in InboundPost.raw: the post's visibility as the channel read it
PRIVATE_VISIBILITIES = {"private", "direct"}  # Mastodon followers-only and direct posts


def post_visibility(post: InboundPost) -> str | None:
    """The post's platform visibility (Mastodon: public, unlisted, private, direct; X: None)."""
    raw = post.raw or {}
    status = raw.get("status")
    status = status if isinstance(status, dict) else {}
    value = raw.get(VISIBILITY_KEY) or raw.get("visibility") or status.get("visibility")
    return str(value) if value else None


def is_private_post(post: InboundPost) -> bool:
    """A DM, or a post only the author's followers see: its words and the author stay out of anything
    public (block-level place, never named in a public reply, never sent to a remote geocoder)."""
    return post.is_dm or post_visibility(post) in PRIVATE_VISIBILITIES


def thread_ids(post: InboundPost) -> list[str]:
    """The platform ids of the posts this one answers: the one it replies to and its conversation's."""
    return [i for i in (post.in_reply_to_id, post.conversation_id) if i]


def thread_of(post: InboundPost) -> Thread:
    """Where to answer the post's author: in reply to this post, in its conversation, as it was sent."""
    return Thread(
        channel=post.channel,
        is_dm=post.is_dm,
        reply_to_id=post.external_id,
        conversation_id=post.conversation_id,
        visibility=post_visibility(post),
    )
