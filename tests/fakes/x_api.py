"""A fake X API v2 (the endpoints civictracker uses), answering with the documented paths, shapes and headers.

Shapes follow the X API v2 reference: list endpoints answer {"data": [...], "includes": {...},
"meta": {"result_count", "newest_id", "oldest_id", "next_token"}}, objects carry only the default fields
(id, text, edit_history_tweet_ids) plus those asked for in tweet.fields / dm_event.fields, a deleted
tweet looks up as 200 with a resource-not-found error, problems are {"title", "detail", "type",
"status"}, and every answer has x-rate-limit-limit / -remaining / -reset headers.

The platform's rules, each a knob (docs/platforms.md has the sources):
- per-endpoint 15-minute limits from X's table (`ENDPOINT_LIMITS`: mentions 300, DM lookups 15 shared by
  both DM-event endpoints, posts 100, DM creates 15) and 24-hour limits on the POST endpoints with their
  x-user-limit-24hour-* / x-app-limit-24hour-* headers; a 429 for a spent 24-hour window still carries
  the 15-minute x-rate-limit-reset (what tweepy reads). `only_24h_headers` drops the 15-minute headers.
- `reply_rule="self_serve"`: a reply is refused (403) unless the post answered mentions or quotes us, and
  a reply naming anyone but that author is refused; `refuse_replies_until` refuses every reply till then.
- `field_spec="current"`: tweet.fields is an unknown parameter (post.fields replaces it) and
  dm_event.fields no longer allows sender_id / participant_ids: 400 invalid-request naming them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

URL_RE = re.compile(r"https?://\S+")
MENTION_RE = re.compile(r"(?<![\w@])@(\w{1,15})")

# 15-minute limits per user (X API v2 rate-limit table); endpoints sharing a bucket share a count
ENDPOINT_LIMITS = {
    "mentions": 300,
    "dm_reads": 15,
    "user_tweets": 900,
    "tweet_lookup": 900,
    "tweet_create": 100,
    "dm_create": 15,
}
BUCKETS = {"dm_events": "dm_reads", "dm_conversation_events": "dm_reads"}
# 24-hour limits of the POST endpoints: (per user, per app)
DAY_LIMITS = {"tweet_create": (10_000, 10_000), "dm_create": (1_440, 1_440)}
DAY_S = 24 * 3600.0
INVALID = "https://api.twitter.com/2/problems/invalid-request"
REPLY_REFUSED_DETAIL = (
    "Reply to this conversation is not allowed because you have not been mentioned or otherwise engaged "
    "by the author of the post you are replying to."
)
CURRENT_TWEET_PARAMS = "post.fields"
CURRENT_DM_FIELDS = {
    "id",
    "text",
    "event_type",
    "created_at",
    "dm_conversation_id",
    "attachments",
    "entities",
}


def x_length(text: str) -> int:
    """X's weighted length, simplified: URLs 23, code points above U+10FF count 2."""
    total, pos = 0, 0
    for m in URL_RE.finditer(text):
        total += sum(1 if ord(c) <= 4351 else 2 for c in text[pos : m.start()]) + 23
        pos = m.end()
    return total + sum(1 if ord(c) <= 4351 else 2 for c in text[pos:])


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


@dataclass
class _Limit:
    limit: int
    window: float
    remaining: int
    reset: float


@dataclass
class FakeX:
    """State and knobs of the fake; `app` is the WSGI callable."""

    me_id: str = "1000"
    me_username: str = "CambridgeFix"
    clock: Callable[[], float] = time.time
    default_limit: int = 900
    window_s: float = 900.0
    users: dict[str, str] = field(default_factory=dict)  # id -> username
    tweets: dict[str, dict[str, Any]] = field(default_factory=dict)  # full stored objects
    places: dict[str, dict[str, Any]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    dm_events: list[dict[str, Any]] = field(default_factory=list)
    posts: list[dict[str, Any]] = field(default_factory=list)  # every tweet/DM created through the API
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    down_for: int = 0  # the next N requests answer `down_status`
    down_status: int = 503
    lose_post_responses: int = 0  # the next N creates are made, then answered 503 (the answer is "lost")
    # user ids who do not accept our DMs (closed DMs, blocked us): X answers 403 "You cannot send messages
    # to this user", as it does for anyone it does not know
    dm_closed: set[str] = field(default_factory=set)
    limits: dict[str, _Limit] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)  # media_key -> full Media object
    endpoint_limits: dict[str, int] = field(default_factory=lambda: dict(ENDPOINT_LIMITS))
    day_limits: dict[str, tuple[int, int]] = field(default_factory=lambda: dict(DAY_LIMITS))
    only_24h_headers: bool = False
    reply_rule: str = "open"  # "open" (enterprise) | "self_serve" (Feb 2026 reply restrictions)
    refuse_replies_until: float = 0.0
    field_spec: str = "legacy"  # "legacy" (tweet.fields, sender_id) | "current"
    count_429: dict[str, int] = field(default_factory=dict)  # 429s answered per endpoint

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = itertools.count(1_790_000_000_000_000_000, 1_000)
        self.users.setdefault(self.me_id, self.me_username)
        self.url_map = Map(
            [
                Rule("/2/users/me", endpoint="me", methods=["GET"]),
                Rule("/2/users/<uid>/mentions", endpoint="mentions", methods=["GET"]),
                Rule("/2/users/<uid>/tweets", endpoint="user_tweets", methods=["GET"]),
                Rule("/2/tweets/<tid>", endpoint="tweet_lookup", methods=["GET"]),
                Rule("/2/tweets", endpoint="tweet_create", methods=["POST"]),
                Rule("/2/dm_events", endpoint="dm_events", methods=["GET"]),
                Rule(
                    "/2/dm_conversations/with/<pid>/dm_events",
                    endpoint="dm_conversation_events",
                    methods=["GET"],
                ),
                Rule("/2/dm_conversations/with/<pid>/messages", endpoint="dm_create", methods=["POST"]),
            ]
        )

    # -- knobs ----------------------------------------------------------------------------------

    def next_id(self) -> str:
        return str(next(self._ids))

    def add_user(self, username: str) -> str:
        with self._lock:
            for uid, name in self.users.items():
                if name == username:
                    return uid
            uid = str(2000 + len(self.users))
            self.users[uid] = username
            return uid

    def add_tweet(
        self,
        username: str,
        text: str,
        *,
        in_reply_to: str | None = None,
        coordinates: tuple[float, float] | None = None,
        place: dict[str, Any] | None = None,
        lang: str = "en",
        media: list[dict[str, Any]] | None = None,
        quote_of: str | None = None,
    ) -> str:
        """A tweet by `username`; include "@CambridgeFix" in text (or reply to us) to make it a mention.

        `media`: attachments, each {"type": "photo"|"video"|"animated_gif", "alt_text", "width", "height"}.
        """
        with self._lock:
            author = self.add_user(username)
            tid = self._store_tweet(
                author, text, in_reply_to, coordinates=coordinates, place=place, lang=lang
            )
            if media:
                self.tweets[tid]["attachments"] = {"media_keys": [self._add_media(m) for m in media]}
            if quote_of is not None:
                self.tweets[tid].setdefault("referenced_tweets", []).append(
                    {"type": "quoted", "id": quote_of}
                )
            return tid

    def add_dm(self, username: str, text: str, *, media: list[dict[str, Any]] | None = None) -> str:
        with self._lock:
            sender = self.add_user(username)
            eid = self._store_dm(sender, self.me_id, text)
            if media:
                self.dm_events[-1]["attachments"] = {"media_keys": [self._add_media(m) for m in media]}
            return eid

    def _add_media(self, spec: dict[str, Any]) -> str:
        """A Media object as X stores it: `url` for photos, `preview_image_url` for videos and GIFs."""
        kind = spec.get("type", "photo")
        key = f"{ {'photo': 3, 'video': 7, 'animated_gif': 16}.get(kind, 3) }_{self.next_id()}"
        media: dict[str, Any] = {
            "media_key": key,
            "type": kind,
            "width": spec.get("width", 1200),
            "height": spec.get("height", 900),
        }
        if kind == "photo":
            media["url"] = spec.get("url", f"https://pbs.twimg.com/media/F{key[-8:]}.jpg")
        else:
            media["preview_image_url"] = spec.get(
                "preview_image_url", f"https://pbs.twimg.com/ext_tw_video_thumb/{key[-8:]}/pu/img/x.jpg"
            )
        if spec.get("alt_text") is not None:
            media["alt_text"] = spec["alt_text"]  # X leaves the field out when the author wrote none
        self.media[key] = media
        return key

    def delete(self, tweet_id: str) -> None:
        with self._lock:
            self.deleted.add(tweet_id)

    def go_down(self, calls: int, status: int = 503) -> None:
        self.down_for, self.down_status = calls, status

    def exhaust(self, endpoint: str, reset_in: float) -> None:
        """Use up the window of one endpoint (e.g. "tweet_create"); it resets `reset_in` seconds from now."""
        with self._lock:
            lim = self._limit(endpoint)
            lim.remaining, lim.reset = 0, self.clock() + reset_in

    def set_limit(self, endpoint: str, limit: int) -> None:
        with self._lock:
            self.limits[BUCKETS.get(endpoint, endpoint)] = _Limit(
                limit, self.window_s, limit, self.clock() + self.window_s
            )

    def exhaust_day(self, endpoint: str, reset_in: float, *, scope: str = "user") -> None:
        """Use up the 24-hour window of a POST endpoint ("user" or "app"); it resets `reset_in` from now."""
        with self._lock:
            lim = self._day(endpoint, scope)
            if lim is not None:
                lim.remaining, lim.reset = 0, self.clock() + reset_in

    def _day(self, endpoint: str, scope: str) -> _Limit | None:
        if endpoint not in self.day_limits:
            return None
        key = f"{endpoint}:24h:{scope}"
        now = self.clock()
        lim = self.limits.get(key)
        if lim is None:
            limit = self.day_limits[endpoint][0 if scope == "user" else 1]
            lim = self.limits[key] = _Limit(limit, DAY_S, limit, now + DAY_S)
        if now >= lim.reset:
            lim.remaining, lim.reset = lim.limit, now + lim.window
        return lim

    def tweets_by(self, user_id: str) -> list[dict[str, Any]]:
        return [t for t in self.tweets.values() if t["author_id"] == user_id and t["id"] not in self.deleted]

    # -- storage --------------------------------------------------------------------------------

    def _store_tweet(
        self,
        author: str,
        text: str,
        in_reply_to: str | None,
        *,
        coordinates: tuple[float, float] | None = None,
        place: dict[str, Any] | None = None,
        lang: str = "en",
    ) -> str:
        tid = self.next_id()
        tweet: dict[str, Any] = {
            "id": tid,
            "text": text,
            "edit_history_tweet_ids": [tid],
            "author_id": author,
            "created_at": _iso(self.clock()),
            "conversation_id": tid,
            "lang": lang,
        }
        mentions = [
            {"username": m.group(1), "id": uid}
            for m in MENTION_RE.finditer(text)
            for uid, name in self.users.items()
            if name.lower() == m.group(1).lower()
        ]
        if mentions:
            tweet["entities"] = {"mentions": mentions}
        if in_reply_to is not None:
            parent = self.tweets[in_reply_to]
            tweet["conversation_id"] = parent["conversation_id"]
            tweet["in_reply_to_user_id"] = parent["author_id"]
            tweet["referenced_tweets"] = [{"type": "replied_to", "id": in_reply_to}]
        if coordinates is not None or place is not None:
            geo: dict[str, Any] = {}
            if place is not None:
                self.places[place["id"]] = place
                geo["place_id"] = place["id"]
            if coordinates is not None:
                geo["coordinates"] = {"type": "Point", "coordinates": [coordinates[1], coordinates[0]]}
            tweet["geo"] = geo
        self.tweets[tid] = tweet
        return tid

    def _store_dm(self, sender: str, recipient: str, text: str) -> str:
        eid = self.next_id()
        low, high = sorted((sender, recipient), key=int)
        self.dm_events.append(
            {
                "id": eid,
                "event_type": "MessageCreate",
                "text": text,
                "sender_id": sender,
                "dm_conversation_id": f"{low}-{high}",
                "created_at": _iso(self.clock()),
                "participant_ids": [low, high],
            }
        )
        return eid

    def _is_mention(self, tweet: dict[str, Any]) -> bool:
        if tweet["author_id"] == self.me_id or tweet["id"] in self.deleted:
            return False
        return (
            f"@{self.me_username.lower()}" in tweet["text"].lower()
            or tweet.get("in_reply_to_user_id") == self.me_id
        )

    # -- HTTP -----------------------------------------------------------------------------------

    def _limit(self, endpoint: str) -> _Limit:
        now = self.clock()
        endpoint = BUCKETS.get(endpoint, endpoint) if endpoint not in self.limits else endpoint
        lim = self.limits.get(endpoint)
        if lim is None:
            limit = self.endpoint_limits.get(endpoint, self.default_limit)
            lim = self.limits[endpoint] = _Limit(limit, self.window_s, limit, now + self.window_s)
        if now >= lim.reset:
            lim.remaining, lim.reset = lim.limit, now + lim.window
        return lim

    @staticmethod
    def _problem(status: int, title: str, detail: str, type_: str = "about:blank") -> Response:
        body = {"title": title, "detail": detail, "type": type_, "status": status}
        return Response(json.dumps(body), status=status, content_type="application/problem+json")

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(environ, start_response)

    def app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        with self._lock:
            response = self._dispatch(request)
        return response(environ, start_response)

    def _dispatch(self, request: Request) -> Response:
        self.requests.append((request.method, request.path, dict(request.args)))
        if self.down_for > 0:
            self.down_for -= 1
            return self._problem(self.down_status, "Service Unavailable", "Service Unavailable")
        auth = request.headers.get("Authorization", "")
        if not (auth.startswith("Bearer ") or auth.startswith("OAuth ")):
            return self._problem(401, "Unauthorized", "Unauthorized")
        try:
            endpoint, args = self.url_map.bind_to_environ(request.environ).match()
        except NotFound:
            return self._problem(404, "Not Found Error", "Route not found")
        except HTTPException as exc:
            return self._problem(exc.code or 400, "Invalid Request", str(exc))
        lim = self._limit(endpoint)
        scoped = [(scope, self._day(endpoint, scope)) for scope in ("user", "app")]
        days = [d for _, d in scoped if d is not None]
        refused = self._refused_fields(request)
        if lim.remaining <= 0 or any(d.remaining <= 0 for d in days):
            self.count_429[endpoint] = self.count_429.get(endpoint, 0) + 1
            response = self._problem(429, "Too Many Requests", "Too Many Requests")
        else:
            lim.remaining -= 1
            for day in days:
                day.remaining -= 1
            response = refused or getattr(self, f"_ep_{endpoint}")(request, **args)
        headers = {}
        if not self.only_24h_headers:
            headers = {
                "x-rate-limit-limit": str(lim.limit),
                "x-rate-limit-remaining": str(max(0, lim.remaining)),
                "x-rate-limit-reset": str(int(lim.reset)),
            }
        for scope, day in scoped:
            if day is None:
                continue
            headers[f"x-{scope}-limit-24hour-limit"] = str(day.limit)
            headers[f"x-{scope}-limit-24hour-remaining"] = str(max(0, day.remaining))
            headers[f"x-{scope}-limit-24hour-reset"] = str(int(day.reset))
        response.headers.update(headers)
        return response

    def _refused_fields(self, request: Request) -> Response | None:
        """The current spec's 400 for a parameter or field value it no longer has."""
        if self.field_spec != "current":
            return None
        errors = []
        if "tweet.fields" in request.args:
            errors.append(
                {
                    "parameters": {"tweet.fields": [request.args["tweet.fields"]]},
                    "message": "The query parameter [tweet.fields] is not one of [id,max_results,"
                    "pagination_token,since_id,until_id,expansions,post.fields,user.fields,place.fields]",
                }
            )
        asked = set(filter(None, request.args.get("dm_event.fields", "").split(",")))
        bad = sorted(asked - CURRENT_DM_FIELDS)
        if bad:
            errors.append(
                {
                    "parameters": {"dm_event.fields": bad},
                    "message": f"The `dm_event.fields` query parameter value [{bad[0]}] is not one of "
                    f"[{','.join(sorted(CURRENT_DM_FIELDS))}]",
                }
            )
        if not errors:
            return None
        body = {
            "errors": errors,
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": INVALID,
        }
        return Response(json.dumps(body), status=400, content_type="application/json")

    # field selection as documented: defaults plus requested fields
    def _shape_tweet(self, tweet: dict[str, Any], request: Request) -> dict[str, Any]:
        asked = request.args.get(CURRENT_TWEET_PARAMS if self.field_spec == "current" else "tweet.fields", "")
        wanted = set(filter(None, asked.split(",")))
        if "author_id" in request.args.get("expansions", "").split(","):
            wanted.add("author_id")
        if "attachments.media_keys" in request.args.get("expansions", "").split(","):
            wanted.add("attachments")  # an expansion brings the id field it expands
        out = {k: tweet[k] for k in ("id", "text", "edit_history_tweet_ids")}
        for key in wanted:
            if key in tweet:
                out[key] = tweet[key]
        return out

    def _includes_for(self, tweets: list[dict[str, Any]], request: Request) -> dict[str, Any]:
        expansions = set(request.args.get("expansions", "").split(","))
        includes: dict[str, Any] = {}
        if "author_id" in expansions:
            ids = list(dict.fromkeys(t["author_id"] for t in tweets))
            includes["users"] = [self._user(uid) for uid in ids]
        if "referenced_tweets.id.author_id" in expansions or "referenced_tweets.id" in expansions:
            ref_ids = [
                r["id"] for t in tweets for r in t.get("referenced_tweets", []) if r["id"] in self.tweets
            ]
            if ref_ids:
                includes["tweets"] = [
                    {k: self.tweets[i][k] for k in ("id", "text", "author_id")}
                    for i in dict.fromkeys(ref_ids)
                ]
        if "geo.place_id" in expansions:
            places = [self.places[t["geo"]["place_id"]] for t in tweets if t.get("geo", {}).get("place_id")]
            if places:
                includes["places"] = places
        media = self._media_for(tweets, request)
        if media:
            includes["media"] = media
        return includes

    def _media_for(self, items: list[dict[str, Any]], request: Request) -> list[dict[str, Any]]:
        """includes.media for `attachments.media_keys`: media_key and type, plus the media.fields asked."""
        if "attachments.media_keys" not in request.args.get("expansions", "").split(","):
            return []
        fields = set(request.args.get("media.fields", "").split(",")) | {"media_key", "type"}
        keys = [k for i in items for k in (i.get("attachments") or {}).get("media_keys", [])]
        return [
            {k: v for k, v in self.media[key].items() if k in fields}
            for key in dict.fromkeys(keys)
            if key in self.media
        ]

    def _user(self, uid: str) -> dict[str, Any]:
        name = self.users[uid]
        return {"id": uid, "name": name.title(), "username": name}

    def _page(
        self, items: list[dict[str, Any]], request: Request, *, min_results: int = 5
    ) -> tuple[list[dict[str, Any]], dict[str, Any]] | Response:
        """Newest first; since_id / until_id; max_results; pagination_token (opaque to clients)."""
        try:
            max_results = int(request.args.get("max_results", 10))
        except ValueError:
            max_results = -1
        if not min_results <= max_results <= 100:
            return self._problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "https://api.twitter.com/2/problems/invalid-request",
            )
        items = sorted(items, key=lambda i: int(i["id"]), reverse=True)
        if "since_id" in request.args:
            items = [i for i in items if int(i["id"]) > int(request.args["since_id"])]
        if "until_id" in request.args:
            items = [i for i in items if int(i["id"]) < int(request.args["until_id"])]
        token = request.args.get("pagination_token")
        if token:
            below = int(token.removeprefix("p"))
            items = [i for i in items if int(i["id"]) < below]
        page = items[:max_results]
        meta: dict[str, Any] = {"result_count": len(page)}
        if page:
            meta["newest_id"] = page[0]["id"]
            meta["oldest_id"] = page[-1]["id"]
            if len(items) > max_results:
                meta["next_token"] = f"p{page[-1]['id']}"
        return page, meta

    def _list_response(self, items: list[dict[str, Any]], request: Request) -> Response:
        paged = self._page(items, request)
        if isinstance(paged, Response):
            return paged
        page, meta = paged
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [self._shape_tweet(t, request) for t in page]
            includes = self._includes_for(page, request)
            if includes:
                body["includes"] = includes
        return Response(json.dumps(body), status=200, content_type="application/json")

    def _ep_me(self, request: Request) -> Response:
        return Response(json.dumps({"data": self._user(self.me_id)}), content_type="application/json")

    def _ep_mentions(self, request: Request, uid: str) -> Response:
        return self._list_response(
            [t for t in self.tweets.values() if uid == self.me_id and self._is_mention(t)], request
        )

    def _ep_user_tweets(self, request: Request, uid: str) -> Response:
        return self._list_response(self.tweets_by(uid), request)

    def _ep_tweet_lookup(self, request: Request, tid: str) -> Response:
        tweet = self.tweets.get(tid)
        if tweet is None or tid in self.deleted:
            body = {
                "errors": [
                    {
                        "value": tid,
                        "detail": f"Could not find tweet with id: [{tid}].",
                        "title": "Not Found Error",
                        "resource_type": "tweet",
                        "parameter": "id",
                        "resource_id": tid,
                        "type": "https://api.twitter.com/2/problems/resource-not-found",
                    }
                ]
            }
            return Response(json.dumps(body), status=200, content_type="application/json")
        body: dict[str, Any] = {"data": self._shape_tweet(tweet, request)}
        includes = self._includes_for([tweet], request)
        if includes:
            body["includes"] = includes
        return Response(json.dumps(body), content_type="application/json")

    def _ep_tweet_create(self, request: Request) -> Response:
        payload = request.get_json(silent=True) or {}
        text = payload.get("text")
        if not text:
            return self._problem(
                400,
                "Invalid Request",
                "One or more parameters to your request was invalid.",
                "https://api.twitter.com/2/problems/invalid-request",
            )
        if x_length(text) > 280:
            return self._problem(
                403,
                "Forbidden",
                "Your Tweet text is too long. For more information on how X counts characters, see https://help.x.com/en/using-x/how-to-tweet#character-limit.",
            )
        reply_to = (payload.get("reply") or {}).get("in_reply_to_tweet_id")
        if reply_to is not None and (reply_to not in self.tweets or reply_to in self.deleted):
            return self._problem(
                403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you."
            )
        refusal = self._reply_refusal(reply_to, text)
        if refusal:
            return self._problem(403, "Forbidden", refusal)
        if any(t["text"] == text for t in self.tweets_by(self.me_id)):
            return self._problem(
                403, "Forbidden", "You are not allowed to create a Tweet with duplicate content."
            )
        tid = self._store_tweet(self.me_id, text, reply_to)
        self.posts.append({"kind": "tweet", "id": tid, "text": text, "in_reply_to": reply_to})
        if self.lose_post_responses > 0:
            self.lose_post_responses -= 1
            return self._problem(503, "Service Unavailable", "Service Unavailable")
        body = {"data": {"id": tid, "text": text, "edit_history_tweet_ids": [tid]}}
        return Response(json.dumps(body), status=201, content_type="application/json")

    def _reply_refusal(self, reply_to: str | None, text: str) -> str | None:
        """Why X refuses this reply under the configured rule, or None."""
        if reply_to is None:
            return None
        if self.clock() < self.refuse_replies_until:
            return REPLY_REFUSED_DETAIL
        if self.reply_rule != "self_serve":
            return None
        parent = self.tweets[reply_to]
        if parent["author_id"] == self.me_id:
            return None  # our own thread
        mentioned = any(m["id"] == self.me_id for m in parent.get("entities", {}).get("mentions", []))
        quoted = any(
            r["type"] == "quoted" and self.tweets.get(r["id"], {}).get("author_id") == self.me_id
            for r in parent.get("referenced_tweets", [])
        )
        if not (mentioned or quoted):
            return REPLY_REFUSED_DETAIL
        author = self.users[parent["author_id"]].lower()
        others = {m.group(1).lower() for m in MENTION_RE.finditer(text)} - {author}
        if others:
            return "You are not allowed to mention these users in a reply: " + ", ".join(sorted(others))
        return None

    def _dm_list(self, events: list[dict[str, Any]], request: Request) -> Response:
        if "event_types" in request.args:
            types = set(request.args["event_types"].split(","))
            events = [e for e in events if e["event_type"] in types]
        paged = self._page(events, request, min_results=1)
        if isinstance(paged, Response):
            return paged
        page, meta = paged
        fields = set(request.args.get("dm_event.fields", "").split(",")) | {"id", "event_type", "text"}
        body: dict[str, Any] = {"meta": meta}
        if page:
            body["data"] = [{k: v for k, v in e.items() if k in fields} for e in page]
            if "sender_id" in request.args.get("expansions", "").split(","):
                body["includes"] = {
                    "users": [self._user(u) for u in dict.fromkeys(e["sender_id"] for e in page)]
                }
            media = self._media_for(page, request)
            if media:
                body.setdefault("includes", {})["media"] = media
        return Response(json.dumps(body), content_type="application/json")

    def _ep_dm_events(self, request: Request) -> Response:
        return self._dm_list(self.dm_events, request)

    def _ep_dm_conversation_events(self, request: Request, pid: str) -> Response:
        low, high = sorted((pid, self.me_id), key=int)
        conv = f"{low}-{high}"
        return self._dm_list([e for e in self.dm_events if e["dm_conversation_id"] == conv], request)

    def _ep_dm_create(self, request: Request, pid: str) -> Response:
        payload = request.get_json(silent=True) or {}
        text = payload.get("text")
        if not text:
            return self._problem(
                400, "Invalid Request", "One or more parameters to your request was invalid."
            )
        if pid not in self.users or pid in self.dm_closed:
            return self._problem(403, "Forbidden", "You cannot send messages to this user.")
        eid = self._store_dm(self.me_id, pid, text)
        self.posts.append({"kind": "dm", "id": eid, "text": text, "to": pid})
        if self.lose_post_responses > 0:
            self.lose_post_responses -= 1
            return self._problem(503, "Service Unavailable", "Service Unavailable")
        conv = self.dm_events[-1]["dm_conversation_id"]
        body = {"data": {"dm_conversation_id": conv, "dm_event_id": eid}}
        return Response(json.dumps(body), status=201, content_type="application/json")
