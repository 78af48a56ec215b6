"""A fake Mastodon server (the REST endpoints civictracker uses), shaped like the Mastodon API documentation.

Entities (Account, Status, Notification) carry the documented attributes; lists are newest first with
since_id / min_id / max_id / limit and a Link header; errors are {"error": "..."} with the documented
status codes (404 Record not found, 422 validation, 429 Too many requests); every answer has
X-RateLimit-Limit / -Remaining / -Reset (ISO 8601). POST /api/v1/statuses honours Idempotency-Key.

Filtered notifications as in Mastodon 4.3+ (docs.joinmastodon.org/methods/notifications, /entities/
NotificationPolicy): with the default policy (`for_private_mentions: filter`) a private mention from an
account we do not follow is marked filtered, left out of GET /api/v1/notifications unless
`include_filtered=true`, and listed under GET /api/v1/notifications/requests until accepted. A status
whose author blocks us answers 404 like a deleted one; GET /api/v1/accounts/relationships says blocked_by.
"""

from __future__ import annotations

import datetime as dt
import html
import itertools
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

DOMAIN = "fake.social"
URL_RE = re.compile(r"https?://\S+")
MENTION_RE = re.compile(r"(?<![\w/])@([A-Za-z0-9_]+)(?:@([A-Za-z0-9.-]+\.[A-Za-z]+))?")


def _iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def mastodon_length(text: str) -> int:
    """Mastodon's count: URLs 23, a remote mention only by its @username part."""
    text = URL_RE.sub("x" * 23, text)
    text = MENTION_RE.sub(lambda m: "@" + m.group(1), text)
    return len(text)


@dataclass
class FakeMastodon:
    """State and knobs of the fake Mastodon; `app` is the WSGI callable."""

    me_username: str = "cambridgefix"
    clock: Callable[[], float] = time.time
    rate_limit: int = 300
    window_s: float = 300.0
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)  # id -> Account
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: list[dict[str, Any]] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)
    posts: list[dict[str, Any]] = field(default_factory=list)  # every status created through the API
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    down_for: int = 0
    down_status: int = 503
    lose_post_responses: int = 0
    remaining: int = 300
    reset_at: float = 0.0
    idempotency: dict[str, str] = field(default_factory=dict)
    # Mastodon 4.3's notification policy: "accept" | "filter" | "drop" for private mentions from accounts
    # we do not follow. `include_filtered_supported=False` is a server older than 4.3 that ignores it.
    policy_private_mentions: str = "filter"
    include_filtered_supported: bool = True
    types_filter_supported: bool = True  # False: a server (or fork) that answers every type regardless
    following: set[str] = field(default_factory=set)  # account ids we follow
    blocked_by: set[str] = field(default_factory=set)  # account ids that block us: their statuses 404
    gone_accounts: set[str] = field(default_factory=set)  # deleted/suspended accounts: 404 on lookup
    count_429: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._ids = itertools.count(110_000_000_000_000_000, 1_000)
        self.me_id = self.add_account(self.me_username)
        self.reset_at = self.clock() + self.window_s
        self.url_map = Map(
            [
                Rule("/api/v1/accounts/verify_credentials", endpoint="verify", methods=["GET"]),
                Rule("/api/v1/accounts/<aid>/statuses", endpoint="account_statuses", methods=["GET"]),
                Rule("/api/v1/notifications", endpoint="notifications", methods=["GET"]),
                Rule("/api/v1/notifications/requests", endpoint="requests", methods=["GET"]),
                Rule(
                    "/api/v1/notifications/requests/<rid>/accept", endpoint="request_accept", methods=["POST"]
                ),
                Rule("/api/v2/notifications/policy", endpoint="policy", methods=["GET", "PATCH"]),
                Rule("/api/v1/accounts/relationships", endpoint="relationships", methods=["GET"]),
                Rule("/api/v1/accounts/<aid>", endpoint="account_get", methods=["GET"]),
                Rule("/api/v1/statuses", endpoint="status_create", methods=["POST"]),
                Rule("/api/v1/statuses/<sid>", endpoint="status_get", methods=["GET"]),
            ]
        )

    # -- knobs ----------------------------------------------------------------------------------

    def add_account(self, acct: str) -> str:
        """An account by acct ("ana" local, "ana@other.example" remote); returns its id."""
        with self._lock:
            for aid, account in self.accounts.items():
                if account["acct"] == acct:
                    return aid
            aid = str(len(self.accounts) + 1)
            username, _, domain = acct.partition("@")
            url = f"https://{domain or DOMAIN}/@{username}"
            self.accounts[aid] = {
                "id": aid,
                "username": username,
                "acct": acct,
                "display_name": username.title(),
                "locked": False,
                "bot": False,
                "discoverable": True,
                "group": False,
                "created_at": "2023-01-01T00:00:00.000Z",
                "note": "",
                "url": url,
                "uri": url,
                "avatar": f"https://{DOMAIN}/avatars/original/missing.png",
                "avatar_static": f"https://{DOMAIN}/avatars/original/missing.png",
                "header": f"https://{DOMAIN}/headers/original/missing.png",
                "header_static": f"https://{DOMAIN}/headers/original/missing.png",
                "followers_count": 0,
                "following_count": 0,
                "statuses_count": 0,
                "last_status_at": None,
                "emojis": [],
                "fields": [],
            }
            return aid

    def add_status(
        self,
        acct: str,
        text: str,
        *,
        visibility: str = "public",
        in_reply_to: str | None = None,
        language: str = "en",
        media: list[dict[str, Any]] | None = None,
    ) -> str:
        """A status by `acct`; mentioning @cambridgefix (or replying to us) notifies our account.

        `media`: attachments, each {"type": "image"|"gifv"|"video"|"audio"|"unknown", "description": alt
        text or None, "width", "height"}; stored as Mastodon's MediaAttachment entity (urls filled in).
        """
        with self._lock:
            sid = self._store_status(self.add_account(acct), text, visibility, in_reply_to, language)
            # the notification holds the same dict, so it sees the attachments too
            self.statuses[sid]["media_attachments"] = [self._attachment(m) for m in media or []]
            return sid

    def _attachment(self, spec: dict[str, Any]) -> dict[str, Any]:
        """A MediaAttachment as GET /api/v1/statuses/:id shows it (docs.joinmastodon.org/entities/MediaAttachment)."""
        mid = str(next(self._ids))
        kind = spec.get("type", "image")
        ext = {"image": "jpg", "gifv": "mp4", "video": "mp4", "audio": "mp3"}.get(kind, "bin")
        base = f"https://{DOMAIN}/system/media_attachments/files/{mid}"
        width, height = spec.get("width", 1200), spec.get("height", 900)
        size = {"width": width, "height": height, "size": f"{width}x{height}", "aspect": width / height}
        small = {"width": 400, "height": round(400 * height / width), "size": "", "aspect": width / height}
        small["size"] = f"400x{small['height']}"
        return {
            "id": mid,
            "type": kind,
            "url": spec.get("url", f"{base}/original/{mid}.{ext}"),
            "preview_url": spec.get("preview_url", f"{base}/small/{mid}.jpg"),
            "remote_url": None,
            "preview_remote_url": None,
            "text_url": None,
            "meta": {"original": size, "small": small},
            "description": spec.get("description"),
            "blurhash": "UFBWY:8_0Jxu~q%Mt7of4nt7%MofRjayt7of",
        }

    def delete(self, status_id: str) -> None:
        with self._lock:
            self.deleted.add(status_id)

    def go_down(self, calls: int, status: int = 503) -> None:
        self.down_for, self.down_status = calls, status

    def add_notification(self, type_: str, acct: str, status_id: str | None = None) -> str:
        """A notification of any type (e.g. one a newer server invents), optionally about a status."""
        with self._lock:
            nid = str(next(self._ids))
            self.notifications.append(
                {
                    "id": nid,
                    "type": type_,
                    "group_key": f"ungrouped-{nid}",
                    "created_at": _iso(self.clock()),
                    "account": self.accounts[self.add_account(acct)],
                    "status": self.statuses.get(status_id) if status_id else None,
                }
            )
            return nid

    def exhaust(self, reset_in: float) -> None:
        with self._lock:
            self.remaining, self.reset_at = 0, self.clock() + reset_in

    def statuses_by(self, account_id: str) -> list[dict[str, Any]]:
        return [
            s
            for s in self.statuses.values()
            if s["account"]["id"] == account_id and s["id"] not in self.deleted
        ]

    # -- storage --------------------------------------------------------------------------------

    def _render(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """Status HTML as Mastodon renders it (mention h-cards, links with invisible spans) and its mentions."""
        mentions: list[dict[str, Any]] = []
        out: list[str] = []
        pos = 0
        tokens = sorted(
            [(m.start(), m.end(), "mention", m) for m in MENTION_RE.finditer(text)]
            + [(m.start(), m.end(), "url", m) for m in URL_RE.finditer(text)],
            key=lambda t: t[0],
        )
        for start, end, kind, m in tokens:
            if start < pos:
                continue
            out.append(html.escape(text[pos:start]).replace("\n", "<br />"))
            if kind == "mention":
                acct = m.group(1) if not m.group(2) or m.group(2) == DOMAIN else f"{m.group(1)}@{m.group(2)}"
                aid = self.add_account(acct)
                account = self.accounts[aid]
                mentions.append(
                    {"id": aid, "username": account["username"], "url": account["url"], "acct": acct}
                )
                out.append(
                    f'<span class="h-card" translate="no"><a href="{account["url"]}" class="u-url mention">'
                    f"@<span>{html.escape(account['username'])}</span></a></span>"
                )
            else:
                url = m.group(0)
                scheme, _, rest = url.partition("://")
                shown, hidden = rest[:30], rest[30:]
                out.append(
                    f'<a href="{html.escape(url)}" target="_blank" rel="nofollow noopener noreferrer" translate="no">'
                    f'<span class="invisible">{scheme}://</span><span class="{"ellipsis" if hidden else ""}">'
                    f'{html.escape(shown)}</span><span class="invisible">{html.escape(hidden)}</span></a>'
                )
            pos = end
        out.append(html.escape(text[pos:]).replace("\n", "<br />"))
        return "<p>" + "".join(out) + "</p>", mentions

    def _store_status(
        self, author: str, text: str, visibility: str, in_reply_to: str | None, language: str | None
    ) -> str:
        sid = str(next(self._ids))
        content, mentions = self._render(text)
        parent = self.statuses.get(in_reply_to) if in_reply_to else None
        status = {
            "id": sid,
            "uri": f"https://{DOMAIN}/users/{self.accounts[author]['username']}/statuses/{sid}",
            "url": f"https://{DOMAIN}/@{self.accounts[author]['username']}/{sid}",
            "created_at": _iso(self.clock()),
            "edited_at": None,
            "account": self.accounts[author],
            "content": content,
            "visibility": visibility,
            "sensitive": False,
            "spoiler_text": "",
            "media_attachments": [],
            "application": None,
            "mentions": mentions,
            "tags": [],
            "emojis": [],
            "reblogs_count": 0,
            "favourites_count": 0,
            "replies_count": 0,
            "in_reply_to_id": in_reply_to,
            "in_reply_to_account_id": parent["account"]["id"] if parent else None,
            "reblog": None,
            "poll": None,
            "card": None,
            "language": language,
            "text": None,
            "favourited": False,
            "reblogged": False,
            "muted": False,
            "bookmarked": False,
            "pinned": False,
            "filtered": [],
        }
        self.statuses[sid] = status
        self.accounts[author]["statuses_count"] += 1
        if author != self.me_id and any(m["id"] == self.me_id for m in mentions):
            filtered = self._filtered(author, visibility, parent)
            if filtered is None:
                return sid  # "drop": no notification at all
            nid = str(next(self._ids))
            self.notifications.append(
                {
                    "id": nid,
                    "type": "mention",
                    "group_key": f"ungrouped-{nid}",
                    "created_at": status["created_at"],
                    "account": self.accounts[author],
                    "status": status,
                    "filtered": filtered,
                }
            )
        return sid

    def _filtered(self, author: str, visibility: str, parent: dict[str, Any] | None) -> bool | None:
        """Whether the notification is filtered (None: dropped), as Mastodon's policy decides for private
        mentions: not filtered when we follow the author or it answers a mention of theirs by us."""
        if visibility != "direct" or author in self.following:
            return False
        if parent is not None and parent["account"]["id"] == self.me_id:
            return False  # a reply to our own private mention of them is solicited
        return {"accept": False, "filter": True}.get(self.policy_private_mentions)

    # -- HTTP -----------------------------------------------------------------------------------

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return self.app(environ, start_response)

    def app(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        with self._lock:
            response = self._dispatch(request)
        return response(environ, start_response)

    @staticmethod
    def _error(status: int, message: str) -> Response:
        return Response(json.dumps({"error": message}), status=status, content_type="application/json")

    def _dispatch(self, request: Request) -> Response:
        self.requests.append((request.method, request.path, request.args.to_dict(flat=False)))
        if self.down_for > 0:
            self.down_for -= 1
            return Response(
                "<html><body>503 Service Unavailable</body></html>",
                status=self.down_status,
                content_type="text/html",
            )
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return self._error(401, "The access token is invalid")
        try:
            endpoint, args = self.url_map.bind_to_environ(request.environ).match()
        except NotFound:
            return self._error(404, "Record not found")
        now = self.clock()
        if now >= self.reset_at:
            self.remaining, self.reset_at = self.rate_limit, now + self.window_s
        if self.remaining <= 0:
            self.count_429 += 1
            response = self._error(429, "Too many requests")
        else:
            self.remaining -= 1
            response = getattr(self, f"_ep_{endpoint}")(request, **args)
        response.headers["X-RateLimit-Limit"] = str(self.rate_limit)
        response.headers["X-RateLimit-Remaining"] = str(max(0, self.remaining))
        response.headers["X-RateLimit-Reset"] = _iso(self.reset_at)
        return response

    def _json(self, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
        return Response(
            json.dumps(body), status=status, content_type="application/json", headers=headers or {}
        )

    def _paged(self, items: list[dict[str, Any]], request: Request) -> Response:
        """Newest first. since_id: newest page above it; min_id: the page right above it; max_id: below it."""
        try:
            limit = min(int(request.args.get("limit", 20)), 80)
        except ValueError:
            return self._error(422, "Validation failed: limit is not a number")
        items = sorted(items, key=lambda i: int(i["id"]), reverse=True)
        if "max_id" in request.args:
            items = [i for i in items if int(i["id"]) < int(request.args["max_id"])]
        if "since_id" in request.args:
            items = [i for i in items if int(i["id"]) > int(request.args["since_id"])]
        if "min_id" in request.args:
            items = [i for i in items if int(i["id"]) > int(request.args["min_id"])]
            page = items[-limit:] if limit else []
        else:
            page = items[:limit]
        headers = {}
        if page:
            base = request.base_url
            args = {
                k: v for k, v in request.args.items(multi=True) if k not in ("max_id", "min_id", "since_id")
            }
            nxt = f"{base}?{urlencode({**args, 'max_id': page[-1]['id']})}"
            prev = f"{base}?{urlencode({**args, 'min_id': page[0]['id']})}"
            headers["Link"] = f'<{nxt}>; rel="next", <{prev}>; rel="prev"'
        return self._json(page, headers=headers)

    def _ep_verify(self, request: Request) -> Response:
        account = dict(self.accounts[self.me_id])
        account["source"] = {
            "privacy": "public",
            "sensitive": False,
            "language": "en",
            "note": "",
            "fields": [],
        }
        return self._json(account)

    def _ep_account_statuses(self, request: Request, aid: str) -> Response:
        if aid not in self.accounts:
            return self._error(404, "Record not found")
        mine = self.statuses_by(aid)
        if aid != self.me_id:
            mine = [s for s in mine if s["visibility"] in ("public", "unlisted")]
        return self._paged(mine, request)

    def _ep_notifications(self, request: Request) -> Response:
        types = request.args.getlist("types[]") if self.types_filter_supported else []
        excluded = request.args.getlist("exclude_types[]")
        with_filtered = (
            self.include_filtered_supported and request.args.get("include_filtered", "").lower() == "true"
        )
        notes = [
            n
            for n in self.notifications
            if (not types or n["type"] in types)
            and n["type"] not in excluded
            and (n["status"] is None or n["status"]["id"] not in self.deleted)
            and (with_filtered or not n.get("filtered"))
        ]
        return self._paged([{k: v for k, v in n.items() if k != "filtered"} for n in notes], request)

    def _ep_requests(self, request: Request) -> Response:
        """One NotificationRequest per account with filtered notifications (its id: the account's)."""
        by_account: dict[str, list[dict[str, Any]]] = {}
        for n in self.notifications:
            if n.get("filtered"):
                by_account.setdefault(n["account"]["id"], []).append(n)
        items = [
            {
                "id": aid,
                "created_at": notes[0]["created_at"],
                "updated_at": notes[-1]["created_at"],
                "account": self.accounts[aid],
                "notifications_count": str(len(notes)),
                "last_status": notes[-1]["status"],
            }
            for aid, notes in by_account.items()
        ]
        return self._paged(items, request)

    def _ep_request_accept(self, request: Request, rid: str) -> Response:
        for n in self.notifications:
            if n.get("filtered") and n["account"]["id"] == rid:
                n["filtered"] = False
        return self._json({})

    def _ep_policy(self, request: Request) -> Response:
        if request.method == "PATCH":
            form = request.form if request.form else (request.get_json(silent=True) or {})
            if "for_private_mentions" in form:
                self.policy_private_mentions = form["for_private_mentions"]
        pending = [n for n in self.notifications if n.get("filtered")]
        return self._json(
            {
                "for_not_following": "accept",
                "for_not_followers": "accept",
                "for_new_accounts": "accept",
                "for_private_mentions": self.policy_private_mentions,
                "for_limited_accounts": "filter",
                "summary": {
                    "pending_requests_count": len({n["account"]["id"] for n in pending}),
                    "pending_notifications_count": len(pending),
                },
            }
        )

    def _ep_account_get(self, request: Request, aid: str) -> Response:
        if aid not in self.accounts or aid in self.gone_accounts:
            return self._error(404, "Record not found")
        return self._json(self.accounts[aid])

    def _ep_relationships(self, request: Request) -> Response:
        ids = request.args.getlist("id[]") or request.args.getlist("id")
        return self._json(
            [
                {
                    "id": aid,
                    "following": aid in self.following,
                    "followed_by": False,
                    "blocking": False,
                    "blocked_by": aid in self.blocked_by,
                    "muting": False,
                    "requested": False,
                }
                for aid in ids
                if aid in self.accounts
            ]
        )

    def _ep_status_get(self, request: Request, sid: str) -> Response:
        hidden = sid in self.statuses and self.statuses[sid]["account"]["id"] in self.blocked_by
        if sid not in self.statuses or sid in self.deleted or hidden:
            return self._error(404, "Record not found")
        return self._json(self.statuses[sid])

    def _ep_status_create(self, request: Request) -> Response:
        form = request.form if request.form else (request.get_json(silent=True) or {})
        key = request.headers.get("Idempotency-Key")
        if key and key in self.idempotency:
            # Mastodon answers a repeated key with the status the first request created
            return self._json(self.statuses[self.idempotency[key]])
        text = form.get("status", "")
        if not text.strip():
            return self._error(422, "Validation failed: Text can't be blank")
        if mastodon_length(text) > 500:
            return self._error(422, "Validation failed: Text character limit of 500 exceeded")
        visibility = form.get("visibility", "public")
        if visibility not in ("public", "unlisted", "private", "direct"):
            return self._error(422, "Validation failed: Visibility is not included in the list")
        in_reply_to = form.get("in_reply_to_id") or None
        if in_reply_to is not None and (in_reply_to not in self.statuses or in_reply_to in self.deleted):
            return self._error(404, "Record not found")
        sid = self._store_status(self.me_id, text, visibility, in_reply_to, form.get("language"))
        if key:
            self.idempotency[key] = sid
        self.posts.append({"id": sid, "text": text, "in_reply_to": in_reply_to, "visibility": visibility})
        if self.lose_post_responses > 0:
            self.lose_post_responses -= 1
            return Response(
                "<html><body>503 Service Unavailable</body></html>", status=503, content_type="text/html"
            )
        return self._json(self.statuses[sid])
