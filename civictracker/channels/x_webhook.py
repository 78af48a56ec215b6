"""X Account Activity webhook helpers: the CRC challenge, delivery signature check, payload to IncomingPost.

The web layer (web/webhooks) answers GET ?crc_token=... with `crc_response` and, for each POST,
calls `parse_delivery` with the raw body bytes: a bad signature raises InvalidSignature (answer 403,
log it, store nothing); otherwise it gets the posts to store like polled ones.
"""

from __future__ import annotations

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import json
import logging
from collections.abc import Mapping
from typing import Any

from civictracker.channels import media as attachments
from civictracker.channels.base import ChannelError, IncomingPost
from civictracker.channels.bounds import check_lang

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "x-twitter-webhooks-signature"


class InvalidSignature(ChannelError):
    """A webhook delivery whose signature does not match: not from X, or altered on the way."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=False, status=403)


def _sign(message: bytes, consumer_secret: str) -> str:
    digest = hmac.new(consumer_secret.encode("utf-8"), message, hashlib.sha256).digest()
    return "sha256=" + base64.b64encode(digest).decode("ascii")


def crc_response(crc_token: str, consumer_secret: str) -> dict[str, str]:
    """The JSON body answering X's challenge-response check: HMAC-SHA256 of the token, keyed by the secret."""
    return {"response_token": _sign(crc_token.encode("utf-8"), consumer_secret)}


def signature_for(body: bytes, consumer_secret: str) -> str:
    """The x-twitter-webhooks-signature value X sends with `body` (used by tests and the fake)."""
    return _sign(body, consumer_secret)


def verify_signature(body: bytes, signature: str | None, consumer_secret: str) -> bool:
    """Whether `signature` (the header) signs the raw `body`; constant-time so timing reveals nothing."""
    if not signature:
        return False
    return hmac.compare_digest(
        signature.encode("utf-8"), signature_for(body, consumer_secret).encode("utf-8")
    )


def parse_delivery(body: bytes, headers: Mapping[str, str], consumer_secret: str) -> list[IncomingPost]:
    """Check a delivery's signature, then turn its tweet/DM events into posts (other events are ignored)."""
    signature = next((v for k, v in headers.items() if k.lower() == SIGNATURE_HEADER), None)
    if not verify_signature(body, signature, consumer_secret):
        log.warning("X webhook delivery rejected: %s signature", "bad" if signature else "missing")
        raise InvalidSignature("X webhook signature does not match")
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise ChannelError(f"X webhook body is not JSON: {exc}", retryable=False) from exc
    return parse_activity(payload)


def _v1_time(value: str | None) -> dt.datetime:
    # v1.1 format "Wed Oct 10 20:19:24 +0000 2018"; RFC 2822 parsing handles it once reordered
    if value:
        try:
            return dt.datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y").astimezone(dt.UTC)
        except (ValueError, OverflowError):
            try:
                return email.utils.parsedate_to_datetime(value).astimezone(dt.UTC)
            except (TypeError, ValueError, OverflowError):
                pass
    return dt.datetime.now(dt.UTC)


def _millis_time(value: Any) -> dt.datetime:
    """A DM event's created_timestamp (ms since the epoch); a missing or impossible one is "now"."""
    try:
        return dt.datetime.fromtimestamp(int(value) / 1000, dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return dt.datetime.now(dt.UTC)


def parse_activity(payload: dict[str, Any]) -> list[IncomingPost]:
    """Account Activity payload (v1.1 objects) to posts: mentions/replies from tweet_create_events, DMs
    from direct_message_events. Our own tweets and DMs (for_user_id) and retweets are skipped."""
    me = str(payload.get("for_user_id", ""))
    posts: list[IncomingPost] = []
    for tweet in payload.get("tweet_create_events", []) or []:
        user = tweet.get("user", {})
        if str(user.get("id_str", user.get("id", ""))) == me or "retweeted_status" in tweet:
            continue
        mentions = {
            str(m.get("id_str", m.get("id"))) for m in tweet.get("entities", {}).get("user_mentions", [])
        }
        reply_to_user = tweet.get("in_reply_to_user_id_str")
        if me not in mentions and reply_to_user != me:
            continue  # activity of the account that does not address us (e.g. a like's tweet)
        text = (
            (tweet.get("extended_tweet") or {}).get("full_text")
            or tweet.get("full_text")
            or tweet.get("text", "")
        )
        tweet_id = tweet.get("id_str") or tweet.get("id")
        if not tweet_id:
            continue  # without an id it could not be stored once, nor answered
        coords = (tweet.get("coordinates") or {}).get("coordinates")
        lon, lat = (float(coords[0]), float(coords[1])) if coords and len(coords) == 2 else (None, None)
        posts.append(
            IncomingPost(
                channel="x",
                external_id=str(tweet_id),
                kind="reply" if reply_to_user == me else "mention",
                author_id=str(user.get("id_str", user.get("id", ""))),
                author_handle=str(user.get("screen_name", "")),
                text=text,
                created_at=_v1_time(tweet.get("created_at")),
                conversation_id=None,  # v1.1 objects carry no conversation id; threads match by in_reply_to
                in_reply_to_id=tweet.get("in_reply_to_status_id_str"),
                lat=lat,
                lon=lon,
                lang=check_lang(tweet.get("lang")),  # a signed but odd lang is a 400, not a stored guess
                raw=tweet,
                media=attachments.from_x_v1(_tweet_media(tweet)),
            )
        )
    users = payload.get("users", {}) or {}
    for event in payload.get("direct_message_events", []) or []:
        if event.get("type") != "message_create":
            continue
        create = event.get("message_create", {})
        sender = str(create.get("sender_id", ""))
        if sender == me:
            continue
        recipient = str(create.get("target", {}).get("recipient_id", ""))
        if not event.get("id"):
            continue  # without an id it could not be stored once, nor answered
        created = _millis_time(event.get("created_timestamp"))
        low, high = sorted((sender, recipient), key=lambda s: int(s) if s.isdigit() else 0)
        posts.append(
            IncomingPost(
                channel="x",
                external_id=str(event.get("id")),
                kind="dm",
                author_id=sender,
                author_handle=str(users.get(sender, {}).get("screen_name", "")),
                text=create.get("message_data", {}).get("text", ""),
                created_at=created,
                conversation_id=f"{low}-{high}",  # the v2 one-to-one dm_conversation_id, so polled DMs match
                raw={"event": event, "users": {sender: users.get(sender, {})}},
                media=attachments.from_x_v1([_dm_media(create)]),
            )
        )
    return posts


def _tweet_media(tweet: dict[str, Any]) -> Any:
    """A v1.1 tweet's media: extended_entities (every photo) over entities (the first only); a long tweet's
    are inside extended_tweet."""
    for holder in (tweet.get("extended_tweet") or {}, tweet):
        for key in ("extended_entities", "entities"):
            media = (holder.get(key) or {}).get("media")
            if media:
                return media
    return []


def _dm_media(create: dict[str, Any]) -> Any:
    """A v1.1 DM's one attachment: message_data.attachment.media."""
    return ((create.get("message_data") or {}).get("attachment") or {}).get("media")
