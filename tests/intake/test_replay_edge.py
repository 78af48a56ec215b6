"""A bad line in the replay feed is kept with its reason and skipped; the posts around it arrive, every run.

Each case below once failed the whole poll (issue #16): the feed's channel was stuck on it forever.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from civictracker.channels.replay import ReplayChannel
from civictracker.extensions import db
from civictracker.jobs import posts as jobs
from civictracker.models import ChannelCursor, InboundPost, RejectedInput
from civictracker.runtime import register_channel


def _line(post_id: str, **fields: object) -> str:
    base: dict[str, object] = {
        "id": post_id,
        "kind": "mention",
        "author_id": "u1",
        "author_handle": "ana",
        "text": "streetlight out at 5 Main St",
        "lang": "en",
    }
    base.update(fields)
    return json.dumps(base)


# (name, the raw bytes of one bad line, a word of the reason recorded)
BAD_LINES: list[tuple[str, bytes, str]] = [
    ("invalid utf-8", b'{"id": "b1", "kind": "mention", "author_id": "u", "text": "caf\xe9"}', "UTF-8"),
    (
        "created_at 9999 west of UTC",
        _line("b2", created_at="9999-12-31T23:59:59-05:00").encode(),
        "created_at",
    ),
    (
        "created_at 0001 east of UTC",
        _line("b3", created_at="0001-01-01T00:00:00+05:00").encode(),
        "created_at",
    ),
    ("created_at year 3000", _line("b3b", created_at="3000-01-01T00:00:00Z").encode(), "created_at"),
    (
        "400-digit offset_s",
        _line("b4").replace('"lang"', '"offset_s": ' + "9" * 400 + ', "lang"').encode(),
        "offset_s",
    ),
    ("deeply nested JSON", ('{"id": "b5", "x": ' + "[" * 20_000 + "]" * 20_000 + "}").encode(), "nested"),
    ("nested just over the bound", _line("b5b", extra=json.loads("[" * 40 + "]" * 40)).encode(), "nested"),
    ("lang over 8 characters", _line("b6", lang="en-US-x-very-long").encode(), "lang"),
    ("lang not a string", _line("b7", lang=["en"]).encode(), "lang"),
    ("in_reply_to over 200", _line("b8", kind="reply", in_reply_to="9" * 201).encode(), "in_reply_to"),
    ("conversation_id over 200", _line("b9", conversation_id="c" * 300).encode(), "conversation_id"),
    ("NUL in in_reply_to", _line("b10", in_reply_to="log-1\x00").encode(), "in_reply_to"),
    ("NUL in conversation_id", _line("b11", conversation_id="a\x00b").encode(), "conversation_id"),
    ("NUL in id", _line("b12\x00").encode(), "id"),
    ("id over 200", _line("x" * 201).encode(), "id"),
    ("id not a string", _line("b13").replace('"id": "b13"', '"id": {"a": 1}').encode(), "id"),
    ("text not a string", _line("b14", text=["pothole"]).encode(), "text"),
    ("author_handle not a string", _line("b15", author_id=None, author_handle=7).encode(), "author_handle"),
    ("NaN in an extra field", _line("b16").replace('"lang"', '"score": NaN, "lang"').encode(), "JSON"),
    ("1e999 in an extra field", _line("b17").replace('"lang"', '"score": 1e999, "lang"').encode(), "range"),
    ("geo not numbers", _line("b18", geo={"lat": "42", "lon": -71}).encode(), "geo"),
]


def _feed(tmp_path: Path, lines: list[bytes]) -> Path:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(b"\n".join(lines) + b"\n")
    return feed


def _stored() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(InboundPost.external_id).order_by(InboundPost.id)))


def _rejects() -> list[RejectedInput]:
    return list(db.session.scalars(select(RejectedInput).order_by(RejectedInput.id)))


@pytest.mark.parametrize(("name", "bad", "reason"), BAD_LINES, ids=[b[0] for b in BAD_LINES])
def test_a_bad_line_is_kept_with_its_reason_and_the_posts_around_it_arrive(
    app: Flask, tmp_path: Path, name: str, bad: bytes, reason: str
) -> None:
    feed = _feed(tmp_path, [_line("good-1").encode(), bad, _line("good-2").encode()])
    register_channel(app, "replay", ReplayChannel(feed))
    assert jobs.poll_channel("replay") == 2
    assert _stored() == ["good-1", "good-2"]
    [reject] = _rejects()
    assert (reject.channel, reject.location) == ("replay", "line 2")
    assert reason.lower() in reject.reason.lower(), reject.reason
    assert reject.raw and "\x00" not in reject.raw  # kept as read (NUL replaced), for a person to read
    # every run: later lines keep arriving, the bad one is not read (or recorded) again
    with feed.open("ab") as fh:
        fh.write(bad + b"\n" + _line("good-3").encode() + b"\n")
    assert jobs.poll_channel("replay") == 1
    assert _stored() == ["good-1", "good-2", "good-3"] and len(_rejects()) == 2
    cursor = db.session.get(ChannelCursor, "replay")
    assert cursor is not None and json.loads(cursor.cursor or "") == {"line": 5}


def test_all_bad_lines_in_one_feed_still_let_every_good_post_through(app: Flask, tmp_path: Path) -> None:
    lines: list[bytes] = []
    for i, (_, bad, _) in enumerate(BAD_LINES):
        lines += [_line(f"good-{i}").encode(), bad]
    feed = _feed(tmp_path, lines)
    register_channel(app, "replay", ReplayChannel(feed))
    assert jobs.poll_channel("replay") == len(BAD_LINES)
    assert len(_rejects()) == len(BAD_LINES)


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\u0085", "\x0c", "\x1e", "\r"])
def test_only_newline_ends_a_line(app: Flask, tmp_path: Path, separator: str) -> None:
    text = f"pothole at 5 Main St{separator}second line of the same post"
    # ensure_ascii=False: the separator is raw in the file, as a platform export would write it
    feed = _feed(
        tmp_path,
        [
            json.dumps(
                {"id": "p1", "kind": "mention", "author_id": "u", "text": text}, ensure_ascii=False
            ).encode()
        ],
    )
    register_channel(app, "replay", ReplayChannel(feed))
    assert jobs.poll_channel("replay") == 1 and _rejects() == []
    post = db.session.scalar(select(InboundPost))
    assert post is not None and post.text.endswith("second line of the same post")


def test_crlf_feed_and_a_bom_still_read(app: Flask, tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_bytes(b"\xef\xbb\xbf" + _line("a").encode() + b"\r\n" + _line("b").encode() + b"\r\n")
    register_channel(app, "replay", ReplayChannel(feed))
    assert jobs.poll_channel("replay") == 2 and _rejects() == []


def test_lone_surrogates_and_nul_in_a_text_are_stored_replaced(app: Flask, tmp_path: Path) -> None:
    # JSON may escape what UTF-8 cannot hold (\ud800) or PostgreSQL refuses (\u0000): stored as U+FFFD
    line = '{"id": "s1", "kind": "mention", "author_id": "u", "text": "pothole \\ud800 at \\u0000 5 Main St", "x": "\\udfff"}'
    feed = _feed(tmp_path, [line.encode(), _line("good").encode()])
    register_channel(app, "replay", ReplayChannel(feed))
    assert jobs.poll_channel("replay") == 2 and _rejects() == []
    post = db.session.scalar(select(InboundPost).where(InboundPost.external_id == "s1"))
    assert post is not None and "\x00" not in post.text and "\ud800" not in post.text
