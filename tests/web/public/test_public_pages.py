"""The public map page and ticket page: no embedded tickets, public timeline, 404s, escaping, privacy."""

from __future__ import annotations

import json

from civictracker.geo import maps
from civictracker.models import Follower, InboundPost, Reporter, TicketStatus
from civictracker.services.tickets import EventNote, change_status, merge_tickets, record_event
from tests import factories


def test_map_page_has_map_filters_legend_and_no_tickets(client, db) -> None:  # type: ignore[no-untyped-def]
    factories.ticket(db, address="77 Unique Test Ave", summary="Deep pothole by the hydrant.")
    db.commit()
    resp = client.get("/")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Unique Test Ave" not in html and "hydrant" not in html  # tickets come from the endpoint only
    assert "/api/map.geojson" in html and 'data-ct-map="public"' in html
    assert "OpenStreetMap</a> contributors" in html
    assert 'name="service"' in html and 'name="status"' in html and 'name="max_age_days"' in html
    assert "Legend" in html and "Pothole" in html
    assert "cdn." not in html  # Leaflet is served by the app, not a CDN
    assert "public" in resp.headers["Cache-Control"]
    assert len(resp.data) < 300_000
    assert client.get("/static/public/vendor/leaflet/leaflet.js").status_code == 200


def test_ticket_page_shows_public_timeline_in_city_time(client, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, address="1 Hampshire St", summary="Pothole in the crosswalk.")
    change_status(db, t, TicketStatus.ACKNOWLEDGED, replies=factories.replies(),
                  note=EventNote(public="Inspector will visit Tuesday.", internal="INTERNAL: budget code 42"))  # fmt: skip
    record_event(db, t, "note", EventNote(internal="INTERNAL only, not public"))
    t.report_count = 4
    db.commit()
    resp = client.get(f"/tickets/{t.id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "Pothole in the crosswalk." in html and "1 Hampshire St" in html
    assert "Inspector will visit Tuesday." in html and "Acknowledged" in html
    assert "reported by 4 residents" in html
    assert "INTERNAL" not in html
    assert ("EST" in html) or ("EDT" in html)  # America/New_York, not UTC
    assert 'id="timeline"' in html and html.count("<time") >= 3
    assert "map_ticket" in html  # the small map


def test_rejected_ticket_keeps_its_page_with_the_reason(client, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, summary="Pothole in the crosswalk.")
    change_status(db, t, TicketStatus.REJECTED, replies=factories.replies())
    db.commit()
    resp = client.get(f"/tickets/{t.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Closed without action" in html
    assert 'id="ending-reason"' in html and "not something the city" in html
    geo = client.get("/api/map.geojson?status=all").get_json()
    assert t.id not in [f["properties"].get("id") for f in geo.get("features", [])]


def test_hidden_ticket_says_only_that_it_was_withdrawn(client, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, summary="Something rude about a neighbour.", address="1 Hampshire St")
    change_status(db, t, TicketStatus.HIDDEN, replies=factories.replies())
    db.commit()
    resp = client.get(f"/tickets/{t.id}")
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Removed from public view" in html
    assert "rude" not in html and "1 Hampshire St" not in html and "map_ticket" not in html


def test_intake_states_and_missing_ticket_are_404(client, db) -> None:  # type: ignore[no-untyped-def]
    new = factories.ticket(db, status=TicketStatus.NEW, public_note="")  # no default note for new
    waiting = factories.ticket(db, status=TicketStatus.NEEDS_LOCATION, lat=None, lon=None)
    db.commit()
    assert client.get(f"/tickets/{new.id}").status_code == 404
    assert client.get(f"/tickets/{waiting.id}").status_code == 404
    assert client.get("/tickets/999999").status_code == 404
    assert client.get("/tickets/abc").status_code == 404


def test_duplicate_links_to_the_ticket_it_was_merged_into(client, db) -> None:  # type: ignore[no-untyped-def]
    into = factories.ticket(db)
    dup = factories.ticket(db, lat=42.3708, lon=-71.0974)
    merge_tickets(db, dup, into, replies=factories.replies())
    db.commit()
    html = client.get(f"/tickets/{dup.id}").get_data(as_text=True)
    assert f'href="/tickets/{into.id}"' in html and "merged into" in html


def test_user_content_is_escaped(client, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, summary="<script>alert('s')</script>", address="<img src=x onerror=alert(1)>")
    change_status(
        db,
        t,
        TicketStatus.ACKNOWLEDGED,
        note=EventNote(public="<b onmouseover=alert(2)>hi</b>"),
        replies=factories.replies(),
    )
    db.commit()
    html = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html and "<b onmouseover" not in html
    assert "&lt;script&gt;" in html
    resp = client.get("/api/map.geojson?bbox=-71.1,42.369,-71.095,42.372&zoom=18")
    # The title is data in JSON (the map's script sets it with textContent), never served as HTML.
    assert resp.get_json()["features"][0]["properties"]["title"].endswith("<img src=x onerror=alert(1)>")
    assert resp.mimetype == "application/geo+json" and resp.headers["X-Content-Type-Options"] == "nosniff"


def test_dm_report_never_leaks_handle_text_phone_or_exact_point(client, db) -> None:  # type: ignore[no-untyped-def]
    exact_lat, exact_lon = 42.3712345, -71.0987654
    t = factories.ticket(
        db,
        "pothole",
        lat=exact_lat,
        lon=exact_lon,
        private_location=True,
        address="12 Elmwood Priv Ln",
        street="Hampshire St",
        summary="Pothole reported on Hampshire St.",
        source_channel="x_dm",
    )
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
    db.commit()
    page = client.get(f"/tickets/{t.id}").get_data(as_text=True)
    geo_points = client.get("/api/map.geojson?bbox=-71.11,42.36,-71.09,42.38&zoom=18").get_data(as_text=True)
    geo_clusters = client.get("/api/map.geojson?zoom=13").get_data(as_text=True)
    index = client.get("/").get_data(as_text=True)
    assert "Hampshire St (block level)" in page and "Pothole reported on Hampshire St." in page
    assert f"/tickets/{t.id}" in geo_points
    for body in (page, geo_points, geo_clusters, index):
        for secret in (
            "secret_handle_zz",
            "617-555-0199",
            "outside my house",
            "Elmwood",
            "42.37123",
            "71.09876",
        ):
            assert secret not in body
    # The public point is the block-level one (about 110 m grid), not the house.
    feature = json.loads(geo_points)["features"][0]
    assert feature["geometry"]["coordinates"] == [-71.099, 42.371]


def test_pin_move_map_fills_inputs_and_escapes_config() -> None:
    parts = maps.ticket_map_html(maps.TicketMap(42.37, -71.1, draggable=True, lat_input_id="lat",
                                 lon_input_id="lon", label="</script><script>alert(1)</script>"))  # fmt: skip
    assert '"draggable":true' in parts.script and '"latInput":"lat"' in parts.script
    assert "</script><script>alert" not in parts.script
    assert parts.html.count("<div") == 1 and parts.name in parts.html
    assert "leaflet.js" in parts.header and "OpenStreetMap" in parts.script
    static = maps.ticket_map_html(maps.TicketMap(42.37, -71.1))
    assert '"draggable":false' in static.script
