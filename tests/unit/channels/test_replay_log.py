"""Replay feed channel and the log outbound channel."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from civictracker.channels.base import ChannelError, ReplyTarget, deliver_once
from civictracker.channels.log import LogChannel
from civictracker.channels.replay import ReplayChannel


def _line(**fields: object) -> str:
    base: dict[str, object] = {
        "id": "r1",
        "kind": "mention",
        "author_id": "u1",
        "author_handle": "ana",
        "text": "pothole at 5 Main St",
        "offset_s": 0,
        "in_reply_to": None,
        "conversation_id": None,
        "geo": None,
        "lang": "en",
    }
    base.update(fields)
    return json.dumps(base)


def test_replay_reads_since_cursor_and_reports_malformed_lines(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "\n".join(
            [
                _line(id="r1", geo={"lat": 42.37, "lon": -71.11}),
                "{not json",
                _line(id="r2", kind="tweet"),
                _line(id="r3", kind="dm", author_handle="bob", text="light out"),
                "",
                _line(id="r4", kind="reply", in_reply_to="log-1", conversation_id="r1"),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    channel = ReplayChannel(feed)
    first = channel.fetch_since(None)
    assert [(p.external_id, p.kind) for p in first.posts] == [
        ("r1", "mention"),
        ("r3", "dm"),
        ("r4", "reply"),
    ]
    assert (first.posts[0].lat, first.posts[0].lon) == (42.37, -71.11) and first.posts[0].channel == "replay"
    assert first.posts[2].in_reply_to_id == "log-1" and first.posts[2].conversation_id == "r1"
    assert [e.where for e in first.errors] == ["line 2", "line 3"] and "kind" in first.errors[1].message
    assert json.loads(first.cursor or "") == {"line": 6}
    # the bad lines are reported once, not on every fetch
    again = channel.fetch_since(first.cursor)
    assert again.posts == [] and again.errors == []
    with feed.open("a", encoding="utf-8") as fh:
        fh.write(_line(id="r5") + "\n")
    assert [p.external_id for p in channel.fetch_since(first.cursor).posts] == ["r5"]
    assert channel.post_exists("r1") and not channel.post_exists("nope")


def test_living_replay_releases_lines_as_their_offset_elapses(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(
        "\n".join(_line(id=f"r{i}", offset_s=o) for i, o in enumerate([0, 5, 30])), encoding="utf-8"
    )
    now = [1000.0]
    channel = ReplayChannel(feed, start_time=1000.0, clock=lambda: now[0])
    got = channel.fetch_since(None)
    assert [p.external_id for p in got.posts] == ["r0"] and channel.next_due_in(got.cursor) == 5
    now[0] = 1006.0
    got2 = channel.fetch_since(got.cursor)
    assert [p.external_id for p in got2.posts] == ["r1"]
    assert got2.posts[0].created_at.timestamp() == 1005.0
    now[0] = 1031.0
    assert [p.external_id for p in channel.fetch_since(got2.cursor).posts] == ["r2"]


def test_replay_bad_cursor_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ChannelError):
        ReplayChannel(tmp_path / "feed.jsonl").fetch_since("garbage")
    with pytest.raises(ChannelError):
        ReplayChannel(tmp_path / "missing.jsonl").fetch_since(None)


def test_log_channel_records_finds_and_survives_restart(tmp_path: Path) -> None:
    path = tmp_path / "outbox.jsonl"
    log = LogChannel(path)
    target = ReplyTarget(
        channel="replay", is_dm=False, recipient_id="u1", recipient_handle="ana", in_reply_to_id="r1"
    )
    sent = log.send(target, "Thanks! ticket #CT-1", idempotency_key="ack:1")
    assert sent.external_id == "log-1" and sent.text == "Thanks! ticket #CT-1"  # no tag in the text
    restarted = LogChannel(path)
    assert restarted.find_sent(target, "ack:1", text="Thanks! ticket #CT-1") == sent.__class__(
        external_id="log-1", raw=restarted.records[0], text=sent.text
    )
    again = deliver_once(restarted, target, "Thanks! ticket #CT-1", idempotency_key="ack:1", maybe_sent=True)
    assert again.external_id == "log-1" and len(restarted.records) == 1
    assert [r["id"] for r in restarted.conversation(in_reply_to_id="r1")] == ["log-1"]


def test_log_channel_holds_only_its_newest_records_in_memory(tmp_path: Path) -> None:
    """A worker sends for days: memory keeps the newest records and keys, the file and the ids all."""
    path = tmp_path / "outbox.jsonl"
    log = LogChannel(path, keep=3)
    target = ReplyTarget(
        channel="replay", is_dm=False, recipient_id="u1", recipient_handle="ana", in_reply_to_id="r1"
    )
    for i in range(1, 6):
        assert log.send(target, f"reply {i}", idempotency_key=f"k{i}").external_id == f"log-{i}"
    assert [r["id"] for r in log.records] == ["log-3", "log-4", "log-5"]
    assert len(path.read_text(encoding="utf-8").splitlines()) == 5
    assert all(log.post_exists(f"log-{i}") for i in range(1, 6))
    assert not log.post_exists("log-6") and not log.post_exists("log-0") and not log.post_exists("x")
    assert log.find_sent(target, "k5", text="reply 5") is not None
    assert log.find_sent(target, "k1", text="reply 1") is None  # older than the keys kept
    restarted = LogChannel(path, keep=3)  # a restart reads the file, and numbers on after it
    assert restarted.send(target, "reply 6", idempotency_key="k6").external_id == "log-6"
    assert restarted.post_exists("log-2") and restarted.find_sent(target, "k4", text="reply 4") is not None


def test_replay_answers_go_to_its_log(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text(_line(id="r1") + "\n", encoding="utf-8")
    channel = ReplayChannel(feed)
    target = ReplyTarget(
        channel="replay", is_dm=True, recipient_id="u1", recipient_handle="ana", in_reply_to_id="r1"
    )
    sent = channel.send(target, "ticket #CT-2", idempotency_key="k")
    assert (
        channel.outbox.records[0]["is_dm"] is True
        and channel.find_sent(target, "k", text="ticket #CT-2") == sent
    )
