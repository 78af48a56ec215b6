"""Property: any feed line is a post or a ValueError saying why, never another exception (issue #16).

Another exception (OverflowError, RecursionError, UnicodeDecodeError) once failed the whole poll.
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from civictracker.channels.base import IncomingPost
from civictracker.channels.bounds import MAX_ID_CHARS, MAX_LANG_CHARS
from civictracker.channels.replay import parse_raw
from tests.fuzz.routes import NASTY, json_value

FIELDS = ["id", "kind", "author_id", "author_handle", "text", "offset_s", "in_reply_to", "conversation_id",
          "geo", "lang", "created_at"]  # fmt: skip
field_value = st.one_of(
    json_value,
    st.sampled_from(["mention", "dm", "reply"]),
    st.sampled_from(NASTY),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.fixed_dictionaries({"lat": json_value, "lon": json_value}),
)
line_object = st.dictionaries(st.sampled_from(FIELDS), field_value, max_size=len(FIELDS))


def _check(raw: bytes, base_time: float | None) -> None:
    try:
        post = parse_raw(raw, base_time=base_time)
    except ValueError as exc:
        assert str(exc)
        return
    assert isinstance(post, IncomingPost) and post.text and post.kind in ("mention", "dm", "reply")
    assert len(post.external_id) <= MAX_ID_CHARS and "\x00" not in post.external_id
    for ref in (post.in_reply_to_id, post.conversation_id):
        assert ref is None or (len(ref) <= MAX_ID_CHARS and "\x00" not in ref)
    assert post.lang is None or len(post.lang) <= MAX_LANG_CHARS
    assert 1970 <= post.created_at.year < 2200
    json.dumps(post.raw, allow_nan=False)  # storable as JSON on both databases


@settings(max_examples=150, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(line_object, st.sampled_from([None, 0.0, 1.8e9]))
def test_any_object_line_is_a_post_or_a_value_error(obj: dict[str, object], base_time: float | None) -> None:
    _check(json.dumps(obj).encode(), base_time)


@settings(max_examples=150, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=200) | st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")))
def test_any_bytes_are_a_post_or_a_value_error(raw: bytes) -> None:
    _check(raw, None)
