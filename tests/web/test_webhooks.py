"""X Account Activity webhook: CRC answer, signature on every delivery, raw-first storage, then a ticket."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from civictracker.channels.x import XChannel
from civictracker.channels.x_webhook import signature_for
from civictracker.extensions import db
from civictracker.intake.receive import receive_post
from civictracker.models import InboundPost, OutboundMessage, Ticket
from civictracker.runtime import register_channel, runtime_of, settings_of
from tests.fakes import serve
from tests.fakes.x_api import FakeX
from tests.intake.helpers import incoming

SECRET = "webhook-consumer-secret"
ME = "1000"  # FakeX's own account id


@pytest.fixture()
def fake_x() -> Iterator[tuple[FakeX, str]]:
    fake = FakeX(me_id=ME)
    with serve(fake) as url:
        yield fake, url


@pytest.fixture()
def webhook_app(app: Flask, fake_x: tuple[FakeX, str], monkeypatch: pytest.MonkeyPatch) -> Flask:
    """The backend app with the webhook on (consumer secret, our user id) and X replies going to the fake."""
    _, url = fake_x
    settings = dataclasses.replace(settings_of(app), x_consumer_secret=SECRET, x_user_id=ME)
    monkeypatch.setattr(runtime_of(app), "settings", settings)
    register_channel(
        app,
        "x",
        XChannel(
            user_id=ME,
            consumer_key="ck",
            consumer_secret=SECRET,
            access_token="at",
            access_token_secret="ats",
            base_url=url,
            timeout=5,
        ),
    )
    return app


def _v1_tweet(fake: FakeX, tweet_id: str, *, mention_us: bool = True) -> dict[str, Any]:
    """The v1.1 object Account Activity delivers for a tweet stored in the fake."""
    tweet = fake.tweets[tweet_id]
    author = tweet["author_id"]
    return {
        "created_at": "Wed Oct 10 20:19:24 +0000 2018",
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": tweet["text"],
        "in_reply_to_status_id_str": None,
        "in_reply_to_user_id_str": None,
        "user": {"id": int(author), "id_str": author, "screen_name": fake.users[author]},
        "entities": {
            "user_mentions": [{"id": int(ME), "id_str": ME, "screen_name": fake.me_username}]
            if mention_us
            else []
        },
        "lang": "en",
    }


def _payload(fake: FakeX) -> dict[str, Any]:
    mention = fake.add_tweet("ana", "@CambridgeFix big pothole at 150 Hampshire St")
    ours = fake._store_tweet(ME, "@ana thanks, we are on it", mention)
    dm_author = fake.add_user("bob")
    return {
        "for_user_id": ME,
        "tweet_create_events": [_v1_tweet(fake, mention), _v1_tweet(fake, ours, mention_us=False)],
        "direct_message_events": [
            {
                "type": "message_create",
                "id": "954491830116155396",
                "created_timestamp": "1516403560557",
                "message_create": {
                    "target": {"recipient_id": ME},
                    "sender_id": dm_author,
                    "message_data": {"text": "streetlight out in front of 40 Pearl St", "entities": {}},
                },
            },
            {  # our own DM answer, delivered too: skipped
                "type": "message_create",
                "id": "954491830116155397",
                "created_timestamp": "1516403560999",
                "message_create": {
                    "target": {"recipient_id": dm_author},
                    "sender_id": ME,
                    "message_data": {"text": "Thanks, we logged it.", "entities": {}},
                },
            },
        ],
        "users": {dm_author: {"id": dm_author, "screen_name": "bob"}},
    }


def _post(client: Any, body: bytes, signature: str | None) -> Any:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["x-twitter-webhooks-signature"] = signature
    return client.post("/webhooks/x", data=body, headers=headers)


def _post_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(InboundPost)) or 0)


def test_crc_answer_matches_hand_computed_hmac(webhook_app: Flask) -> None:
    response = webhook_app.test_client().get("/webhooks/x?crc_token=abc-123_XYZ")
    assert response.status_code == 200
    digest = hmac.new(SECRET.encode(), b"abc-123_XYZ", hashlib.sha256).digest()
    assert response.get_json() == {"response_token": "sha256=" + base64.b64encode(digest).decode()}
    assert webhook_app.test_client().get("/webhooks/x").status_code == 400  # no token, no answer


def test_signed_delivery_stores_posts_and_makes_tickets_once(
    webhook_app: Flask, fake_x: tuple[FakeX, str]
) -> None:
    fake, _ = fake_x
    payload = _payload(fake)
    mention_id = payload["tweet_create_events"][0]["id_str"]
    body = json.dumps(payload).encode()
    client = webhook_app.test_client()

    response = _post(client, body, signature_for(body, SECRET))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"received": 2, "stored": 2}  # our own tweet and DM are not posts
    db.session.expire_all()
    posts = {p.external_id: p for p in db.session.scalars(select(InboundPost))}
    assert set(posts) == {mention_id, "954491830116155396"}
    mention = posts[mention_id]
    assert mention.channel == "x" and mention.kind == "mention" and mention.author_handle == "ana"
    assert mention.raw["id_str"] == mention_id  # the delivery is stored verbatim
    assert mention.outcome == "created" and mention.ticket_id is not None  # processed (inline queue)
    ticket = db.session.get(Ticket, mention.ticket_id)
    assert ticket is not None and ticket.service.code and ticket.status == "open"
    dm = posts["954491830116155396"]
    assert dm.is_dm and dm.author_handle == "bob" and dm.state == "processed"
    # the acknowledgement is answered in the resident's own thread on X (sent when the caps allow)
    ack = db.session.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == ticket.id)).one()
    assert (ack.channel, ack.in_reply_to_id, ack.is_dm, ack.kind) == ("x", mention_id, False, "ack")

    tickets_before = db.session.scalar(select(func.count()).select_from(Ticket))
    messages_before = db.session.scalar(select(func.count()).select_from(OutboundMessage))
    again = _post(client, body, signature_for(body, SECRET))  # X retries a delivery it thinks failed
    assert again.status_code == 200 and again.get_json() == {"received": 2, "stored": 0}
    assert _post_count() == 2
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == tickets_before
    assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == messages_before


def test_delivery_of_an_already_polled_post_stores_nothing(
    webhook_app: Flask, fake_x: tuple[FakeX, str]
) -> None:
    fake, _ = fake_x
    payload = _payload(fake)
    payload["direct_message_events"] = []
    mention_id = payload["tweet_create_events"][0]["id_str"]
    receive_post(db.session, incoming("polled copy", channel="x", ext=mention_id))
    db.session.commit()
    body = json.dumps(payload).encode()
    response = _post(webhook_app.test_client(), body, signature_for(body, SECRET))
    assert response.get_json() == {"received": 1, "stored": 0}
    assert _post_count() == 1
    assert db.session.scalar(select(InboundPost.text)) == "polled copy"  # the first copy stays


@pytest.mark.parametrize("how", ["tampered", "missing", "other-secret"])
def test_invalid_signature_is_refused_logged_and_stores_nothing(
    webhook_app: Flask, fake_x: tuple[FakeX, str], caplog: pytest.LogCaptureFixture, how: str
) -> None:
    fake, _ = fake_x
    body = json.dumps(_payload(fake)).encode()
    signature = {
        "tampered": signature_for(body.replace(b"pothole", b"potholes"), SECRET),
        "missing": None,
        "other-secret": signature_for(body, "not-our-secret"),
    }[how]
    with caplog.at_level(logging.WARNING, logger="civictracker.web.webhooks.views"):
        response = _post(webhook_app.test_client(), body, signature)
    assert response.status_code == 403
    assert "signature" in response.get_json()["error"]
    assert "rejected" in caplog.text
    assert _post_count() == 0


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[1, 2]",
        b'{"tweet_create_events": []}',  # no for_user_id
        b'{"for_user_id": "1000", "tweet_create_events": [42]}',
    ],
)
def test_malformed_body_is_a_400_and_stores_nothing(webhook_app: Flask, body: bytes) -> None:
    response = _post(webhook_app.test_client(), body, signature_for(body, SECRET))
    assert response.status_code == 400
    assert response.get_json()["error"]
    assert _post_count() == 0


def test_delivery_for_another_account_is_ignored(webhook_app: Flask, fake_x: tuple[FakeX, str]) -> None:
    fake, _ = fake_x
    payload = {**_payload(fake), "for_user_id": "999"}
    body = json.dumps(payload).encode()
    response = _post(webhook_app.test_client(), body, signature_for(body, SECRET))
    assert response.status_code == 200 and response.get_json() == {"received": 0, "stored": 0}
    assert _post_count() == 0


def test_without_a_consumer_secret_the_endpoint_is_off(app: Flask) -> None:
    assert not settings_of(app).x_consumer_secret
    client = app.test_client()
    crc = client.get("/webhooks/x?crc_token=abc")
    assert crc.status_code == 404 and "consumer secret" in crc.get_json()["error"]
    body = b"{}"
    delivery = _post(client, body, signature_for(body, ""))
    assert delivery.status_code == 404
    assert _post_count() == 0


def test_impossible_timestamps_and_id_less_events_are_not_a_500(webhook_app: Flask) -> None:
    payload = {
        "for_user_id": ME,
        "direct_message_events": [
            {  # a timestamp no clock can hold: stored, dated "now"
                "type": "message_create",
                "id": "77",
                "created_timestamp": str(10**30),
                "message_create": {
                    "target": {"recipient_id": ME},
                    "sender_id": "5",
                    "message_data": {"text": "pothole on Hampshire St"},
                },
            },
            {  # no id: could never be stored once nor answered; skipped
                "type": "message_create",
                "message_create": {"target": {"recipient_id": ME}, "sender_id": "6", "message_data": {}},
            },
        ],
    }
    body = json.dumps(payload).encode()
    response = _post(webhook_app.test_client(), body, signature_for(body, SECRET))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"received": 1, "stored": 1}
    assert _post_count() == 1


@pytest.mark.parametrize(
    ("lang", "why"),
    [
        ("x" * 40, "at most 8"),
        (["en"], "must be a string"),
        ({"code": "en"}, "must be a string"),
        (7, "string"),
    ],
)
def test_signed_delivery_with_an_odd_lang_is_a_clear_400(
    webhook_app: Flask, fake_x: tuple[FakeX, str], lang: object, why: str
) -> None:
    fake, _ = fake_x
    payload = _payload(fake)
    payload["tweet_create_events"][0]["lang"] = lang
    body = json.dumps(payload).encode()
    response = _post(webhook_app.test_client(), body, signature_for(body, SECRET))
    assert response.status_code == 400, response.get_data(as_text=True)
    assert "lang" in response.get_json()["error"] and why in response.get_json()["error"]
    assert _post_count() == 0  # nothing half-stored
