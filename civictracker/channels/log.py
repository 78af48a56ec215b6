"""An outbound-only channel that records what would be posted: the demo's and the replay feed's "platform"."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import threading
from collections import OrderedDict, deque
from collections.abc import Collection
from pathlib import Path
from typing import Any

from civictracker.channels.base import ChannelError, FetchResult, ReplyTarget, SentMessage
from civictracker.postlength import MASTODON_URL_WEIGHT, fit_text

log = logging.getLogger(__name__)

# Records kept in memory: the newest this many (the file keeps them all). A long-running worker sends for
# days; holding every record grew its memory ~1 MiB per 1,000 posts (bench/bench_worker_memory.py).
KEEP = 10_000
_ID = re.compile(r"log-([1-9][0-9]*)")


class LogChannel:
    """send() appends a record (to memory, and to a JSON-lines file when given) and returns "log-<n>".

    It behaves like a platform that posts whatever it is told: a second send with the same key is
    recorded again, so tests can see a double post. Each record keeps the call's key beside the text
    (as Mastodon keeps an Idempotency-Key header, never in the text); `find_sent` finds the first record
    by its key, in the target's thread, under an id no other message holds. Records
    in an existing file are loaded at start, so recovery works across a restart of the demo. Memory holds
    the newest `keep` records and their keys (recovery asks about calls of the last minutes); ids are
    numbered, so every id ever sent is known without holding them.
    """

    name = "log"
    url_weight: int | None = MASTODON_URL_WEIGHT

    def __init__(
        self, path: str | Path | None = None, *, name: str = "log", max_length: int = 500, keep: int = KEEP
    ) -> None:
        self.name = name
        self.max_length = max_length
        self.path = Path(path) if path is not None else None
        self._lock = threading.Lock()
        self._records: deque[dict[str, Any]] = deque(maxlen=keep)
        # find_sent runs once per send on restart paths: look up by key instead of scanning the records
        self._first_by_key: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._keep = keep
        self._count = 0  # records ever written: the last id is "log-<count>"
        self._other_ids: set[str] = set()  # ids of loaded records not numbered by this class
        if self.path is not None and self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    try:
                        self._remember(json.loads(line))
                    except ValueError:
                        log.warning("skipping unreadable line in %s", self.path)

    @property
    def records(self) -> list[dict[str, Any]]:
        """The records in memory (the newest `keep`), oldest first."""
        with self._lock:
            return list(self._records)

    def _remember(self, record: dict[str, Any]) -> None:
        self._records.append(record)
        self._count += 1
        key = record.get("idempotency_key")
        if key is not None and key not in self._first_by_key:  # a double post is recorded; the first counts
            self._first_by_key[key] = record
            if len(self._first_by_key) > self._keep:
                self._first_by_key.popitem(last=False)
        record_id = record.get("id")
        if record_id is not None and not self._numbered(str(record_id)):
            self._other_ids.add(str(record_id))

    def _numbered(self, external_id: str) -> bool:
        match = _ID.fullmatch(external_id)
        return match is not None and int(match.group(1)) <= self._count

    def fetch_since(self, cursor: str | None) -> FetchResult:
        return FetchResult(posts=[], cursor=cursor)  # outbound only

    def send(self, target: ReplyTarget, text: str, *, idempotency_key: str) -> SentMessage:
        try:
            body = fit_text(text, self.max_length, self.url_weight)
        except ValueError as exc:
            raise ChannelError(
                f"reply cannot fit {self.max_length} characters: {exc}", retryable=False
            ) from exc
        with self._lock:
            external_id = f"log-{self._count + 1}"
            record: dict[str, Any] = {
                "id": external_id,
                "channel": target.channel,
                "is_dm": target.is_dm,
                "recipient_id": target.recipient_id,
                "recipient_handle": target.recipient_handle,
                "mention_handles": list(target.mention_handles),
                "in_reply_to_id": target.in_reply_to_id,
                "conversation_id": target.conversation_id,
                "visibility": target.visibility,
                "text": body,
                "idempotency_key": idempotency_key,
                "sent_at": dt.datetime.now(dt.UTC).isoformat(),
            }
            self._remember(record)
            if self.path is not None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        return SentMessage(external_id=external_id, raw=record, text=body)

    def find_sent(
        self, target: ReplyTarget, idempotency_key: str, *, text: str, known_ids: Collection[str] = ()
    ) -> SentMessage | None:
        with self._lock:
            record = self._first_by_key.get(idempotency_key)
        if record is None or record["id"] in known_ids:
            return None
        if record.get("in_reply_to_id") != target.in_reply_to_id and not target.is_dm:
            return None  # a key answers one thread; a record elsewhere is not this call's
        return SentMessage(external_id=record["id"], raw=record, text=record["text"])

    def post_exists(self, external_id: str, *, author_id: str | None = None) -> bool:
        with self._lock:
            return self._numbered(external_id) or external_id in self._other_ids

    def conversation(
        self, in_reply_to_id: str | None = None, recipient_id: str | None = None
    ) -> list[dict[str, Any]]:
        """Sent records answering one post or one resident, oldest first, among those in memory."""
        with self._lock:
            return [
                r
                for r in self._records
                if (in_reply_to_id is None or r.get("in_reply_to_id") == in_reply_to_id)
                and (recipient_id is None or r.get("recipient_id") == recipient_id)
            ]
