"""X API v2 calls through tweepy: one call with its budgets, limit headers, errors and field fallback;
the ids and cursor those calls page with.

XChannel (channels/x.py) builds on this; the split keeps how a call is made apart from what is read and
sent. The logger is the adapter's ("civictracker.channels.x"): operators filter on one name.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import requests
import tweepy

from civictracker.channels.base import REPLY_REFUSED, ChannelError
from civictracker.channels.budget import ReadBudget
from civictracker.channels.retry import parse_retry_after

log = logging.getLogger("civictracker.channels.x")

TWEEPY_HOST = "https://api.twitter.com"  # tweepy.Client.request hard-codes this host
DM_MAX_LENGTH = 10_000

TWEET_FIELDS = [
    "created_at",
    "conversation_id",
    "in_reply_to_user_id",
    "referenced_tweets",
    "geo",
    "lang",
    "entities",  # whether the post names us: X's reply rules on self-serve tiers depend on it
]
TWEET_EXPANSIONS = ["author_id", "geo.place_id"]
DM_FIELDS = ["id", "text", "event_type", "created_at", "dm_conversation_id", "sender_id", "participant_ids"]
# Photos (issue 13): the media objects come in includes.media, keyed by each post's attachments.media_keys.
# `url` is given for photos only, `preview_image_url` for videos and GIFs (X data dictionary, Media object).
MEDIA_EXPANSION = "attachments.media_keys"
MEDIA_FIELDS = ["type", "url", "preview_image_url", "alt_text", "width", "height"]
# The parameter X's current spec names what tweepy still sends as tweet.fields (a 400 says which it wants).
POST_FIELDS_PARAM = "post.fields"
# X's 403 detail for a reply its rules do not allow (the wording varies; these words are in all of them)
REPLY_REFUSAL_WORDS = ("not allowed to reply", "reply to this conversation is not allowed", "mentioned or")
# The headers that name each window: (remaining, reset) per window, the 15-minute one first.
LIMIT_HEADERS = (
    ("15min", "x-rate-limit-remaining", "x-rate-limit-reset"),
    ("24h-user", "x-user-limit-24hour-remaining", "x-user-limit-24hour-reset"),
    ("24h-app", "x-app-limit-24hour-remaining", "x-app-limit-24hour-reset"),
)


class RebasedSession(requests.Session):
    """A requests session that sends tweepy's fixed api.twitter.com URLs to another base URL, with a timeout.

    tweepy builds every URL as "https://api.twitter.com" + route inside `Client.request`, and calls
    `self.session.request(...)`. Swapping the session is the narrowest seam: every other tweepy code
    path (parameter encoding, OAuth 1.0a signing, status-to-exception mapping) runs unchanged. tweepy
    also passes no timeout, so a hung connection would block a worker forever; this adds one.
    """

    def __init__(self, base_url: str | None, timeout: float) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if self.base_url and isinstance(url, str) and url.startswith(TWEEPY_HOST):
            url = self.base_url + url[len(TWEEPY_HOST) :]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]


def max_id(a: str | None, b: str | None) -> str | None:
    """The larger of two snowflake ids (compared as integers; string order is wrong across lengths)."""
    if a is None:
        return b
    if b is None:
        return a
    return a if int(a) >= int(b) else b


def parse_cursor(cursor: str | None) -> dict[str, str | None]:
    """The channel's cursor: JSON {"mentions": newest tweet id, "dms": newest DM event id}."""
    if not cursor:
        return {"mentions": None, "dms": None, "started": None}
    try:
        data = json.loads(cursor)
    except ValueError as exc:
        raise ChannelError(f"unreadable X cursor {cursor!r}", retryable=False) from exc
    # "started": a first fetch was made, so everything now in a stream without an id is new
    return {"mentions": data.get("mentions"), "dms": data.get("dms"), "started": "1"}


class XCalls:
    """The plumbing of one X account's client; XChannel sets these attributes in its constructor."""

    client: tweepy.Client
    budget: ReadBudget
    fields: dict[str, list[str]]
    rate_limits: dict[str, tuple[int, float]]
    windows: dict[str, dict[str, tuple[int, float]]]
    _user_auth: bool
    _clock: Callable[[], float]
    _warned: set[str]

    def _warn_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, *args)

    # -- plumbing -------------------------------------------------------------------------------

    def _note_limits(self, label: str, headers: Any) -> None:
        """Each window's (remaining, reset) from the headers that name it: the 15-minute x-rate-limit-*
        and the 24-hour x-user-limit-24hour-* / x-app-limit-24hour-* (POST endpoints)."""
        seen = self.windows.setdefault(label, {})
        for window, remaining_header, reset_header in LIMIT_HEADERS:
            try:
                seen[window] = (int(headers[remaining_header]), float(headers[reset_header]))
            except (KeyError, TypeError, ValueError):
                continue
        if "15min" in seen:
            self.rate_limits[label] = seen["15min"]
            self.budget.note(label, *seen["15min"])
        elif seen and "15min" not in seen:
            self._warn_once(
                f"no15:{label}",
                "X answered %s with 24-hour limit headers only; the 24-hour reset is used (logged once)",
                label,
            )

    def _spent_until(self, label: str, now: float) -> tuple[str, float] | None:
        """The used-up window of `label` that resets last, and its reset (epoch), if any is used up."""
        spent = [
            (reset, w) for w, (remaining, reset) in self.windows.get(label, {}).items() if remaining <= 0
        ]
        spent = [(reset, w) for reset, w in spent if reset > now]
        if not spent:
            return None
        reset, window = max(spent)
        return window, reset

    def _call(self, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Call one tweepy method; map every failure to ChannelError; return the JSON body."""
        now = self._clock()
        spent = self._spent_until(label, now)
        if spent is not None:
            # the last answer said a window is used up: don't spend a request to be told 429
            raise ChannelError(
                f"X rate limit for {label} ({spent[0]}) exhausted until reset",
                retry_after=spent[1] - now,
                status=429,
            )
        self.budget.spend(label)
        for attempt in range(2):
            try:
                response = fn(*args, user_auth=self._user_auth, **kwargs)
                break
            except tweepy.BadRequest as exc:
                if attempt == 0 and self._adjust_fields(label, kwargs, exc.response):
                    continue  # asked again with the fields X accepts
                raise self._http_error(label, exc) from exc
            except tweepy.TooManyRequests as exc:
                self._note_limits(label, exc.response.headers)
                spent = self._spent_until(label, now)
                if spent is not None:
                    # tweepy's reset_time is the 15-minute header's even when a 24-hour cap is what was hit
                    window, retry_after = spent[0], spent[1] - now
                elif exc.reset_time:
                    window, retry_after = "15min", max(0.0, exc.reset_time - now)
                else:
                    window, retry_after = "unknown", 60.0
                raise ChannelError(
                    f"X rate limited on {label} ({window})", retry_after=retry_after, status=429
                ) from exc
            except tweepy.TwitterServerError as exc:
                status = exc.response.status_code
                # a 503 may say when to come back (Retry-After): asking before then only earns another 503
                wait = parse_retry_after(exc.response.headers.get("retry-after"), now)
                told = f" (retry after {wait:.0f} s)" if wait is not None else ""
                raise ChannelError(
                    f"X API {status} on {label}{told}", retryable=True, status=status, retry_after=wait
                ) from exc
            except tweepy.HTTPException as exc:
                raise self._http_error(label, exc) from exc
            except requests.RequestException as exc:
                raise ChannelError(f"X API unreachable on {label}: {exc}", retryable=True) from exc
        self._note_limits(label, response.headers)
        try:
            body: dict[str, Any] = response.json()
        except ValueError as exc:
            raise ChannelError(f"X API sent a non-JSON answer on {label}", retryable=True) from exc
        return body

    def _http_error(self, label: str, exc: tweepy.HTTPException) -> ChannelError:
        status = exc.response.status_code
        detail = "; ".join(str(m) for m in exc.api_messages) or exc.response.reason
        refusal = None
        if (
            status == 403
            and label == "tweet_create"
            and any(word in detail.lower() for word in REPLY_REFUSAL_WORDS)
        ):
            refusal = REPLY_REFUSED
        return ChannelError(
            f"X API {status} on {label}: {detail}", retryable=False, status=status, refusal=refusal
        )

    def _adjust_fields(self, label: str, kwargs: dict[str, Any], response: Any) -> bool:
        """After a 400 naming requested fields: drop the refused values, or switch tweet.fields to the
        spec's post.fields when the parameter itself is unknown. Logged once with what to update; True
        when the request changed (it is sent once more)."""
        try:
            errors = response.json().get("errors", [])
        except ValueError:
            return False
        changed = False
        for error in errors:
            message = str(error.get("message", ""))
            for param, values in (error.get("parameters") or {}).items():
                key = {"tweet.fields": "tweet_fields", POST_FIELDS_PARAM: POST_FIELDS_PARAM}.get(param)
                key = key or {"dm_event.fields": "dm_event_fields"}.get(param)
                if key is None or key not in kwargs:
                    continue
                if f"parameter [{param}]" in message:  # the parameter itself is not in the spec
                    new_key = POST_FIELDS_PARAM if key == "tweet_fields" else None
                    fields = self.fields.pop(key, kwargs[key])
                    kwargs.pop(key)
                    if new_key:
                        self.fields[new_key] = kwargs[new_key] = fields
                    what = f"{param} is not accepted; now sending {new_key or 'no fields'}"
                else:
                    refused = {str(v) for v in values or []}
                    kept = [f for f in kwargs[key] if f not in refused]
                    self.fields[key] = kwargs[key] = kept
                    what = f"{param} values {sorted(refused)} are refused; now asking for {kept}"
                changed = True
                self._warn_once(
                    f"fields:{param}",
                    "X answered 400 on %s: %s (logged once). Update TWEET_FIELDS/DM_FIELDS in "
                    "civictracker/channels/x_calls.py to X's current spec.",
                    label,
                    what,
                )
        return changed

    def _tweet_fields(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.fields.items() if k in ("tweet_fields", POST_FIELDS_PARAM) and v}

    def _dm_fields(self) -> dict[str, list[str]]:
        return {k: v for k, v in self.fields.items() if k == "dm_event_fields" and v}
