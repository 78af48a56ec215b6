"""Replay channel: posts from a JSON-lines feed file (docs/replay-format.md), optionally a living demo."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Collection
from dataclasses import replace
from pathlib import Path

from civictracker.channels import media as attachments
from civictracker.channels.base import (
    ChannelError,
    FeedError,
    FetchResult,
    IncomingPost,
    ReplyTarget,
    SentMessage,
)
from civictracker.channels.bounds import MAX_RAW_CHARS
from civictracker.channels.log import LogChannel
from civictracker.channels.replay_schema import load_object, parse_line
from civictracker.postlength import REPLAY_MAX_LENGTH

log = logging.getLogger(__name__)

MAX_RAW_LINE = MAX_RAW_CHARS  # how much of a bad line is kept with its reason


def read_lines(path: Path) -> list[bytes]:
    """The feed's lines, split on "\\n" only: U+2028, U+0085 or a form feed inside a text are part of it.

    Lines stay bytes so that one invalid UTF-8 byte spoils its own line, not the file. A final newline ends
    the last line rather than starting an empty one, so the line count (the cursor) is the same whether
    or not the file ends with one.
    """
    data = path.read_bytes()
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def decode_line(line: bytes) -> str:
    """One line as text; ValueError naming the position of an invalid UTF-8 byte."""
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"invalid UTF-8 at byte {exc.start}") from exc


def parse_raw(line: bytes, *, base_time: float | None) -> IncomingPost:
    """A raw feed line to a post through the one schema (replay_schema.py); ValueError says why not."""
    return parse_line(decode_line(line), base_time=base_time)


def raw_text(line: bytes) -> str:
    """A bad line as it can be stored for a person to read: undecodable bytes escaped, bounded."""
    return line[: MAX_RAW_LINE * 4].decode("utf-8", "backslashreplace")[:MAX_RAW_LINE]


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
            lines = read_lines(self.path)
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
                    post = parse_raw(line, base_time=self.start_time)
                except ValueError as exc:
                    log.warning("replay %s line %s skipped: %s", self.path.name, index + 1, exc)
                    errors.append(FeedError(where=f"line {index + 1}", message=str(exc), raw=raw_text(line)))
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
        for line in read_lines(self.path)[start:]:
            try:
                post = parse_raw(line, base_time=self.start_time)
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

    def post_exists(self, external_id: str, *, author_id: str | None = None) -> bool:
        """A feed has no deletions: a post exists if its id is in the file (or it is one of our answers)."""
        if external_id in self._seen_ids or self.outbox.post_exists(external_id):
            return True
        for line in read_lines(self.path):
            try:
                data = load_object(decode_line(line))
            except ValueError:
                continue
            if str(data.get("id")) == external_id:
                return True
        return False
