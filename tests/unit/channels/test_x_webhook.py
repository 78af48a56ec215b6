"""X Account Activity webhook: CRC answer, signature check, payload parsing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

import pytest

from civictracker.channels.x_webhook import (
    InvalidSignature,
    crc_response,
    parse_delivery,
    signature_for,
    verify_signature,
)

SECRET = "consumer-secret"

PAYLOAD = {
    "for_user_id": "1000",
    "tweet_create_events": [
        {
            "created_at": "Wed Oct 10 20:19:24 +0000 2018",
            "id": 1050118621198921728,
            "id_str": "1050118621198921728",
            "text": "@CambridgeFix pothole on Broadway",
            "truncated": False,
            "in_reply_to_status_id_str": None,
            "in_reply_to_user_id_str": None,
            "user": {"id": 2001, "id_str": "2001", "screen_name": "ana"},
            "coordinates": {"type": "Point", "coordinates": [-71.1, 42.37]},
            "entities": {"user_mentions": [{"id": 1000, "id_str": "1000", "screen_name": "CambridgeFix"}]},
            "lang": "en",
        },
        {  # our own reply, delivered too: skipped
            "created_at": "Wed Oct 10 20:20:00 +0000 2018",
            "id_str": "1050118621198921729",
            "text": "@ana thanks",
            "user": {"id_str": "1000", "screen_name": "CambridgeFix"},
            "entities": {"user_mentions": []},
        },
        {  # a long tweet: the full text is in extended_tweet; a reply to us
            "created_at": "Wed Oct 10 20:21:00 +0000 2018",
            "id_str": "1050118621198921730",
            "text": "still broken…",
            "truncated": True,
            "extended_tweet": {"full_text": "still broken, the light at Main and Elm is out again"},
            "in_reply_to_status_id_str": "1050118621198921729",
            "in_reply_to_user_id_str": "1000",
            "user": {"id_str": "2001", "screen_name": "ana"},
            "entities": {"user_mentions": []},
        },
    ],
    "direct_message_events": [
        {
            "type": "message_create",
            "id": "954491830116155396",
            "created_timestamp": "1516403560557",
            "message_create": {
                "target": {"recipient_id": "1000"},
                "sender_id": "3001",
                "message_data": {"text": "light out at 12 Elm St", "entities": {}},
            },
        }
    ],
    "users": {"3001": {"id": "3001", "name": "Bob", "screen_name": "bob"}},
}


def test_crc_response_matches_documented_recipe() -> None:
    expected = base64.b64encode(hmac.new(SECRET.encode(), b"challenge-123", hashlib.sha256).digest()).decode()
    assert crc_response("challenge-123", SECRET) == {"response_token": "sha256=" + expected}


def test_signed_delivery_is_parsed() -> None:
    body = json.dumps(PAYLOAD).encode()
    posts = parse_delivery(body, {"X-Twitter-Webhooks-Signature": signature_for(body, SECRET)}, SECRET)
    assert [(p.external_id, p.kind, p.author_handle) for p in posts] == [
        ("1050118621198921728", "mention", "ana"),
        ("1050118621198921730", "reply", "ana"),
        ("954491830116155396", "dm", "bob"),
    ]
    assert (posts[0].lat, posts[0].lon) == (42.37, -71.1)
    assert posts[0].created_at.isoformat() == "2018-10-10T20:19:24+00:00"
    assert (
        posts[1].text.startswith("still broken, the light")
        and posts[1].in_reply_to_id == "1050118621198921729"
    )
    assert posts[2].conversation_id == "1000-3001" and posts[2].created_at.year == 2018


def test_bad_or_missing_signature_rejected_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    body = json.dumps(PAYLOAD).encode()
    tampered = body.replace(b"pothole", b"potholes")
    with caplog.at_level(logging.WARNING), pytest.raises(InvalidSignature):
        parse_delivery(tampered, {"x-twitter-webhooks-signature": signature_for(body, SECRET)}, SECRET)
    with pytest.raises(InvalidSignature):
        parse_delivery(body, {}, SECRET)
    with pytest.raises(InvalidSignature):
        parse_delivery(body, {"x-twitter-webhooks-signature": signature_for(body, "other-secret")}, SECRET)
    assert "rejected" in caplog.text
    assert verify_signature(body, signature_for(body, SECRET), SECRET)
    assert not verify_signature(body, None, SECRET)
