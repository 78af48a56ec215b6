"""The ticket page (reports, followers, outbox, reasons) and its audited actions: status, assign, merge, move."""

from __future__ import annotations

import re

from console_helpers import logged_in
from sqlalchemy import select

from civictracker.models import Follower, InboundPost, OutboundMessage, Reporter, TicketEvent
from tests import factories


def _with_report(db):
    t = factories.ticket(
        db,
        summary="Pothole reported on Hampshire St",
        triage={"keywords": ["pothole"], "score": 0.93},
    )
    t.geocode_reason = "intersection of Hampshire St and Windsor St"
    reporter = Reporter(channel="x", external_id="42", handle="resident_handle")
    db.add(reporter)
    db.flush()
    post = InboundPost(
        channel="x",
        external_id="p1",
        kind="dm",
        author_id="42",
        author_handle="resident_handle",
        is_dm=True,
        text="big hole outside my house at 12 Hampshire",
        ticket_id=t.id,
        reporter_id=reporter.id,
    )
    db.add(post)
    db.flush()
    follower = Follower(ticket_id=t.id, reporter_id=reporter.id, post_id=post.id, channel="x", is_dm=True)
    db.add(follower)
    db.flush()
    db.add(
        OutboundMessage(
            idempotency_key="k1",
            channel="x",
            kind="ack",
            ticket_id=t.id,
            follower_id=follower.id,
            recipient_id="42",
            recipient_handle="resident_handle",
            text="Thanks, we logged CT report",
            is_dm=True,
        )
    )
    db.commit()
    return t


def test_ticket_page_shows_reports_followers_outbox_and_reasons(client, db):
    t = _with_report(db)
    logged_in(client, db)
    r = client.get(f"/console/tickets/{t.id}")
    assert r.status_code == 200
    for text in [
        b"big hole outside my house",
        b"resident_handle",
        b"Thanks, we logged CT report",
        b"intersection of Hampshire St and Windsor St",
        b"0.93",
    ]:
        assert text in r.data, text
    assert client.get("/console/tickets/999999").status_code == 404


def test_status_change_offers_only_allowed_transitions_and_is_audited(client, db):
    t = factories.ticket(db)
    db.commit()
    user = logged_in(client, db)
    page = client.get(f"/console/tickets/{t.id}").data.decode()
    select_html = re.search(r'<select id="status-to_status".*?</select>', page, re.S).group(0)
    assert 'value="acknowledged"' in select_html and 'value="reopened"' not in select_html
    assert 'value="duplicate"' not in select_html  # merging is its own action
    r = client.post(
        f"/console/tickets/{t.id}/status",
        data={
            "status-to_status": "acknowledged",
            "status-public_note": "<script>alert(1)</script> looking",
            "status-internal_note": "called the yard",
        },
    )
    assert r.status_code == 302
    db.expire_all()
    assert t.status == "acknowledged"
    event = db.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id.desc())
    ).first()
    assert (event.actor_user_id, event.internal_note, event.is_public) == (user.id, "called the yard", True)
    page = client.get(f"/console/tickets/{t.id}").data
    assert b"<script>alert(1)</script>" not in page and b"&lt;script&gt;" in page


def test_refused_status_changes_change_nothing(client, db):
    t = factories.ticket(db)
    db.commit()
    logged_in(client, db)
    n_events = len(t.events)
    for data in [
        {"status-to_status": "reopened"},  # not allowed from open
        {"status-to_status": "open' OR 1=1 --"},
        {"status-to_status": "resolved", "status-public_note": "x" * 2001},
    ]:
        r = client.post(f"/console/tickets/{t.id}/status", data=data)
        assert r.status_code == 400, data
    db.expire_all()
    assert t.status == "open" and len(t.events) == n_events


def test_assign_suggests_nearest_available_crews_with_distances(client, db):
    near = factories.crew(db, "Near", 42.3710, -71.0980)
    factories.crew(db, "Far", 42.3886, -71.1190)
    busy = factories.crew(db, "Busy", 42.3708, -71.0976)
    busy.available = False
    t = factories.ticket(db)
    db.commit()
    user = logged_in(client, db)
    page = client.get(f"/console/tickets/{t.id}").data.decode()
    suggestions = re.search(r'<ul class="suggestions"[^>]*>(.*?)</ul>', page, re.S).group(1)
    assert suggestions.index("Near") < suggestions.index("Far") and "Busy" not in suggestions
    assert re.search(r"Near — \d+ m", suggestions) and re.search(r"Far — \d\.\d km", suggestions)
    r = client.post(f"/console/tickets/{t.id}/assign", data={"assign-crew_id": near.id})
    assert r.status_code == 302
    db.expire_all()
    assert (t.status, t.crew_id) == ("assigned", near.id)
    assert t.events[-1].actor_user_id == user.id
    assert client.post(f"/console/tickets/{t.id}/assign", data={"assign-crew_id": 99999}).status_code == 400
    assert client.post(f"/console/tickets/{t.id}/assign", data={"assign-crew_id": "x"}).status_code == 400
    db.expire_all()
    assert t.crew_id == near.id


def test_merge_two_tickets(client, db):
    a, b = factories.ticket(db), factories.ticket(db)
    db.commit()
    logged_in(client, db)
    r = client.post(f"/console/tickets/{a.id}/merge", data={"merge-into_id": b.id})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/console/tickets/{b.id}")
    db.expire_all()
    assert (a.status, a.duplicate_of_id, b.report_count) == ("duplicate", b.id, 2)
    assert client.post(f"/console/tickets/{b.id}/merge", data={"merge-into_id": b.id}).status_code == 400
    assert client.post(f"/console/tickets/{b.id}/merge", data={"merge-into_id": 424242}).status_code == 400
    db.expire_all()
    assert b.status == "open"


def test_move_pin_takes_the_street_under_it_and_tells_followers(client, db):
    t = factories.ticket(db, address="Hampshire St & Windsor St", street="Hampshire St", segment_id="old")
    db.commit()
    user = logged_in(client, db)
    # Mass Ave at Porter: 2.5 km away; the pin must not keep Hampshire St.
    data = {"loc-lat": "42.3886", "loc-lon": "-71.1190", "loc-public_note": "Moved to where the hole is."}
    r = client.post(f"/console/tickets/{t.id}/location", data=data)
    assert r.status_code == 302
    db.expire_all()
    assert (round(t.lat, 4), round(t.lon, 4), t.precision) == (42.3886, -71.119, "manual")
    assert t.street and t.street != "Hampshire St" and t.segment_id not in (None, "old")
    event = t.events[-1]
    assert (
        event.kind == "relocated" and event.actor_user_id == user.id and event.data["from"]["lat"] == 42.3707
    )
    assert event.is_public and "Moved to where the hole is." in event.public_note
    r = client.post(f"/console/tickets/{t.id}/location", data={"loc-place": "Hampshire St and Inman St"})
    assert r.status_code == 302
    db.expire_all()
    assert t.precision == "intersection" and abs(t.lat - 42.3735) < 0.002
    for bad in [
        {"loc-lat": "200", "loc-lon": "0"},
        {"loc-lat": "1; DROP TABLE tickets", "loc-lon": "0"},
        {},
        {"loc-place": "zzqx nowhere"},
        {"loc-lat": "42.2", "loc-lon": "-71.5"},  # outside the city
    ]:
        assert client.post(f"/console/tickets/{t.id}/location", data=bad).status_code == 400
    db.expire_all()
    assert t.precision == "intersection"


def test_correct_category_and_urgency_from_the_ticket_page(client, db):
    t = factories.ticket(db)
    db.commit()
    logged_in(client, db)
    page = client.get(f"/console/tickets/{t.id}").data.decode()
    assert 'id="correct-form"' in page and 'value="streetlight"' in page
    data = {"fix-service_code": "streetlight", "fix-urgency": "urgent", "fix-public_note": "It is the lamp."}
    assert client.post(f"/console/tickets/{t.id}/correct", data=data).status_code == 302
    db.expire_all()
    assert (t.service.code, t.priority) == ("streetlight", 1)
    assert [e.kind for e in t.events[-2:]] == ["recategorized", "reprioritized"]
    assert client.post(f"/console/tickets/{t.id}/correct", data={}).status_code == 400  # nothing to correct
    bad = {"fix-service_code": "no_such_service"}
    assert client.post(f"/console/tickets/{t.id}/correct", data=bad).status_code == 400


def test_the_page_shows_the_followers_languages_and_takes_a_note_in_each(client, db):
    t = factories.ticket(db)
    for lang in ("es", "ht"):
        reporter = Reporter(channel="replay", external_id=f"r-{lang}", handle=f"h_{lang}")
        db.add(reporter)
        db.flush()
        db.add(Follower(ticket_id=t.id, reporter_id=reporter.id, channel="replay", lang=lang))
    db.commit()
    logged_in(client, db)
    page = client.get(f"/console/tickets/{t.id}").data.decode()
    assert "Followers read: ES, HT." in page
    assert 'name="status-note_es"' in page and 'name="status-note_ht"' in page
    assert 'name="status-note_pt"' not in page and 'name="fix-note_es"' in page
    data = {
        "status-to_status": "in_progress",
        "status-public_note": "The crew is on its way.",
        "status-note_es": "El equipo va en camino.",
    }
    assert client.post(f"/console/tickets/{t.id}/status", data=data).status_code == 302
    texts = {
        m.lang: m.text for m in db.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == t.id))
    }
    assert "El equipo va en camino." in texts["es"] and "on its way" not in texts["es"]
    assert "Nòt ekip la (an angle): The crew is on its way." in texts["ht"]
    data["status-to_status"], data["status-note_es"] = "resolved", "x" * 2001
    r = client.post(f"/console/tickets/{t.id}/status", data=data)
    assert r.status_code == 400 and "The es note is 2001 characters" in r.data.decode()
