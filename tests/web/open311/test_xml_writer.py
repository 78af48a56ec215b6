"""The fast Open311 XML writer: same bytes as ElementTree for legal text, always parseable, data round-trips."""

from __future__ import annotations

import datetime as dt
import random
from xml.etree import ElementTree as ET
from zoneinfo import ZoneInfo

from civictracker.services.open311.listing import PublicNote, PublicRequest
from civictracker.web.open311 import serializers, xml

NASTY = ["", "plain", "a & b", "<script>alert(1)</script>", "]]>", "x > y < z", "quote \" and '", "tab\tnew\nline",
         "crlf\r\nend", "café ☕ 🚧", "\u00a0nbsp", "&amp; already"]  # fmt: skip


def _request(i: int, text: str, *, closed: bool) -> PublicRequest:
    at = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC) + dt.timedelta(minutes=i)
    return PublicRequest(
        id=i,
        status="resolved" if closed else "open",
        is_closed=closed,
        status_note=text,
        service_code="pothole",
        service_name="Pothole",
        text=text,
        created_at=at,
        updated_at=at,
        closed_at=at if closed else None,
        due_at=None if closed else at,
        address=f"{i} Main St & Broadway",
        lat=42.37 + i / 1e5,
        lon=-71.11,
        media_url=None,
        channel="x_mention",
        duplicate_of_id=i - 1 if i % 3 == 0 else None,
        notes=[PublicNote(at=at, kind="opened", note=text, status="open")],
    )


def test_fast_writer_matches_elementtree_byte_for_byte() -> None:
    tz = ZoneInfo("America/New_York")
    rng = random.Random(311)
    reqs = [_request(i, rng.choice(NASTY), closed=i % 2 == 0) for i in range(1, 60)]
    for extensions in (False, True):
        payload = serializers.requests(reqs, tz, extensions=extensions)
        fast = xml.render(serializers.ROOT_REQUESTS, payload, serializers.ITEM_TAGS)
        assert fast == xml.render_etree(serializers.ROOT_REQUESTS, payload, serializers.ITEM_TAGS)
    for root, payload in [
        (serializers.ROOT_ERRORS, serializers.errors([(404, "No <such> thing & more")])),
        (serializers.ROOT_DISCOVERY, serializers.discovery(url="http://x/?a=1&b=2", contact="c", key_service="k", kind="test")),
        (serializers.ROOT_REQUESTS, []),
        (serializers.ROOT_DEFINITION, {"service_code": "x", "attributes": [{"values": [], "required": True}]}),
    ]:  # fmt: skip
        assert xml.render(root, payload, serializers.ITEM_TAGS) == xml.render_etree(
            root, payload, serializers.ITEM_TAGS
        )


def test_text_round_trips_and_illegal_characters_never_break_the_document() -> None:
    tz = ZoneInfo("America/New_York")
    reqs = [
        _request(1, "ok <b>&</b> 🚧", closed=False),
        _request(2, "bell\x07 nul\x00 esc\x1b end", closed=True),
    ]
    doc = xml.render(serializers.ROOT_REQUESTS, serializers.requests(reqs, tz), serializers.ITEM_TAGS)
    root = ET.fromstring(doc)  # ElementTree's own writer would emit the raw controls: unparsable
    texts = [r.findtext("description") for r in root.findall("request")]
    assert texts == ["ok <b>&</b> 🚧", "bell\ufffd nul\ufffd esc\ufffd end"]
    assert b"<address_id />" in doc and root.findtext("request/address_id") == ""
    assert root.findtext("request/lat") == repr(42.37 + 1 / 1e5)
