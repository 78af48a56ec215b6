"""The demo feed replayed end to end gives the same tickets, events, posts and replies as the snapshot.

The snapshot (`tests/data/demo_golden.json`) was taken before the package restructure; a refactor must
leave it unchanged. After an intended change of behaviour, rewrite it with
`CT_WRITE_GOLDEN=1 pytest tests/test_demo_golden.py` and explain the difference in the commit.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from tests.conftest import BACKENDS, drop_app, make_app

GOLDEN = Path(__file__).parent / "data" / "demo_golden.json"
# Clock-dependent words in replies and notes ("Dec 6, 2:13 PM", "in 3 days") are masked.
_CLOCK = re.compile(
    # A reply cut to the platform's length may end in a month or weekday before an ellipsis ("Sat, Dec…").
    r"\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec|ene|fev|abr|mai|ago|set|out|dez|dic)[a-z]*\.?"
    r"(?: \d{1,2}(?:, \d{4})?|(?=\u2026))|\b\d{1,2}:\d{2}(?:\s?[AP]M)?|\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?"
    # the expected date in each language of the pack (services.wording): "dom 6 de dic", "6 desanm", "14h13"
    r"|\b\d{1,2}(?: de)? (?:ene|feb|mar|abr|may|jun|jul|ago|sep|oct|nov|dic|jan|fev|mai|set|out|dez"
    r"|janvye|fevriye|mas|avril|me|jen|jiyè|out|septanm|oktòb|novanm|desanm)\b|\b\d{1,2}h\d{2}\b"
    r"|\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun|lun|mar|mié|jue|vie|sáb|dom|seg|ter|qua|qui|sex"
    r"|lendi|madi|mèkredi|jedi|vandredi|samdi|dimanch)\b(?=,? (?:\d|[a-z]{0,3}(?: \d|\u2026)|<time>))",
    re.IGNORECASE,
)


def _mask(text: str | None) -> str | None:
    return None if text is None else _CLOCK.sub("<time>", text)


def _rank(ids: list[int]) -> dict[int | None, int | None]:
    order: dict[int | None, int | None] = {i: n for n, i in enumerate(sorted(ids), start=1)}
    order[None] = None
    return order


def snapshot(app: Flask) -> dict[str, Any]:
    """What a resident, a dispatcher and the public would see, with ids renumbered from 1 and times masked."""
    from civictracker.extensions import db
    from civictracker.models import InboundPost, OutboundMessage, Ticket, TicketEvent

    s = db.session
    tickets = s.scalars(select(Ticket).order_by(Ticket.id)).all()
    t = _rank([x.id for x in tickets])
    posts = s.scalars(select(InboundPost).order_by(InboundPost.id)).all()
    p = _rank([x.id for x in posts])
    events = s.scalars(select(TicketEvent).order_by(TicketEvent.id)).all()
    e = _rank([x.id for x in events])
    messages = s.scalars(select(OutboundMessage).order_by(OutboundMessage.id)).all()
    return {
        "tickets": [
            {
                "id": t[x.id],
                "service": x.service.code,
                "status": x.status,
                "priority": x.priority,
                "address": x.address,
                "street": x.street,
                "precision": x.precision,
                "lat": None if x.lat is None else round(x.lat, 5),
                "lon": None if x.lon is None else round(x.lon, 5),
                "geocode_status": x.geocode_status,
                "summary": x.summary,
                "lang": x.lang,
                "duplicate_of": t[x.duplicate_of_id],
                "report_count": x.report_count,
                "follower_count": x.follower_count,
                "crew": x.crew.name if x.crew else None,
            }
            for x in tickets
        ],
        "posts": [
            {
                "external_id": x.external_id,
                "state": x.state,
                "outcome": x.outcome,
                "reason": _mask(x.reason),
                "lang": x.lang,
                "ticket": t[x.ticket_id],
            }
            for x in sorted(posts, key=lambda x: x.external_id)
        ],
        "events": [
            {
                "ticket": t[x.ticket_id],
                "kind": x.kind,
                "from": x.from_status,
                "to": x.to_status,
                "public_note": _mask(x.public_note),
                "is_public": x.is_public,
                "actor": x.actor_label,
            }
            for x in events
        ],
        "messages": [
            {
                "channel": x.channel,
                "kind": x.kind,
                "ticket": t[x.ticket_id],
                "event": e[x.event_id],
                "post": p[x.post_id],
                "is_dm": x.is_dm,
                "recipient": x.recipient_handle,
                "in_reply_to": x.in_reply_to_id,
                "lang": x.lang,
                "text": _mask(x.text),
                "state": x.state,
            }
            for x in messages
        ],
    }


# Every expected date in a reply is written as this one: a reply cut to the platform's length is cut at
# the same place whatever the day the test runs ("Dec 5" and "Dec 13" differ by a character).
FIXED_DUE = dt.datetime(2026, 12, 16, 19, 13, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _fixed_expected_dates(monkeypatch: pytest.MonkeyPatch) -> None:
    from civictracker.services import wording

    real = wording.format_when
    monkeypatch.setattr(
        wording, "format_when", lambda templates, lang, _when, zone: real(templates, lang, FIXED_DUE, zone)
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_demo_replay_matches_snapshot(backend: str, tmp_path: Path) -> None:
    from civictracker.bootstrap import prepare_demo

    # A fresh app: the shared test app's channels have already been read by other tests.
    app, pg_db = make_app(backend, tmp_path)
    try:
        prepare_demo(app)
        with app.app_context():
            got = snapshot(app)
    finally:
        drop_app(app, pg_db)
    if os.environ.get("CT_WRITE_GOLDEN") and backend == "sqlite":
        GOLDEN.write_text(json.dumps(got, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    want = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for part in ("tickets", "posts", "events", "messages"):
        assert len(got[part]) == len(want[part]), part
        for n, (g, w) in enumerate(zip(got[part], want[part], strict=True)):
            assert g == w, f"{part}[{n}]"
