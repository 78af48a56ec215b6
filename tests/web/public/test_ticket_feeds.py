"""The public ticket page's street line, description and follow block; the Atom feeds of a ticket and of an
area: valid Atom, stable ids, HTTP caching, bounded, bad input a 400, and never a DM's words or handle."""

from __future__ import annotations

import datetime as dt
from xml.etree import ElementTree as ET

import pytest

from civictracker.geo.spatial import parse_linestring
from civictracker.models import Follower, InboundPost, Reporter, TicketStatus
from civictracker.services.public_text import REMOVED, redact_contacts
from civictracker.services.tickets import EventNote, change_status, record_event
from tests import factories

A = "{http://www.w3.org/2005/Atom}"
# Hampshire St between Windsor St and Prospect St (Cambridge), as the geocoder gives a span: (lon, lat).
SPAN = ((-71.0975, 42.3707), (-71.0990, 42.3714), (-71.1003, 42.3720))


def _atom(resp) -> ET.Element:  # type: ignore[no-untyped-def]
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    assert resp.content_type == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(resp.data)
    assert root.tag == A + "feed"
    for tag in ("id", "title", "updated", "author"):
        assert root.find(A + tag) is not None, tag
    assert {link.get("rel") for link in root.findall(A + "link")} >= {"self", "alternate"}
    for entry in root.findall(A + "entry"):
        for tag in ("id", "title", "updated", "link", "summary"):
            assert entry.find(A + tag) is not None, tag
        dt.datetime.fromisoformat(entry.findtext(A + "updated") or "")  # RFC 3339
    return root


def _entries(root: ET.Element) -> list[tuple[str, str, str]]:
    return [
        (e.findtext(A + "id") or "", e.findtext(A + "title") or "", e.findtext(A + "summary") or "")
        for e in root.findall(A + "entry")
    ]


def test_street_wide_ticket_page_draws_its_line_and_offers_to_follow(client, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, "snow_ice", lat=42.3714, lon=-71.0990, precision="segment", line=SPAN,
                         address="Hampshire St between Windsor St and Prospect St", street="Hampshire St",
                         summary="Snow and ice reported on Hampshire St between Windsor St and Prospect St.")  # fmt: skip
    db.commit()
    html = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert 'id="ticket-line"' in html and "ticket/line.js" in html
    line = html.split('id="ticket-line"', 1)[1].split(">", 1)[1].split("</script>", 1)[0]
    assert [tuple(p) for p in __import__("json").loads(line)] == [pytest.approx(p) for p in SPAN]
    assert "stretch of street" in html
    feed = f"/tickets/{t.id}/feed.atom"
    assert f'<link rel="alternate" type="application/atom+xml" title="Updates to report CT-{t.id}"' in html
    assert f'href="{feed}"' in html and 'id="follow"' in html and "Follow this report" in html
    assert "feed reader" in html and "X or Mastodon" in html
    assert "/feed.atom?lat=42.37140&amp;long=-71.09900&amp;radius=500" in html  # reports near this one


def test_point_ticket_has_no_line_and_a_private_one_never_shows_its_span(client, db) -> None:  # type: ignore[no-untyped-def]
    plain = factories.ticket(db, address="1 Hampshire St")
    private = factories.ticket(db, "snow_ice", line=SPAN, street="Hampshire St", private_location=True,
                               address="12 Elmwood Priv Ln", source_channel="x_dm")  # fmt: skip
    db.commit()
    assert 'id="ticket-line"' not in client.get(f"/tickets/{plain.id}").get_data(as_text=True)
    html = client.get(f"/tickets/{private.id}").get_data(as_text=True)
    assert 'id="ticket-line"' not in html and "-71.0975" not in html and "block level" in html


def test_open311_description_is_shown_without_contacts_and_a_post_never(client, db) -> None:  # type: ignore[no-untyped-def]
    api = factories.ticket(db, source_channel="open311", summary="Pothole reported at 1 Hampshire St.",
                           description="Deep hole by the curb. Call me 617-555-0142 or mail ann@example.org")  # fmt: skip
    social = factories.ticket(db, source_channel="x_mention", description="raw post words @someone")
    db.commit()
    html = client.get(f"/tickets/{api.id}").get_data(as_text=True)
    assert "Deep hole by the curb." in html and REMOVED in html
    assert "617-555-0142" not in html and "ann@example.org" not in html
    assert "raw post words" not in client.get(f"/tickets/{social.id}").get_data(as_text=True)


def test_ticket_feed_has_one_entry_per_public_change_with_stable_ids(client, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, address="1 Hampshire St", summary="Pothole in the crosswalk.")
    change_status(db, t, TicketStatus.ACKNOWLEDGED, replies=factories.replies(),
                  note=EventNote(public="Inspector will visit Tuesday.", internal="INTERNAL: budget code 42"))  # fmt: skip
    record_event(db, t, "note", EventNote(internal="INTERNAL only"))
    db.commit()
    first = client.get(f"/tickets/{t.id}/feed.atom")
    root = _atom(first)
    entries = _entries(root)
    assert len(entries) == 2 and entries[0][1].startswith("Acknowledged")  # newest first
    assert entries[0][2] == "Inspector will visit Tuesday." and entries[1][1].startswith("Reported")
    assert all(e[0].startswith("tag:127.0.0.1,2026:ticket-") for e in entries)
    assert b"INTERNAL" not in first.data
    assert root.find(A + "link[@rel='self']").get("href").endswith(f"/tickets/{t.id}/feed.atom")  # type: ignore[union-attr]
    assert root.findtext(A + "updated") == root.find(A + "entry").findtext(A + "updated")  # type: ignore[union-attr]
    # HTTP caching as the other public reads: a weak ETag, public max-age, 304 while nothing changed.
    assert first.headers["ETag"].startswith("W/") and "public" in first.headers["Cache-Control"]
    again = client.get(f"/tickets/{t.id}/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    change_status(db, t, TicketStatus.RESOLVED, replies=factories.replies(), note=EventNote(public="Filled."))
    db.commit()
    later = client.get(f"/tickets/{t.id}/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    newer = _entries(_atom(later))
    assert len(newer) == 3 and newer[0][2] == "Filled." and newer[1:] == entries  # old ids unchanged


def test_ticket_feed_follows_the_page_for_missing_hidden_and_rejected(client, db) -> None:  # type: ignore[no-untyped-def]
    new = factories.ticket(db, status=TicketStatus.NEW, public_note="")
    hidden = factories.ticket(db, summary="Something rude about a neighbour.", address="1 Hampshire St")
    change_status(db, hidden, TicketStatus.HIDDEN, replies=factories.replies())
    rejected = factories.ticket(db, summary="Pothole in the crosswalk.")
    change_status(db, rejected, TicketStatus.REJECTED, replies=factories.replies())
    db.commit()
    for missing in (f"/tickets/{new.id}/feed.atom", "/tickets/999999/feed.atom"):
        resp = client.get(missing)
        assert resp.status_code == 404 and b"No public report with this number." in resp.data
    assert client.get("/tickets/99999999999/feed.atom").status_code == 404  # beyond an id column
    withdrawn = _atom(client.get(f"/tickets/{hidden.id}/feed.atom"))
    body = ET.tostring(withdrawn, encoding="unicode")
    assert len(withdrawn.findall(A + "entry")) == 1 and "Removed from public view" in body
    assert "rude" not in body and "Hampshire" not in body
    ended = _entries(_atom(client.get(f"/tickets/{rejected.id}/feed.atom")))
    assert ended[0][1].startswith("Closed without action") and "not something the city" in ended[0][2]


def _area_ticket(db, code: str, lat: float, lon: float, **kw):  # type: ignore[no-untyped-def]
    return factories.ticket(db, code, lat=lat, lon=lon, address=kw.pop("address", f"{lat},{lon}"), **kw)


def test_area_feed_by_box_circle_and_service(client, db) -> None:  # type: ignore[no-untyped-def]
    inside = _area_ticket(db, "pothole", 42.3707, -71.0975)
    inside_snow = _area_ticket(db, "snow_ice", 42.3710, -71.0980)
    far = _area_ticket(db, "pothole", 42.3900, -71.1300)
    rejected = _area_ticket(db, "pothole", 42.3708, -71.0976)
    change_status(db, rejected, TicketStatus.REJECTED, replies=factories.replies())
    hidden = _area_ticket(db, "pothole", 42.3709, -71.0977)
    change_status(db, hidden, TicketStatus.HIDDEN, replies=factories.replies())
    change_status(db, inside, TicketStatus.ACKNOWLEDGED, replies=factories.replies(),
                  note=EventNote(public="Crew on Thursday."))  # fmt: skip
    db.commit()

    def ids(query: str) -> list[int]:
        root = _atom(client.get("/feed.atom" + query))
        links = [e.find(A + "link") for e in root.findall(A + "entry")]
        return [int((link.get("href") or "").rsplit("/", 1)[1]) for link in links if link is not None]

    box = "?bbox=-71.10,42.369,-71.095,42.372"
    assert ids(box) == [inside.id, inside_snow.id]  # the most recently changed first
    assert ids(box + "&service=snow_ice") == [inside_snow.id]
    assert ids("?lat=42.3707&long=-71.0975&radius=100") == [inside.id, inside_snow.id]
    assert set(ids("")) == {inside.id, inside_snow.id, far.id}  # the city; never rejected or hidden
    summary = _entries(_atom(client.get("/feed.atom" + box)))[0][2]
    assert "Crew on Thursday." in summary and f"CT-{inside.id}" in summary
    # The same area spelled differently is the same feed.
    a = _atom(client.get("/feed.atom?bbox=-71.1,42.369,-71.095,42.372")).findtext(A + "id")
    b = _atom(client.get("/feed.atom?bbox=-71.100000,42.3690,-71.0950,42.372")).findtext(A + "id")
    assert a == b and a != _atom(client.get("/feed.atom")).findtext(A + "id")


@pytest.mark.parametrize(
    ("query", "says"),
    [
        ("?bbox=1,2,3", "four numbers"),
        ("?bbox=a,b,c,d", "decimal number"),
        ("?bbox=-71.09,42.36,-71.10,42.37", "minLon below maxLon"),
        ("?bbox=-71.1,42.36,-71.09,95", "between -90 and 90"),
        ("?bbox=nan,42.36,-71.09,42.37", "between -180 and 180"),
        ("?lat=42.37", "together"),
        ("?lat=42.37&long=-71.1&radius=50000", "radius must be a whole number from 1 to 20000"),
        ("?lat=42.37&long=-71.1&radius=-5", "radius must be"),
        ("?radius=100", "radius needs lat and long"),
        ("?lat=42.37&long=-71.1&bbox=-71.1,42.36,-71.09,42.37", "not both"),
        ("?service=nope", "Unknown service"),
    ],
)
def test_area_feed_bad_input_is_a_400_with_a_sentence(client, db, query: str, says: str) -> None:  # type: ignore[no-untyped-def]
    resp = client.get("/feed.atom" + query)
    assert resp.status_code == 400 and says in resp.get_data(as_text=True)


def test_area_feed_of_a_huge_area_is_bounded_to_the_newest(client, db) -> None:  # type: ignore[no-untyped-def]
    base = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    made = [factories.ticket(db, now=base + dt.timedelta(minutes=i)).id for i in range(55)]
    db.commit()
    root = _atom(client.get("/feed.atom?bbox=-180,-90,180,90"))
    links = [(e.find(A + "link").get("href") or "") for e in root.findall(A + "entry")]  # type: ignore[union-attr]
    assert (
        len(links) == 50
        and links[0].endswith(f"/tickets/{made[-1]}")
        and links[-1].endswith(f"/tickets/{made[5]}")
    )


def test_dm_report_never_reaches_the_page_or_feeds(client, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, "pothole", lat=42.3712345, lon=-71.0987654, private_location=True,
                         address="12 Elmwood Priv Ln", street="Hampshire St", line=SPAN,
                         summary="Pothole reported on Hampshire St.", source_channel="x_dm",
                         description="huge pothole outside my house, call me 617-555-0199")  # fmt: skip
    reporter = Reporter(channel="x", external_id="990011", handle="secret_handle_zz", phone="617-555-0199")
    db.add(reporter)
    db.flush()
    post = InboundPost(
        channel="x", external_id="dm-1", kind="dm", author_id="990011", author_handle="secret_handle_zz",
        reporter_id=reporter.id, is_dm=True, ticket_id=t.id,
        text="huge pothole outside my house at 12 Elmwood Priv Ln, call me 617-555-0199",
    )  # fmt: skip
    db.add(post)
    db.flush()
    db.add(Follower(ticket_id=t.id, reporter_id=reporter.id, post_id=post.id, channel="x", is_dm=True))
    change_status(
        db, t, TicketStatus.ACKNOWLEDGED, replies=factories.replies(), note=EventNote(public="Seen.")
    )
    db.commit()
    bodies = {
        "page": client.get(f"/tickets/{t.id}").get_data(as_text=True),
        "ticket feed": _atom(client.get(f"/tickets/{t.id}/feed.atom")) and client.get(f"/tickets/{t.id}/feed.atom").get_data(as_text=True),
        "area feed": client.get("/feed.atom?bbox=-71.11,42.36,-71.09,42.38").get_data(as_text=True),
        "circle feed": client.get("/feed.atom?lat=42.371&long=-71.099&radius=300").get_data(as_text=True),
    }  # fmt: skip
    assert "Hampshire St (block level)" in bodies["area feed"] and "Seen." in bodies["ticket feed"]
    for name, body in bodies.items():
        for secret in (
            "secret_handle_zz",
            "617-555-0199",
            "outside my house",
            "Elmwood",
            "42.37123",
            "71.09876",
        ):
            assert secret not in body, (name, secret)


def test_redact_contacts_and_parse_linestring() -> None:
    text = "Call 617-555-0199, (617) 555 0100, +1 617.555.0101, +44 20 7946 0958 or jo.doe+x@mail.example.com"
    assert redact_contacts(text) == f"Call {REMOVED}, {REMOVED}, {REMOVED}, {REMOVED} or {REMOVED}"
    kept = "Pothole at 1234 Massachusetts Ave since 2026-12-01, about 30 cm wide"
    assert redact_contacts(kept) == kept
    assert parse_linestring("LINESTRING(-71.1 42.3,-71.2 42.4)") == [(-71.1, 42.3), (-71.2, 42.4)]
    assert parse_linestring("LINESTRING Z (1 2 3, 4 5 6)") == [(1.0, 2.0), (4.0, 5.0)]
    for bad in ("POINT(1 2)", "LINESTRING(1 2)", "LINESTRING(1 x, 2 3)", "LINESTRING(nan 1, 2 3)", "garbage"):
        assert parse_linestring(bad) == []
