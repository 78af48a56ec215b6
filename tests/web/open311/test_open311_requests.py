"""GET /requests and /requests/{id}: filters, defaults, paging, ordering, extensions and what stays private."""

from __future__ import annotations

import datetime as dt

from civictracker.models import Follower, InboundPost, Reporter, TicketStatus
from civictracker.models.types import utcnow
from civictracker.services.tickets import EventNote, change_status, merge_tickets
from tests import factories
from tests.web.open311.conftest import W3C, bulk_tickets, get, xml_root


def _ids(response):
    assert response.status_code == 200, response.data
    return [r["service_request_id"] for r in response.get_json()]


def _w3c(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_t22_service_request_id_overrides_all_other_arguments(client, db):
    now = utcnow()
    a = factories.ticket(db, now=now - dt.timedelta(days=200))  # outside the default window
    b = factories.ticket(db, "graffiti")
    other = factories.ticket(db)
    db.commit()
    got = _ids(
        get(
            client,
            "/requests.json",
            service_request_id=f"{a.id}, CT-{b.id}",
            status="closed",
            service_code="trash",
            page="9",
            page_size="1",
            start_date=_w3c(now),
        )
    )
    assert sorted(got) == sorted([str(a.id), str(b.id)])
    assert str(other.id) not in got


def test_t23_default_window_is_90_days_and_t25_longer_span_is_400(client, db):
    now = utcnow()
    old = factories.ticket(db, now=now - dt.timedelta(days=91))
    recent = factories.ticket(db, now=now - dt.timedelta(days=89))
    db.commit()
    assert _ids(get(client, "/requests.json")) == [str(recent.id)]
    # An explicit window that reaches back may find it; one longer than 90 days is refused.
    found = _ids(
        get(
            client,
            "/requests.json",
            start_date=_w3c(now - dt.timedelta(days=95)),
            end_date=_w3c(now - dt.timedelta(days=90)),
        )
    )
    assert found == [str(old.id)]
    response = get(client, "/requests.json", start_date=_w3c(now - dt.timedelta(days=91)), end_date=_w3c(now))
    assert response.status_code == 400
    assert "90 days" in response.get_json()[0]["description"]
    assert (
        get(
            client, "/requests.json", start_date=_w3c(now), end_date=_w3c(now - dt.timedelta(days=1))
        ).status_code
        == 400
    )
    # The spec requires a zone: a naive datetime is refused; an unescaped "+" (a space) is understood.
    assert get(client, "/requests.json", start_date="2026-01-01T00:00:00").status_code == 400
    assert get(client, "/requests.json", start_date="2026-13-01T00:00:00Z").status_code == 400
    start = (now - dt.timedelta(days=95)).astimezone(dt.timezone(dt.timedelta(hours=5)))
    spaced = start.strftime("%Y-%m-%dT%H:%M:%S") + " 05:00"  # only start: the window is start + 90 days
    assert _ids(get(client, "/requests.json", start_date=spaced)) == [str(recent.id), str(old.id)]


def test_t24_default_answer_is_a_page_of_50_and_t30_newest_first(client, db):
    bulk_tickets(db, 1005)
    response = get(client, "/requests.json")
    body = response.get_json()
    assert len(body) == 50  # the spec's "first 1000" is a maximum; ours is the first page
    assert len(response.data) <= 64 * 1024
    assert response.headers["Link"] == (
        '</open311/v2/requests.json?page=1&page_size=50>; rel="first", '
        '</open311/v2/requests.json?page=2&page_size=50>; rel="next"'
    )
    requested = [r["requested_datetime"] for r in body]
    assert requested == sorted(requested, reverse=True)
    ids = [int(r["service_request_id"]) for r in body]
    assert ids == sorted(ids)  # bulk rows are one second apart, the newest inserted first
    assert len(xml_root(get(client, "/requests.xml")).findall("request")) == 50
    # Walking the next links reaches every request once, newest first, and the last page names no next.
    seen, url, pages = [], "/open311/v2/requests.json?page_size=500&status=open", 0
    while url:
        page = client.get(url)
        seen += [int(r["service_request_id"]) for r in page.get_json()]
        nxt = [part for part in page.headers["Link"].split(", ") if part.endswith('rel="next"')]
        url = nxt[0][1 : nxt[0].index(">")] if nxt else ""
        pages += 1
        assert "status=open" in page.headers["Link"]
    assert pages == 3 and len(seen) == len(set(seen)) == 1005


def test_t26_status_filter_open_closed_and_both(client, db):
    open_one = factories.ticket(db)
    in_progress = factories.ticket(db)
    change_status(db, in_progress, "in_progress", replies=factories.replies())
    closed_one = factories.ticket(db)
    change_status(db, closed_one, "resolved", replies=factories.replies())
    referred = factories.ticket(db)
    change_status(db, referred, "referred", replies=factories.replies())
    db.commit()
    assert sorted(_ids(get(client, "/requests.json", status="open"))) == sorted(
        [str(open_one.id), str(in_progress.id)]
    )
    assert sorted(_ids(get(client, "/requests.json", status="closed"))) == sorted(
        [str(closed_one.id), str(referred.id)]
    )
    both = _ids(get(client, "/requests.json", status="open,closed"))
    assert len(both) == 4 and sorted(both) == sorted(_ids(get(client, "/requests.json")))
    statuses = {r["service_request_id"]: r["status"] for r in get(client, "/requests.json").get_json()}
    assert statuses[str(in_progress.id)] == "open" and statuses[str(referred.id)] == "closed"


def test_t27_closed_updated_datetime_is_the_closing_time_and_t4_datetimes(client, db):
    created = utcnow() - dt.timedelta(days=3, microseconds=-123456)
    ticket = factories.ticket(db, now=created)
    closed_at = created + dt.timedelta(days=1, hours=2)
    change_status(db, ticket, "resolved", now=closed_at, replies=factories.replies())
    from civictracker.services.tickets import record_event

    record_event(db, ticket, "note", EventNote(internal="later"), now=closed_at + dt.timedelta(hours=5))
    open_ticket = factories.ticket(db)
    db.commit()
    body = {r["service_request_id"]: r for r in get(client, "/requests.json").get_json()}
    closed = body[str(ticket.id)]
    assert closed["status"] == "closed"
    assert dt.datetime.fromisoformat(closed["updated_datetime"]) == closed_at.replace(microsecond=0)
    for request in body.values():
        for key in ("requested_datetime", "updated_datetime", "expected_datetime"):
            if key in request:
                assert W3C.match(request[key]), request[key]
        # The city's own time zone (America/New_York): -04:00 or -05:00.
        assert request["requested_datetime"][-6:] in ("-04:00", "-05:00")
    assert "expected_datetime" in body[str(open_ticket.id)]
    for element in xml_root(get(client, "/requests.xml")).iter():
        if element.tag.endswith("_datetime"):
            assert W3C.match(element.text or ""), element.text


def test_t28_t32_non_public_states_never_appear(client, db):
    visible = factories.ticket(db)
    hidden = factories.ticket(db)
    change_status(db, hidden, "hidden", replies=factories.replies())
    rejected = factories.ticket(db)
    change_status(db, rejected, "rejected", replies=factories.replies())
    new = factories.ticket(db, status=TicketStatus.NEW, public_note="")  # no default note for new
    needs_location = factories.ticket(db, status=TicketStatus.NEEDS_LOCATION, lat=None, lon=None)
    db.commit()
    assert _ids(get(client, "/requests.json", status="open,closed")) == [str(visible.id)]
    listed = _ids(
        get(
            client,
            "/requests.json",
            service_request_id=",".join(str(t.id) for t in (visible, hidden, rejected, new, needs_location)),
        )
    )
    assert listed == [str(visible.id)]
    for ticket in (hidden, rejected, new, needs_location):
        response = get(client, f"/requests/{ticket.id}.json")
        assert response.status_code == 404  # 404, not 403: existence is not leaked
        assert response.get_json()[0]["code"] == 404


def test_t29_no_reporter_data_exact_point_or_dm_text(client, db):
    exact = (42.37071, -71.09753)
    ticket = factories.ticket(
        db,
        lat=exact[0],
        lon=exact[1],
        private_location=True,
        source_channel="x_dm",
        summary="Pothole reported near Hampshire St",
        description="dm words: pothole outside my door",
        location_text="outside 12 my-home st",
    )
    reporter = Reporter(
        channel="x",
        external_id="999",
        handle="@secret_handle",
        email="me@example.org",
        phone="+1 617 555 0100",
    )
    db.add(reporter)
    db.flush()
    db.add(
        InboundPost(
            channel="x",
            external_id="p1",
            kind="dm",
            author_id="999",
            author_handle="@secret_handle",
            is_dm=True,
            text="dm words: pothole outside my door",
            ticket_id=ticket.id,
            reporter_id=reporter.id,
        )
    )
    db.add(Follower(ticket_id=ticket.id, reporter_id=reporter.id, channel="x", is_dm=True))
    db.commit()
    for path in ("/requests.json", f"/requests/{ticket.id}.json", "/requests.xml"):
        raw = get(client, path, extensions="true").data.decode()
        for secret in (
            "secret_handle",
            "me@example.org",
            "555",
            "dm words",
            "my-home",
            "42.37071",
            "-71.09753",
        ):
            assert secret not in raw, (path, secret)
    request = get(client, f"/requests/{ticket.id}.json").get_json()[0]
    assert request["description"] == "Pothole reported near Hampshire St"
    assert (request["lat"], request["long"]) == (round(exact[0], 3), round(exact[1], 3))


def test_t31_unknown_id_is_404(client, db):
    ticket = factories.ticket(db)
    db.commit()
    assert get(client, f"/requests/{ticket.id + 1000}.json").status_code == 404
    ok = get(client, f"/requests/{ticket.id}.xml")
    assert ok.status_code == 200
    assert xml_root(ok).find("request/service_request_id").text == str(ticket.id)


def test_t34_t35_paging_is_one_based_default_50_max_500(client, db):
    bulk_tickets(db, 57)
    everything = _ids(get(client, "/requests.json", page_size="500"))
    assert len(everything) == 57
    assert _ids(get(client, "/requests.json")) == everything[:50]
    page1 = _ids(get(client, "/requests.json", page="1"))
    assert page1 == everything[:50]  # page_size defaults to 50
    assert _ids(get(client, "/requests.json", page="2")) == everything[50:]
    assert _ids(get(client, "/requests.json", page_size="20", page="3")) == everything[40:57]
    assert _ids(get(client, "/requests.json", page_size="500")) == everything
    assert _ids(get(client, "/requests.json", page="4", page_size="20")) == []  # out of range: empty
    for bad in ({"page": "0"}, {"page": "-1"}, {"page_size": "501"}, {"page_size": "0"}, {"page": "x"}):
        assert get(client, "/requests.json", **bad).status_code == 400, bad


def test_t36_extensions(client, db):
    original = factories.ticket(db, source_channel="x_mention", summary="Pothole on Hampshire St")
    duplicate = factories.ticket(db, source_channel="open311", description="Same hole")
    merge_tickets(db, duplicate, original, replies=factories.replies())
    change_status(
        db,
        original,
        "in_progress",
        note=EventNote(public="Crew on site.", internal="INTERNAL ONLY"),
        replies=factories.replies(),
    )
    db.commit()
    plain = get(client, f"/requests/{duplicate.id}.json").get_json()[0]
    assert "extended_attributes" not in plain and "notes" not in plain
    body = {r["service_request_id"]: r for r in get(client, "/requests.json", extensions="true").get_json()}
    dup = body[str(duplicate.id)]
    assert dup["status"] == "closed"
    assert dup["extended_attributes"]["duplicate"] is True
    assert dup["extended_attributes"]["parent_service_request_id"] == str(original.id)
    assert dup["extended_attributes"]["channel"] == "api"
    orig = body[str(original.id)]
    assert orig["extended_attributes"]["channel"] == "twitter_mention"
    assert orig["extended_attributes"]["duplicate"] is False
    assert orig["status_notes"] == "Crew on site."
    notes = orig["notes"]
    assert [n["type"] for n in notes] == ["opened", "activity"]
    assert notes[-1]["description"] == "Crew on site." and all(W3C.match(n["datetime"]) for n in notes)
    raw = get(client, "/requests.json", extensions="true").data.decode()
    assert "INTERNAL ONLY" not in raw and "merged in" not in raw  # internal notes stay internal
    root = xml_root(get(client, f"/requests/{original.id}.xml", extensions="true"))
    assert root.find("request/extended_attributes/channel").text == "twitter_mention"
    assert [n.find("type").text for n in root.findall("request/notes/note")] == ["opened", "activity"]
    assert get(client, "/requests.json", extensions="maybe").status_code == 400


def test_t37_updated_after_and_before(client, db):
    now = utcnow()
    early = factories.ticket(db, now=now - dt.timedelta(days=120))  # requested long ago, updated today
    change_status(db, early, "acknowledged", now=now - dt.timedelta(hours=1), replies=factories.replies())
    stale = factories.ticket(db, now=now - dt.timedelta(days=10))
    fresh = factories.ticket(db, now=now - dt.timedelta(minutes=5))
    db.commit()
    after = _ids(get(client, "/requests.json", updated_after=_w3c(now - dt.timedelta(hours=2))))
    assert sorted(after) == sorted([str(early.id), str(fresh.id)])
    before = _ids(get(client, "/requests.json", updated_before=_w3c(now - dt.timedelta(days=1))))
    assert before == [str(stale.id)]
    assert (
        get(
            client, "/requests.json", updated_after=_w3c(now), updated_before=_w3c(now - dt.timedelta(days=1))
        ).status_code
        == 400
    )


def test_service_code_filter(client, db):
    pothole = factories.ticket(db)
    graffiti = factories.ticket(db, "graffiti")
    factories.ticket(db, "trash")
    db.commit()
    got = _ids(get(client, "/requests.json", service_code="pothole,graffiti"))
    assert sorted(got) == sorted([str(pothole.id), str(graffiti.id)])
    response = get(client, "/requests.json", service_code="pothole,unknown_thing")
    assert response.status_code == 400 and "unknown_thing" in response.get_json()[0]["description"]
