"""X Account Activity webhook: answer the CRC challenge; store signed deliveries raw first, then enqueue."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Response, current_app, jsonify, request

from civictracker.channels.x_webhook import (
    SIGNATURE_HEADER,
    crc_response,
    parse_activity,
    verify_signature,
)
from civictracker.extensions import current_session, db
from civictracker.runtime import settings_of
from civictracker.web.webhooks.blueprint import bp

log = logging.getLogger(__name__)


def _error(status: int, message: str) -> tuple[Response, int]:
    return jsonify(error=message, code=status), status


def _consumer_secret() -> str:
    return settings_of(current_app).x_consumer_secret


def _off() -> tuple[Response, int]:
    # Without the app's consumer secret no delivery can be verified: the endpoint does not exist.
    return _error(404, "X webhooks are off on this server: no X consumer secret is configured.")


@bp.get("/webhooks/x")
def x_crc():  # type: ignore[no-untyped-def]
    """X's challenge-response check, sent when the webhook is registered and about hourly after."""
    secret = _consumer_secret()
    if not secret:
        return _off()
    token = request.args.get("crc_token", "")
    if not token:
        return _error(400, "crc_token is required.")
    return jsonify(crc_response(token, secret))


@bp.post("/webhooks/x")
def x_delivery():  # type: ignore[no-untyped-def]
    """One Account Activity delivery: signature first (403), then JSON (400), then store and enqueue."""
    from civictracker.intake.receive import receive_posts
    from civictracker.jobs import posts as jobs
    from civictracker.queue import enqueue_after_commit

    secret = _consumer_secret()
    if not secret:
        return _off()
    body = request.get_data(cache=False)
    signature = request.headers.get(SIGNATURE_HEADER)
    if not verify_signature(body, signature, secret):
        log.warning(
            "X webhook delivery from %s rejected: %s signature",
            request.remote_addr,
            "bad" if signature else "missing",
        )
        return _error(403, "Invalid or missing x-twitter-webhooks-signature.")
    try:
        payload: Any = json.loads(body)
    except ValueError as exc:
        return _error(400, f"The body is not JSON: {exc}.")
    if not isinstance(payload, dict):
        return _error(400, "The body must be a JSON object (an Account Activity payload).")
    for_user = str(payload.get("for_user_id") or "")
    if not for_user:
        return _error(400, "The payload has no for_user_id: not an Account Activity delivery.")
    our_id = settings_of(current_app).x_user_id
    if our_id and for_user != our_id:
        # Signed by our app, but about another account subscribed to it: nothing of ours to store.
        log.info("X webhook delivery for user %s ignored (we are %s)", for_user, our_id)
        return jsonify(received=0, stored=0)
    try:
        posts = parse_activity(payload)
    except (AttributeError, TypeError, ValueError, KeyError) as exc:
        detail = str(exc)[:200] if isinstance(exc, ValueError) else type(exc).__name__  # ours say what
        return _error(400, f"The Account Activity payload is malformed: {detail}.")
    received = receive_posts(current_session(), posts)
    new_ids = [post.id for post, created in received if created]
    db.session.commit()  # stored before any processing: a crash from here on loses nothing
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    enqueue_after_commit(
        app, "retry_failed_posts processes them", lambda: jobs.enqueue_processing(app, new_ids)
    )
    return jsonify(received=len(posts), stored=len(new_ids))
