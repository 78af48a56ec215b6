"""Replay channel: posts from a JSON-lines feed file (docs/replay-format.md), optionally a living demo."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from collections.abc import Callable, Collection
from dataclasses import replace
from pathlib import Path
from typing import Any

from civictracker.channels import media as attachments
from civictracker.channels.base import (
    ChannelError,
    FeedError,
    FetchResult,
    IncomingPost,
    ReplyTarget,
    SentMessage,
)
from civictracker.channels.log import LogChannel
from civictracker.postlength import REPLAY_MAX_LENGTH

log = logging.getLogger(__name__)

KINDS = ("mention", "dm", "reply")


def parse_line(line: str, *, base_time: float | None) -> IncomingPost:
    """One feed line to an IncomingPost; ValueError says what is wrong with it."""
    try:
        data = json.loads(line)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    for key in ("id", "kind", "text"):
        if data.get(key) in (None, ""):
            raise ValueError(f"missing {key!r}")
    if data["kind"] not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}, not {data['kind']!r}")
    if not isinstance(data["text"], str):
        raise ValueError("text must be a string")
    if not (data.get("author_id") or data.get("author_handle")):
        raise ValueError("needs author_id or author_handle")
    offset = data.get("offset_s", 0) or 0
    if (
        not isinstance(offset, int | float)
        or isinstance(offset, bool)
        or not math.isfinite(offset)
        or offset < 0
    ):
        raise ValueError("offset_s must be a number >= 0")
    lat = lon = None
    geo = data.get("geo")
    if geo is not None:
        if not isinstance(geo, dict):
            raise ValueError("geo must be {lat, lon} or null")
        lat, lon = geo.get("lat"), geo.get("lon")
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (lat, lon)):
            raise ValueError("geo.lat and geo.lon must be numbers")
        assert lat is not None and lon is not None  # narrowed by the check above
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValueError("geo out of range")
    if base_time is not None:
        created = dt.datetime.fromtimestamp(base_time + offset, dt.UTC)
    elif data.get("created_at"):
        try:
            created = dt.datetime.fromisoformat(str(data["created_at"]).replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"created_at: {exc}") from exc
        created = created.astimezone(dt.UTC) if created.tzinfo else created.replace(tzinfo=dt.UTC)
    else:
        created = dt.datetime.now(dt.UTC)
    author_id = str(data.get("author_id") or data["author_handle"])
    return IncomingPost(
        channel="replay",
        external_id=str(data["id"]),
        kind=data["kind"],
        author_id=author_id,
        author_handle=str(data.get("author_handle") or author_id),
        text=data["text"],
        created_at=created,
        conversation_id=_opt_str(data.get("conversation_id")),
        in_reply_to_id=_opt_str(data.get("in_reply_to")),
        lat=float(lat) if lat is not None else None,
        lon=float(lon) if lon is not None else None,
        lang=_opt_str(data.get("lang")),
        raw=data,
    )


def _opt_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


class ReplayChannel:
    """Posts from a feed file; answers go to a LogChannel (the demo's conversation view).

    The cursor is JSON {"line": n}: the number of lines already consumed. Malformed lines are skipped
    and returned in `FetchResult.errors` (with their line number), never raised: one bad line must not
    hold back the posts after it. With `start_time` set, a line is due only once `offset_s` seconds
    have passed since then (a "living" demo); the feed must then be ordered by offset_s, since reading
    stops at the first line not yet due.
    """

    name = "replay"
    max_length = REPLAY_MAX_LENGTH
    url_weight: int | None = 23

    def __init__(
        self,
        path: str | Path,
        *,
        outbox: LogChannel | None = None,
        start_time: float | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = Path(path)
        self.outbox = (
            outbox if outbox is not None else LogChannel(name="replay", max_length=REPLAY_MAX_LENGTH)
        )
        self.start_time = start_time
        self._clock = clock
        self._seen_ids: set[str] = set()

    def fetch_since(self, cursor: str | None) -> FetchResult:
        start = 0
        if cursor:
            try:
                start = int(json.loads(cursor)["line"])
            except (ValueError, KeyError, TypeError) as exc:
                raise ChannelError(f"unreadable replay cursor {cursor!r}", retryable=False) from exc
        try:
            lines = self.path.read_text(encoding="utf-8-sig").splitlines()
        except OSError as exc:
            raise ChannelError(f"cannot read replay feed {self.path}: {exc}", retryable=True) from exc
        elapsed = self._clock() - self.start_time if self.start_time is not None else None
        posts: list[IncomingPost] = []
        errors: list[FeedError] = []
        consumed = start
        for index in range(start, len(lines)):
            line = lines[index]
            if line.strip():
                try:
                    post = parse_line(line, base_time=self.start_time)
                except ValueError as exc:
                    log.warning("replay %s line %s skipped: %s", self.path.name, index + 1, exc)
                    errors.append(FeedError(where=f"line {index + 1}", message=str(exc)))
                else:
                    offset = float(post.raw.get("offset_s") or 0)
                    if elapsed is not None and offset > elapsed:
                        break  # not due yet; this line and the rest wait for a later fetch
                    self._seen_ids.add(post.external_id)
                    media, problem = attachments.replay_media(post.raw)
                    posts.append(replace(post, media=media))
                    if problem:  # the post matters more than its attachments: kept without them
                        log.warning("replay %s line %s: %s", self.path.name, index + 1, problem)
                        errors.append(FeedError(where=f"line {index + 1}", message=problem))
            consumed = index + 1
        return FetchResult(posts=posts, cursor=json.dumps({"line": consumed}), errors=errors)

    def next_due_in(self, cursor: str | None) -> float | None:
        """Seconds until the next line is due in a living demo (None when nothing is left or not living)."""
        if self.start_time is None:
            return None
        start = int(json.loads(cursor)["line"]) if cursor else 0
        for line in self.path.read_text(encoding="utf-8-sig").splitlines()[start:]:
            try:
                post = parse_line(line, base_time=self.start_time)
            except ValueError:
                continue
            return max(0.0, float(post.raw.get("offset_s") or 0) - (self._clock() - self.start_time))
        return None

    def send(self, target: ReplyTarget, text: str, *, idempotency_key: str) -> SentMessage:
        return self.outbox.send(target, text, idempotency_key=idempotency_key)

    def find_sent(
        self, target: ReplyTarget, idempotency_key: str, *, text: str, known_ids: Collection[str] = ()
    ) -> SentMessage | None:
        return self.outbox.find_sent(target, idempotency_key, text=text, known_ids=known_ids)

    def post_exists(self, external_id: str) -> bool:
        """A feed has no deletions: a post exists if its id is in the file (or it is one of our answers)."""
        if external_id in self._seen_ids or self.outbox.post_exists(external_id):
            return True
        for line in self.path.read_text(encoding="utf-8-sig").splitlines():
            try:
                data = json.loads(line)
            except ValueError:
                continue
            if isinstance(data, dict) and str(data.get("id")) == external_id:
                return True
        return False
