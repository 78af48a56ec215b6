"""X (Twitter) API v2 channel through tweepy: mentions and DMs since a cursor, threaded and DM replies."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection
from typing import Any

import requests
import tweepy

from civictracker.channels import media as attachments
from civictracker.channels.base import (
    REPLY_REFUSED,
    ChannelError,
    FeedError,
    FetchResult,
    IncomingPost,
    ReplyTarget,
    SentMessage,
)
from civictracker.channels.bounds import remember, time_or_now
from civictracker.channels.budget import ReadBudget
from civictracker.channels.limits import X_TIERS, Tier
from civictracker.channels.sent import is_ours
from civictracker.channels.x_calls import (
    DM_FIELDS,
    DM_MAX_LENGTH,
    MEDIA_EXPANSION,
    MEDIA_FIELDS,
    TWEET_EXPANSIONS,
    TWEET_FIELDS,
    RebasedSession,
    XCalls,
    max_id,
    parse_cursor,
)
from civictracker.postlength import X_MAX_LENGTH, X_URL_WEIGHT, X_WIDE_WEIGHT, fit_text

log = logging.getLogger(__name__)


class XChannel(XCalls):
    """One X account: reads its mentions and DMs, answers in the thread or by DM.

    Credentials come from configuration through the constructor, never from the environment here.
    OAuth 1.0a user context (consumer key/secret + access token/secret) is used when all four are
    given; otherwise `bearer_token` is sent as-is (an OAuth 2.0 user token works for every call here;
    an app-only token can read mentions but cannot post or read DMs).
    """

    name = "x"
    max_length = X_MAX_LENGTH
    url_weight: int | None = X_URL_WEIGHT

    def __init__(  # noqa: PLR0913 - the credentials mirror tweepy.Client's (X's OAuth 1.0a/2.0 configuration)
        self,
        *,
        user_id: str,
        bearer_token: str | None = None,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        access_token: str | None = None,
        access_token_secret: str | None = None,
        base_url: str | None = None,
        timeout: float = 10.0,
        max_pages: int = 20,
        find_pages: int = 3,
        clock: Callable[[], float] = time.time,
        tier: Tier | None = None,
        username: str | None = None,
        dms_by_webhook: bool = False,
    ) -> None:
        self.user_id = str(user_id)
        self._user_auth = all((consumer_key, consumer_secret, access_token, access_token_secret))
        if not self._user_auth and not bearer_token:
            raise ValueError("XChannel needs OAuth 1.0a user credentials or a bearer token")
        self.client = tweepy.Client(
            bearer_token=bearer_token,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            access_token=access_token,
            access_token_secret=access_token_secret,
            # the raw response keeps the rate-limit headers and the verbatim JSON we store
            return_type=requests.Response,
            wait_on_rate_limit=False,  # we decide when to wait; tweepy would sleep inside a worker
        )
        self.client.session = RebasedSession(base_url, timeout)
        self.max_pages = max_pages
        self.find_pages = find_pages
        self._clock = clock
        # The account's tier (channels/limits.py): read budgets and reply rules. None: no limits known
        # (a local fake); the registry passes the configured one.
        self.tier = tier or X_TIERS["none"]
        self.budget = ReadBudget(self.tier, clock=clock)
        self.username = username  # our @handle, for telling whether a post mentions us (else looked up)
        self.dms_by_webhook = dms_by_webhook  # the Account Activity webhook delivers DMs: do not poll them
        # per endpoint: (remaining, reset epoch) of each window whose headers were seen ("15min", ...)
        self.rate_limits: dict[str, tuple[int, float]] = {}
        self.windows: dict[str, dict[str, tuple[int, float]]] = {}
        # requested fields, adjusted once when X refuses one (a renamed parameter, a dropped field)
        self.fields: dict[str, list[str]] = {
            "tweet_fields": list(TWEET_FIELDS),
            "dm_event_fields": [*DM_FIELDS, "attachments"],  # attachments: a DM's photos (media_keys)
        }
        # tweet id -> whether its author mentioned or quoted us (read with the post; X lets us reply then)
        self._engaged: dict[str, bool] = {}
        self._warned: set[str] = set()
        # DM events this process sent: read back without a sender_id, they must not pass for the resident's
        # (only needed until the next DM poll reads the event back; intake's own_message check does the rest)
        self._sent_dm_ids: dict[str, None] = {}
        self.skipped_reads: dict[str, int] = {}  # polls not made because the endpoint's budget was spent

    # -- reading --------------------------------------------------------------------------------

    def fetch_since(self, cursor: str | None) -> FetchResult:
        """Mentions (GET /2/users/:id/mentions, since_id) and DMs (GET /2/dm_events) newer than the cursor.

        The cursor is JSON {"mentions": newest tweet id, "dms": newest DM event id, "started": "1"}. The
        very first fetch (no cursor) takes only the latest page of each stream (no backfill of history);
        after that every page since the cursor is read. A stream that fails
        keeps its part of the cursor, so its posts are fetched again next time (the receiver dedupes by
        (channel, external_id)); when both fail the first error is raised with its retry_after.
        """
        state = parse_cursor(cursor)
        posts: list[IncomingPost] = []
        errors: list[FeedError] = []
        failures: list[ChannelError] = []
        new_state = dict(state)
        started = state["started"] is not None
        new_state["started"] = "1"
        Fetch = Callable[[str | None, bool], tuple[list[IncomingPost], str | None]]
        streams: list[tuple[str, str, Fetch]] = [("mentions", "mentions", self._fetch_mentions)]
        if not self.dms_by_webhook:
            streams.append(("dms", "dm_events", self._fetch_dms))
        attempted = 0
        for stream, label, fetch in streams:
            if self.budget.due_in(label) > 0:
                # read no faster than the endpoint's limit allows: this stream waits for a later poll
                self.skipped_reads[label] = self.skipped_reads.get(label, 0) + 1
                continue
            attempted += 1
            try:
                got, newest = fetch(state[stream], started)
            except ChannelError as exc:
                log.warning("X %s fetch failed: %s", stream, exc)
                failures.append(exc)
                errors.append(FeedError(where=stream, message=str(exc)))
                continue
            posts.extend(got)
            new_state[stream] = max_id(state[stream], newest)
        if attempted and len(failures) == attempted:
            raise failures[0]
        posts.sort(key=lambda p: (p.created_at, int(p.external_id)))
        return FetchResult(posts=posts, cursor=json.dumps(new_state, sort_keys=True), errors=errors)

    def _fetch_mentions(self, since_id: str | None, started: bool) -> tuple[list[IncomingPost], str | None]:
        posts: list[IncomingPost] = []
        newest: str | None = None
        token: str | None = None
        for page in range(self.max_pages):
            params: dict[str, Any] = {
                "max_results": 100,
                "expansions": [*TWEET_EXPANSIONS, MEDIA_EXPANSION],
                **self._tweet_fields(),
                "user_fields": ["username"],
                "place_fields": ["geo", "full_name"],
                "media_fields": MEDIA_FIELDS,
            }
            if since_id:
                params["since_id"] = since_id
            if token:
                params["pagination_token"] = token
            body = self._call("mentions", self.client.get_users_mentions, self.user_id, **params)
            meta = body.get("meta", {})
            if page == 0:
                newest = meta.get("newest_id")
            users = {u["id"]: u for u in body.get("includes", {}).get("users", [])}
            places = {p["id"]: p for p in body.get("includes", {}).get("places", [])}
            media = body.get("includes", {}).get("media", [])
            for tweet in body.get("data", []):
                if tweet.get("author_id") == self.user_id:
                    continue
                # a reply in our thread is in the mentions timeline even when its text no longer names
                # us; X lets us answer only those that do (entities), the others are looked up at send
                if any(
                    str(m.get("id")) == self.user_id
                    for m in (tweet.get("entities") or {}).get("mentions", [])
                ):
                    remember(self._engaged, str(tweet["id"]), True)
                posts.append(self._tweet_to_post(tweet, users, places, media))
                newest = max_id(newest, tweet["id"])
            token = meta.get("next_token")
            if not token or not started:
                break
        else:
            log.error(
                "X mentions: more than %s pages since %s; older ones are skipped", self.max_pages, since_id
            )
        return posts, newest

    def _tweet_to_post(
        self, tweet: dict[str, Any], users: dict[str, Any], places: dict[str, Any], media: Any = ()
    ) -> IncomingPost:
        author = users.get(tweet.get("author_id", ""), {})
        replied_to = next(
            (r["id"] for r in tweet.get("referenced_tweets", []) or [] if r.get("type") == "replied_to"), None
        )
        geo = tweet.get("geo") or {}
        lat = lon = None
        coords = (geo.get("coordinates") or {}).get("coordinates")
        if coords and len(coords) == 2:
            # an exact geotag only; a place is a whole town and would mislead the geocoder
            lon, lat = float(coords[0]), float(coords[1])
        includes: dict[str, Any] = {"users": [author] if author else []}
        place = places.get(geo.get("place_id", ""))
        if place:
            includes["places"] = [place]
        attached = attachments.from_x((tweet.get("attachments") or {}).get("media_keys"), media)
        if attached:
            keys = {m.key for m in attached}
            includes["media"] = [m for m in media if str(m.get("media_key")) in keys]
        kind = "reply" if tweet.get("in_reply_to_user_id") == self.user_id else "mention"
        return IncomingPost(
            channel=self.name,
            external_id=tweet["id"],
            kind=kind,
            author_id=tweet.get("author_id", ""),
            author_handle=author.get("username", ""),
            text=tweet.get("text", ""),
            created_at=time_or_now(tweet.get("created_at")),
            conversation_id=tweet.get("conversation_id"),
            in_reply_to_id=replied_to,
            lat=lat,
            lon=lon,
            lang=tweet.get("lang"),
            raw={"data": tweet, "includes": includes},
            media=attached,
        )

    def _fetch_dms(self, since_event: str | None, started: bool) -> tuple[list[IncomingPost], str | None]:
        """DM events have no since_id: page newest-first until an event at or below the cursor."""
        posts: list[IncomingPost] = []
        newest: str | None = None
        token: str | None = None
        for _ in range(self.max_pages):
            params: dict[str, Any] = {
                "event_types": "MessageCreate",
                **self._dm_fields(),
                "expansions": ["sender_id", MEDIA_EXPANSION],
                "user_fields": ["username"],
                "media_fields": MEDIA_FIELDS,
                "max_results": 100,
            }
            if token:
                params["pagination_token"] = token
            body = self._call("dm_events", self.client.get_direct_message_events, **params)
            users = {u["id"]: u for u in body.get("includes", {}).get("users", [])}
            media = body.get("includes", {}).get("media", [])
            reached_cursor = False
            for event in body.get("data", []):
                if since_event is not None and int(event["id"]) <= int(since_event):
                    reached_cursor = True
                    break
                newest = max_id(newest, event["id"])
                sender_id = self._sender_of(event)
                ours = sender_id == self.user_id or str(event.get("id")) in self._sent_dm_ids
                if event.get("event_type") != "MessageCreate" or ours:
                    continue
                sender = users.get(sender_id, {})
                attached = attachments.from_x((event.get("attachments") or {}).get("media_keys"), media)
                dm_includes: dict[str, Any] = {"users": [sender] if sender else []}
                if attached:
                    keys = {m.key for m in attached}
                    dm_includes["media"] = [m for m in media if str(m.get("media_key")) in keys]
                posts.append(
                    IncomingPost(
                        channel=self.name,
                        external_id=event["id"],
                        kind="dm",
                        author_id=sender_id,
                        author_handle=sender.get("username", ""),
                        text=event.get("text", ""),
                        created_at=time_or_now(event.get("created_at")),
                        conversation_id=event.get("dm_conversation_id"),
                        raw={"data": event, "includes": dm_includes},
                        media=attached,
                    )
                )
            token = body.get("meta", {}).get("next_token")
            if reached_cursor or not token or not started:
                break
        return posts, newest

    def _sender_of(self, event: dict[str, Any]) -> str:
        """The sender: sender_id, or, when X no longer returns it, the other member of a one-to-one
        conversation ("low-high" ids). Never a guess for a group conversation. The guess would take our
        own DMs for the resident's: the events this process sent are skipped by id, and intake ignores
        a post whose id is one of our sent messages (intake/process.py), whichever process sent it."""
        if event.get("sender_id"):
            return str(event["sender_id"])
        members = str(event.get("dm_conversation_id", "")).split("-")
        others = [m for m in members if m and m != self.user_id]
        if len(members) == 2 and len(others) == 1:
            return others[0]
        self._warn_once(
            "dm-sender",
            "X DM event %s has no sender_id: stored without an author (logged once); check dm_event.fields",
            event.get("id"),
        )
        return ""

    def reply_allowed(self, target: ReplyTarget) -> tuple[bool, str]:
        """Whether X will take this public reply, known before posting, and why not.

        On a tier whose replies need engagement (self-serve), the post answered must mention or quote
        us (every post read from our mentions does), and the reply may name no one else.
        """
        if target.is_dm or not self.tier.reply_needs_engagement:
            return True, ""
        if target.mention_handles and not self.tier.mentions_others:
            return False, "this tier does not allow replies that mention other people"
        if target.in_reply_to_id is None:
            return True, ""
        engaged = self._engaged.get(target.in_reply_to_id)
        if engaged is None:
            engaged = self._engages_us(target.in_reply_to_id)
        if not engaged:
            return False, "its author did not mention or quote the account"
        return True, ""

    def _engages_us(self, tweet_id: str) -> bool:
        """GET /2/tweets/:id with entities and references: does it mention or quote us? Unknown: True
        (X decides; a refusal is handled like any other)."""
        try:
            body = self._call(
                "tweet_lookup",
                self.client.get_tweet,
                tweet_id,
                tweet_fields=["entities", "referenced_tweets", "author_id"],
                expansions=["referenced_tweets.id.author_id"],
            )
        except ChannelError:
            return True
        tweet = body.get("data") or {}
        mentions = {str(m.get("id", "")) for m in (tweet.get("entities") or {}).get("mentions", [])}
        names = {
            str(m.get("username", "")).lower() for m in (tweet.get("entities") or {}).get("mentions", [])
        }
        quoted = {r["id"] for r in tweet.get("referenced_tweets", []) or [] if r.get("type") == "quoted"}
        quoted_authors = {
            str(t.get("author_id"))
            for t in body.get("includes", {}).get("tweets", [])
            if t.get("id") in quoted
        }
        engaged = (
            self.user_id in mentions
            or (self.username or "").lower() in names - {""}
            or self.user_id in quoted_authors
            or str(tweet.get("author_id")) == self.user_id
        )
        remember(self._engaged, tweet_id, engaged)
        return engaged

    def post_exists(self, external_id: str, *, author_id: str | None = None) -> bool:
        """GET /2/tweets/:id. A deleted tweet answers 200 with a resource-not-found error and no data
        (X tells hidden from deleted itself, so `author_id` is not needed).

        A tweet we may not see (protected author, suspended account) is reported as existing: it was
        not deleted, and its text should not be redacted on a guess.
        """
        try:
            body = self._call("tweet_lookup", self.client.get_tweet, external_id)
        except ChannelError as exc:
            if exc.status == 404:
                return False
            raise
        if body.get("data"):
            return True
        for error in body.get("errors", []):
            if str(error.get("type", "")).endswith("/resource-not-found"):
                return False
        return True

    # -- writing --------------------------------------------------------------------------------

    def compose(self, target: ReplyTarget, text: str, idempotency_key: str) -> str:
        """The exact text `send` posts: the resident's and cluster mentions, shortened to the platform limit.

        A public reply names its resident first, as a person would ("@ana Thanks…"). It also makes two
        followers' identical updates different texts, which X requires (it refuses duplicate content).
        """
        body = text
        if not target.is_dm:
            extra = [h for h in target.mention_handles if f"@{h.lstrip('@')}" not in body]
            if target.recipient_handle and f"@{target.recipient_handle.lstrip('@')}" not in body:
                extra.insert(0, target.recipient_handle)
            if extra:
                body = " ".join(f"@{h.lstrip('@')}" for h in extra) + " " + body
        limit = DM_MAX_LENGTH if target.is_dm else self.max_length
        try:
            return fit_text(body, limit, X_URL_WEIGHT, wide_weight=X_WIDE_WEIGHT)
        except ValueError as exc:
            raise ChannelError(f"reply cannot fit X's {limit} characters: {exc}", retryable=False) from exc

    def send(self, target: ReplyTarget, text: str, *, idempotency_key: str) -> SentMessage:
        """POST /2/tweets with reply.in_reply_to_tweet_id, or POST /2/dm_conversations/with/:id/messages."""
        body = self.compose(target, text, idempotency_key)
        try:
            if target.is_dm:
                answer = self._call(
                    "dm_create",
                    self.client.create_direct_message,
                    participant_id=target.recipient_id,
                    text=body,
                )
                event_id = str(answer["data"]["dm_event_id"])
                remember(self._sent_dm_ids, event_id, None)
                return SentMessage(external_id=event_id, raw=answer, text=body)
            allowed, why = self.reply_allowed(target)
            if not allowed:
                raise ChannelError(
                    f"X does not allow this reply to {target.in_reply_to_id}: {why}",
                    retryable=False,
                    status=403,
                    refusal=REPLY_REFUSED,
                )
            answer = self._call(
                "tweet_create",
                self.client.create_tweet,
                text=body,
                in_reply_to_tweet_id=target.in_reply_to_id,
            )
            return SentMessage(external_id=answer["data"]["id"], raw=answer, text=body)
        except ChannelError as exc:
            if exc.status == 403 and "duplicate" in str(exc).lower():
                # X refuses the same text twice: our earlier attempt got through, so find it
                # (the outbox's own records are not known here: it passes them on its recovery path)
                found = self.find_sent(target, idempotency_key, text=text)
                if found is not None:
                    return found
            raise

    def find_sent(
        self, target: ReplyTarget, idempotency_key: str, *, text: str, known_ids: Collection[str] = ()
    ) -> SentMessage | None:
        """Our recent tweets answering the post (GET /2/users/:id/tweets) or DMs with the recipient, with
        the text `send` would post now, and an id no other outbox message holds (channels/sent.py)."""
        expected = self.compose(target, text, idempotency_key)
        token: str | None = None
        for _ in range(self.find_pages):
            if target.is_dm:
                params: dict[str, Any] = {
                    "participant_id": target.recipient_id,
                    "event_types": "MessageCreate",
                    **self._dm_fields(),
                    "max_results": 100,
                }
                if token:
                    params["pagination_token"] = token
                # the same 15-per-15-minutes DM-lookup budget as the polls, ahead of them (reserve)
                wait = self.budget.due_in("dm_conversation_events", priority=True)
                if wait > 0:
                    raise ChannelError("X DM lookups used up; find_sent waits", retry_after=wait, status=429)
                body = self._call("dm_conversation_events", self.client.get_direct_message_events, **params)
                for event in body.get("data", []):
                    if self._sender_of(event) == self.user_id and is_ours(
                        str(event.get("id")), event.get("text", ""), expected, known_ids
                    ):
                        return SentMessage(
                            external_id=event["id"], raw={"data": event}, text=event.get("text", "")
                        )
            else:
                params = {"max_results": 100, **self._tweet_fields()}
                if token:
                    params["pagination_token"] = token
                body = self._call("user_tweets", self.client.get_users_tweets, self.user_id, **params)
                for tweet in body.get("data", []):
                    replied_to = {
                        r["id"]
                        for r in tweet.get("referenced_tweets", []) or []
                        if r.get("type") == "replied_to"
                    }
                    if target.in_reply_to_id is not None and target.in_reply_to_id not in replied_to:
                        continue
                    if is_ours(str(tweet.get("id")), tweet.get("text", ""), expected, known_ids):
                        return SentMessage(
                            external_id=tweet["id"], raw={"data": tweet}, text=tweet.get("text", "")
                        )
            token = body.get("meta", {}).get("next_token")
            if not token:
                break
        return None
