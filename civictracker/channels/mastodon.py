"""Mastodon channel through Mastodon.py: mentions since a cursor, replies with the same visibility."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
from collections.abc import Callable, Collection
from html.parser import HTMLParser
from typing import Any

from mastodon import (
    Mastodon,
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
)

from civictracker.channels import media as attachments
from civictracker.channels.base import (
    ChannelError,
    FetchResult,
    IncomingPost,
    ReplyTarget,
    SentMessage,
)
from civictracker.channels.bounds import remember, time_or_now
from civictracker.channels.sent import is_ours
from civictracker.postlength import MASTODON_MAX_LENGTH, MASTODON_URL_WEIGHT, fit_text

log = logging.getLogger(__name__)

PAGE_SIZE = 40  # Mastodon's default and the largest page most servers allow for notifications
NOTIFICATIONS_PATH = "/api/v1/notifications"
# Since Mastodon 4.3 a private mention from an account the city does not follow is "filtered" (the default
# notification policy) and left out of the notifications list unless include_filtered=true is asked for;
# Mastodon.py's notifications() cannot pass it. Older servers ignore the parameter (they never filter).
INCLUDE_FILTERED = "true"


class _TextExtractor(HTMLParser):
    """Collects the text of a status' HTML; <br> and paragraph ends become line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "p":
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        # Mastodon splits long links into "invisible" and "ellipsis" spans; keeping every piece of
        # text rebuilds the full URL, which is what a geocoder or a human wants.
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Plain text of Mastodon status HTML (html.parser, not a regex, so entities and nesting are right)."""
    parser = _TextExtractor()
    parser.feed(html or "")
    parser.close()
    text = "".join(parser.parts)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _to_json(entity: Any) -> Any:
    """Mastodon.py entities back to plain JSON (datetimes as ISO strings) for verbatim storage."""
    to_json = getattr(entity, "to_json", None)
    if callable(to_json):
        return json.loads(to_json(pretty=False))["_mastopy_data"]
    return json.loads(json.dumps(entity, default=str))


def _aware(value: Any) -> dt.datetime:
    return time_or_now(value)  # an odd date must not fail the poll (channels/bounds.py)


class MastodonChannel:
    """One Mastodon account: reads mentions (a "direct" one is a DM), answers alike in the thread.

    Mastodon.py is set to ratelimit_method="throw": it would otherwise sleep inside a worker until the
    reset; we raise ChannelError(retry_after=...) and the outbox or poller schedules the wait.
    """

    name = "mastodon"
    max_length = MASTODON_MAX_LENGTH
    url_weight: int | None = MASTODON_URL_WEIGHT

    def __init__(
        self,
        *,
        api_base_url: str,
        access_token: str,
        account_id: str | None = None,
        request_timeout: float = 10.0,
        max_pages: int = 20,
        find_pages: int = 2,
        clock: Callable[[], float] = time.time,
        fix_dropped_dms: bool = False,
    ) -> None:
        self.api = Mastodon(
            api_base_url=api_base_url,
            access_token=access_token,
            ratelimit_method="throw",
            version_check_mode="none",  # no instance round-trip at construction; we use stable endpoints
            request_timeout=request_timeout,
        )
        self._account_id = account_id
        self.max_pages = max_pages
        self.find_pages = find_pages
        self._clock = clock
        # the operator's consent to change the account's notification policy when it drops private
        # mentions from strangers (CIVICTRACKER_MASTODON_FIX_DROPPED_DMS); never changed silently
        self.fix_dropped_dms = fix_dropped_dms
        self._policy_checked = False
        self._warned: set[str] = set()  # things logged once per process (unknown notification types)
        # status id -> author account id of the posts read, for telling "deleted" from "hidden" on 404
        self._authors: dict[str, str] = {}

    def _warn_once(self, key: str, message: str, *args: Any) -> None:
        if key not in self._warned:
            self._warned.add(key)
            log.warning(message, *args)

    # -- plumbing -------------------------------------------------------------------------------

    def _call(self, label: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        now = self._clock()
        reset = self.api.ratelimit_reset
        if self.api.ratelimit_remaining <= 0 and reset is not None and reset > now:
            raise ChannelError(
                f"Mastodon rate limit exhausted until reset ({label})", retry_after=reset - now, status=429
            )
        try:
            return fn(*args, **kwargs)
        except MastodonRatelimitError as exc:
            reset = self.api.ratelimit_reset
            retry_after = max(0.0, reset - now) if reset else 60.0
            raise ChannelError(
                f"Mastodon rate limited on {label}", retry_after=retry_after, status=429
            ) from exc
        except MastodonNotFoundError as exc:
            raise ChannelError(
                f"Mastodon 404 on {label}: {_api_message(exc)}", retryable=False, status=404
            ) from exc
        except MastodonServerError as exc:
            status = _api_status(exc)
            raise ChannelError(f"Mastodon {status} on {label}", retryable=True, status=status) from exc
        except MastodonNetworkError as exc:
            raise ChannelError(f"Mastodon unreachable on {label}: {exc}", retryable=True) from exc
        except MastodonAPIError as exc:
            status = _api_status(exc)
            retryable = status is not None and (status >= 500 or status in (408, 429))
            raise ChannelError(
                f"Mastodon {status} on {label}: {_api_message(exc)}", retryable=retryable, status=status
            ) from exc
        except MastodonError as exc:
            raise ChannelError(f"Mastodon call {label} failed: {exc}", retryable=False) from exc

    def account_id(self) -> str:
        """Our own account id (from configuration, or asked once via verify_credentials)."""
        if self._account_id is None:
            me = self._call("verify_credentials", self.api.account_verify_credentials)
            self._account_id = str(me["id"])
        return self._account_id

    # -- reading --------------------------------------------------------------------------------

    def fetch_since(self, cursor: str | None) -> FetchResult:
        """Mention notifications newer than the cursor (JSON {"notifications": newest notification id}).

        With a cursor we page with min_id, not since_id: since_id returns the *newest* page above the id,
        so in a burst of more than one page the older posts in between would be skipped; min_id returns
        the page right after the id and we walk forward until a short page.
        """
        since: str | None = None
        started = cursor is not None
        if cursor:
            try:
                since = json.loads(cursor).get("notifications")
            except ValueError as exc:
                raise ChannelError(f"unreadable Mastodon cursor {cursor!r}", retryable=False) from exc
        me = self.account_id()
        self._check_policy()
        posts: list[IncomingPost] = []
        newest = since
        for _ in range(self.max_pages):
            params: dict[str, Any] = {
                "types[]": ["mention"],
                "limit": PAGE_SIZE,
                "include_filtered": INCLUDE_FILTERED,
            }
            if started:
                # "0" on an account that had no mentions at the first fetch: walk up from the oldest
                params["min_id"] = newest if newest is not None else "0"
            page = self._call("notifications", self._notifications, params)
            for note in page:
                note_id = str(note["id"])
                if newest is None or int(note_id) > int(newest):
                    newest = note_id
                status = note.get("status")
                if note.get("type") != "mention":
                    self._warn_once(
                        f"type:{note.get('type')}",
                        "Mastodon sent a %r notification though only mentions were asked for; "
                        "it is skipped (logged once); if it carries residents' posts, add it to the adapter.",
                        note.get("type"),
                    )
                    continue
                if not status or str(status["account"]["id"]) == me:
                    continue
                remember(self._authors, str(status["id"]), str(status["account"]["id"]))
                posts.append(self._status_to_post(status, me, raw=_to_json(note)))
            if not started or len(page) < PAGE_SIZE:
                # the very first fetch takes only the latest page: no backfill of old mentions
                break
        posts.sort(key=lambda p: (p.created_at, int(p.external_id) if p.external_id.isdigit() else 0))
        new_cursor = json.dumps({"notifications": newest})
        return FetchResult(posts=posts, cursor=new_cursor)

    def _notifications(self, params: dict[str, Any]) -> Any:
        """GET /api/v1/notifications with include_filtered, through Mastodon.py's request helper (its
        public notifications() has no such parameter; the helper keeps auth, errors and rate limits)."""
        request = self.api._Mastodon__api_request  # type: ignore[attr-defined]
        return request("GET", NOTIFICATIONS_PATH, params)

    def _check_policy(self) -> None:
        """Once per process: read the account's notification policy (Mastodon 4.3+). "drop" for private
        mentions means strangers' DMs never reach any API; with the operator's consent
        (fix_dropped_dms) it is set to "filter" (we read filtered ones), otherwise an error is logged."""
        if self._policy_checked:
            return
        self._policy_checked = True
        try:
            policy = self._call("notifications_policy", self.api.notifications_policy)
        except ChannelError as exc:
            log.info(
                "Mastodon notification policy not readable (%s): a server before 4.3 does not filter", exc
            )
            return
        if policy.get("for_private_mentions") != "drop":
            return
        if not self.fix_dropped_dms:
            log.error(
                "Mastodon account drops private mentions from accounts it does not follow: residents' "
                "first DMs never arrive. Set for_private_mentions to 'filter' or 'accept' in the account's "
                "notification settings, or set CIVICTRACKER_MASTODON_FIX_DROPPED_DMS=1 to let us do it."
            )
            return
        self._call(
            "update_notifications_policy", self.api.update_notifications_policy, for_private_mentions="filter"
        )
        log.warning(
            "Mastodon notification policy for private mentions changed from 'drop' to 'filter' "
            "(CIVICTRACKER_MASTODON_FIX_DROPPED_DMS): strangers' DMs are read with include_filtered"
        )

    def _status_to_post(self, status: Any, me: str, *, raw: dict[str, Any]) -> IncomingPost:
        visibility = status.get("visibility")
        text = html_to_text(status.get("content", ""))
        if status.get("spoiler_text"):
            # a content warning is part of what the resident wrote ("CW: pothole")
            text = f"{status['spoiler_text']}\n{text}"
        in_reply_to_account = status.get("in_reply_to_account_id")
        if visibility == "direct":
            kind = "dm"
        elif in_reply_to_account is not None and str(in_reply_to_account) == me:
            kind = "reply"
        else:
            kind = "mention"
        in_reply_to = status.get("in_reply_to_id")
        return IncomingPost(
            channel=self.name,
            external_id=str(status["id"]),
            kind=kind,
            author_id=str(status["account"]["id"]),
            author_handle=str(status["account"]["acct"]),
            text=text,
            created_at=_aware(status.get("created_at")),
            conversation_id=None,  # Mastodon's Status has no thread id; threads are matched by in_reply_to_id
            in_reply_to_id=str(in_reply_to) if in_reply_to is not None else None,
            lang=status.get("language"),
            visibility=visibility,
            raw=raw,
            media=attachments.from_mastodon(_to_json(status.get("media_attachments") or [])),
        )

    def post_exists(self, external_id: str, *, author_id: str | None = None) -> bool:
        """GET /api/v1/statuses/:id. Mastodon answers 404 for a deleted status *and* for one we may no
        longer see (its author blocked the city); so on 404 the author (given, or remembered from when
        the post was read) is looked up: an author who is gone, or there and not blocking us, means
        deleted; a blocking author means hidden, reported as existing (not redacted on a guess)."""
        try:
            self._call("status", self.api.status, external_id)
        except ChannelError as exc:
            if exc.status != 404:
                raise
        else:
            return True
        author = author_id or self._authors.get(external_id)
        if author is None:
            return False
        try:
            self._call("account", self.api.account, author)
        except ChannelError as exc:
            if exc.status == 404:
                return False  # the account is gone, and its posts with it
            raise
        relationships = self._call("relationships", self.api.account_relationships, [author])
        blocked = any(bool(r.get("blocked_by")) for r in relationships or [])
        if blocked:
            log.info("Mastodon status %s is hidden (its author blocks us), not deleted", external_id)
        return blocked

    # -- writing --------------------------------------------------------------------------------

    def compose(self, target: ReplyTarget, text: str, idempotency_key: str) -> str:
        """The exact text `send` posts: the recipient's @acct first (a Mastodon reply only reaches the
        people it mentions; a direct one is only visible to them), shortened to 500."""
        handles = [target.recipient_handle]
        if not target.is_dm:
            handles += list(target.mention_handles)
        missing = [h.lstrip("@") for h in handles if h and f"@{h.lstrip('@')}" not in text]
        body = (" ".join(f"@{h}" for h in missing) + " " + text) if missing else text
        try:
            return fit_text(body, self.max_length, MASTODON_URL_WEIGHT)
        except ValueError as exc:
            raise ChannelError(
                f"reply cannot fit Mastodon's {self.max_length} characters: {exc}", retryable=False
            ) from exc

    def send(self, target: ReplyTarget, text: str, *, idempotency_key: str) -> SentMessage:
        """POST /api/v1/statuses in reply to the post, with its visibility; a DM is answered "direct".

        The outbox key also goes out as the Idempotency-Key header: Mastodon then returns the first
        status for a repeated key (for about an hour) instead of posting again.
        """
        visibility = "direct" if target.is_dm else (target.visibility or "public")
        body = self.compose(target, text, idempotency_key)
        status = self._call(
            "status_post",
            self.api.status_post,
            body,
            in_reply_to_id=target.in_reply_to_id,
            visibility=visibility,
            idempotency_key=idempotency_key,
        )
        return SentMessage(external_id=str(status["id"]), raw=_to_json(status), text=body)

    def find_sent(
        self, target: ReplyTarget, idempotency_key: str, *, text: str, known_ids: Collection[str] = ()
    ) -> SentMessage | None:
        """Our own recent statuses (the owner sees direct ones too) answering the post, with the text
        `send` would post now and an id no other outbox message holds (channels/sent.py)."""
        expected = self.compose(target, text, idempotency_key)
        me = self.account_id()
        max_id: str | None = None
        for _ in range(self.find_pages):
            params: dict[str, Any] = {"limit": PAGE_SIZE}
            if max_id is not None:
                params["max_id"] = max_id
            page = self._call("account_statuses", self.api.account_statuses, me, **params)
            if not page:
                break
            for status in page:
                if (
                    target.in_reply_to_id is not None
                    and str(status.get("in_reply_to_id")) != target.in_reply_to_id
                ):
                    continue
                posted = html_to_text(status.get("content", ""))
                if is_ours(str(status["id"]), posted, expected, known_ids):
                    return SentMessage(external_id=str(status["id"]), raw=_to_json(status), text=posted)
            max_id = str(page[-1]["id"])
        return None


def _api_status(exc: MastodonError) -> int | None:
    # MastodonAPIError args: (message, status code, reason, error text from the body)
    if len(exc.args) > 1 and isinstance(exc.args[1], int):
        return exc.args[1]
    return None


def _api_message(exc: MastodonError) -> str:
    if len(exc.args) > 3 and exc.args[3]:
        return str(exc.args[3])
    return str(exc)
