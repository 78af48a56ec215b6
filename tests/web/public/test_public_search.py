"""The map's search box, the list of reports in view, street-wide tickets as lines, and how to report."""

from __future__ import annotations

import datetime as dt

import pytest

from civictracker.geo import maps
from civictracker.geo.geocode import distance_m
from civictracker.models import TicketStatus
from civictracker.runtime import runtime_of
from civictracker.services import public_howto
from civictracker.services.tickets import change_status
from tests import factories

STREET = "-71.1000,42.3695,-71.0950,42.3720"  # a few blocks around Hampshire & Windsor
# Hampshire St from Windsor St towards Inman Square: a stretch, as intake stores a "between" ticket.
STRETCH = [(-71.0975, 42.3707), (-71.0985, 42.3712), (-71.0995, 42.3717)]


def _search(client, q: str):  # type: ignore[no-untyped-def]
    resp = client.get("/api/search", query_string={"q": q})
    return resp, resp.get_json()


def test_search_finds_an_intersection_an_address_a_street_and_a_place(client, app) -> None:  # type: ignore[no-untyped-def]
    resp, data = _search(client, "Hampshire St and Prospect St")
    assert resp.status_code == 200 and "max-age" in resp.headers["Cache-Control"]
    first = data["matches"][0]
    assert (
        first["kind"] == "intersection"
        and "Hampshire St" in first["label"]
        and "Prospect St" in first["label"]
    )
    corner = runtime_of(app).gazetteer().intersections_of("Hampshire St", "Prospect St")[0]
    assert distance_m(tuple(first["point"]), (corner.lon, corner.lat)) < 30  # the street data's corner
    assert data["message"] == ""

    _, data = _search(client, "795 Massachusetts Ave")
    assert data["matches"][0]["kind"] == "address" and data["matches"][0]["zoom"] >= 17

    _, data = _search(client, "hampshire st")
    street = data["matches"][0]
    assert street["kind"] == "street" and len(street["bbox"]) == 4  # the map fits the whole street

    _, data = _search(client, "Central Square")
    assert data["matches"][0]["kind"] == "place"

    _, data = _search(client, "hamps")  # a partial name lists the streets it starts
    assert any(m["label"] == "Hampshire St" for m in data["matches"])


def test_search_by_report_number_links_the_public_page(client, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, address="1 Hampshire St")
    hidden = factories.ticket(db)
    change_status(db, hidden, TicketStatus.HIDDEN, replies=factories.replies())
    intake = factories.ticket(db, status=TicketStatus.NEW)
    db.commit()
    for q in (f"#{t.id}", str(t.id), f"  CT-{t.id} ", f"report {t.id}"):
        _, data = _search(client, q)
        assert [m["kind"] for m in data["matches"]] == ["ticket"], q
        match = data["matches"][0]
        assert match["url"] == f"/tickets/{t.id}" and match["point"] == [-71.0975, 42.3707]
        assert "Pothole" in match["label"] and "1 Hampshire St" in match["label"]
    for missing in (hidden.id, intake.id, 999_999, 99_999_999_999):
        resp, data = _search(client, f"#{missing}")
        assert resp.status_code == 200 and data["matches"] == []
        assert data["message"].startswith(f"No public report has the number {missing}. For an address,")


@pytest.mark.parametrize(
    ("q", "words"),
    [
        ("", "Type an address"),
        ("    ", "Type an address"),
        ("x" * 10_000, "10,000 characters"),
        ("<script>alert(1)</script>", "cannot contain"),
    ],
)
def test_search_refuses_what_is_no_search_with_a_sentence(client, q, words) -> None:  # type: ignore[no-untyped-def]
    resp, data = _search(client, q)
    assert resp.status_code == 400 and words in data["description"]
    assert "<script>" not in resp.get_data(as_text=True)
    assert client.get("/api/search").status_code == 400  # no q at all


def test_search_says_so_for_another_city_or_nothing_found(client) -> None:  # type: ignore[no-untyped-def]
    resp, data = _search(client, "Main St, Springfield")
    assert resp.status_code == 200 and data["matches"] == []
    assert data["message"] == "\u201cSpringfield\u201d is not in Cambridge: this map covers Cambridge only."
    _, data = _search(client, "Main St, Cambridge, MA 02139")  # this city, written in full
    assert data["matches"][0]["label"] == "Main St"
    _, data = _search(client, "1600 Pennsylvania Ave")
    assert data["matches"] == [] and data["message"].startswith(
        "No address, street, corner or place in Cambridge"
    )


def test_search_says_a_town_written_after_a_street_is_not_here(client) -> None:  # type: ignore[no-untyped-def]
    # No comma: "Springfield" after a full street name names no street, place or unit of Cambridge.
    _, data = _search(client, "Main St Springfield")
    assert data["message"] == (
        "\u201cSpringfield\u201d is not a street or place in Cambridge: this map covers Cambridge only."
        " Main St below is the one in Cambridge."
    )
    assert data["matches"][0]["label"] == "Main St"  # kept: the words may have been no town
    _, data = _search(client, "Massachusetts Ave Arlington MA")
    assert data["message"].startswith("\u201cArlington MA\u201d is not a street or place in Cambridge")
    # What this city has, or what is no town: no such sentence.
    for q in ("Main St Kendall", "Main St Harvard", "Hampshire St Cambridge", "Hampshire St apt 3",
              "Hampshire St potholes", "Hampshire St Windsor"):  # fmt: skip
        _, data = _search(client, q)
        assert "is not a street or place" not in data["message"], q
        assert data["matches"], q


def test_list_in_view_newest_first_with_public_places_only(client, db) -> None:  # type: ignore[no-untyped-def]
    old = factories.ticket(db, address="1 Hampshire St", now=dt.datetime.now(dt.UTC) - dt.timedelta(days=3))
    new = factories.ticket(db, "trash", lat=42.3708, lon=-71.0970, address="5 Windsor St")
    home = factories.ticket(db, lat=42.37061, lon=-71.09741, address="12 Windsor St", street="Windsor St",
                            private_location=True)  # fmt: skip
    factories.ticket(db, lat=42.3950, lon=-71.1400, address="Far away Rd")  # out of view
    closed = factories.ticket(db, "graffiti", lat=42.3709, lon=-71.0972, address="7 Windsor St")
    change_status(db, closed, TicketStatus.RESOLVED, replies=factories.replies())
    db.commit()
    resp = client.get(f"/api/reports.json?bbox={STREET}&status=open")
    assert resp.status_code == 200
    data = resp.get_json()
    assert [r["id"] for r in data["reports"]] == [home.id, new.id, old.id] and data["more"] is False
    by_id = {r["id"]: r for r in data["reports"]}
    assert by_id[home.id]["place"] == "Windsor St (block level)"  # never the house number
    assert "12 Windsor" not in resp.get_data(as_text=True)
    assert by_id[old.id]["service"] == "Pothole" and by_id[old.id]["url"] == f"/tickets/{old.id}"
    assert by_id[new.id]["code"] == "trash" and by_id[old.id]["created"] < by_id[new.id]["created"]
    closed_only = client.get(f"/api/reports.json?bbox={STREET}&status=closed").get_json()
    assert [r["id"] for r in closed_only["reports"]] == [closed.id]
    only = client.get(f"/api/reports.json?bbox={STREET}&service=trash").get_json()
    assert [r["id"] for r in only["reports"]] == [new.id]
    bad = client.get("/api/reports.json?bbox=1,2,3&status=open")
    assert bad.status_code == 400 and "bbox" in bad.get_json()["description"]
    assert client.get("/api/reports.json?status=bogus").status_code == 400


def test_list_is_bounded_and_says_there_are_more(client, db) -> None:  # type: ignore[no-untyped-def]
    for i in range(27):
        factories.ticket(db, lat=42.3700 + i * 0.00002, lon=-71.0975)
    db.commit()
    data = client.get(f"/api/reports.json?bbox={STREET}").get_json()
    assert len(data["reports"]) == 25 and data["more"] is True


def test_street_wide_ticket_carries_its_line_at_street_zoom_only(client, db) -> None:  # type: ignore[no-untyped-def]
    snow = factories.ticket(db, "snow_ice", address="Hampshire St between Windsor St and Prospect St",
                            street="Hampshire St", precision="segment", line=tuple(STRETCH))  # fmt: skip
    private = factories.ticket(db, "snow_ice", lat=42.3709, lon=-71.0979, street="Hampshire St",
                               line=tuple(STRETCH), private_location=True)  # fmt: skip
    pin = factories.ticket(db, address="1 Hampshire St")
    db.commit()
    for zoom in (17, 18):
        data = client.get(f"/api/map.geojson?bbox={STREET}&zoom={zoom}").get_json()
        props = {f["properties"]["id"]: f["properties"] for f in data["features"]}
        assert props[snow.id]["line"] == [[round(x, 5), round(y, 5)] for x, y in STRETCH]
        assert "line" not in props[private.id]  # a private place never shows its street span
        assert "line" not in props[pin.id]
    data = client.get("/api/map.geojson?zoom=13").get_json()
    assert all("line" not in f["properties"] for f in data["features"])


def test_map_page_search_list_how_to_report_and_favicon(client, app) -> None:  # type: ignore[no-untyped-def]
    html = client.get("/?q=Hampshire+St&status=closed").get_data(as_text=True)
    assert 'role="search"' in html and 'value="Hampshire St"' in html and 'id="map-list"' in html
    assert '"/api/search"' in html and '"/api/reports.json"' in html
    assert 'value="closed" selected' in html
    assert 'rel="icon"' in html and "favicon.svg" in html
    assert client.get("/static/public/favicon.svg").status_code == 200
    how = html[html.index('id="how-to-report"') :]
    for channel in ("x", "mastodon", "dm", "open311"):
        assert f'data-channel="{channel}"' in how
    assert "@CambridgeMA" in how and "/open311/v2/" in how  # from the pack's account_handles


def test_how_to_report_reads_the_pack_not_cambridge() -> None:
    ways = public_howto.ways_to_report(
        {"account_handles": {"mastodon": "oaklandca"}},
        city_name="Oakland",
        public_url="https://311.oakland.example/",
        mastodon_base_url="https://mastodon.example",
        open311_path="/open311/v2/",
    )
    assert [w.channel for w in ways] == ["mastodon", "dm", "open311"]  # no X account in this pack
    assert ways[0].account == "@oaklandca@mastodon.example" and "Cambridge" not in str(ways)
    assert ways[2].link == "https://311.oakland.example/open311/v2/discovery.json"
    bare = public_howto.ways_to_report({}, city_name="Oakland", public_url="http://x", open311_path="/o/")
    assert [w.channel for w in bare] == ["open311"]
    assert (
        public_howto.ways_to_report(
            {"account_handles": {"x": "<b>bad</b>"}}, city_name="O", public_url="http://x", open311_path="/o/"
        )[0].channel
        == "open311"
    )  # a malformed handle is left out, not printed


def test_marker_colours_are_distinct_and_their_numbers_readable() -> None:
    codes = [f"s{i}" for i in range(15)] + ["other"]
    colors = maps.service_colors(codes)
    assert colors["other"] == maps.OTHER_COLOR and len(set(colors.values())) == 16
    for color in colors.values():
        assert maps.contrast(color, maps.ink_for(color)) >= 4.5, color
    # The old palette's "Other" (#4e79a7) and "Snow and ice" (#1f77b4) were 1.06:1 apart.
    assert maps.contrast("#4e79a7", "#1f77b4") < 1.1
    cambridge = maps.service_colors(["other", "rodents", "tree", "snow_ice"])
    assert cambridge["other"] != cambridge["snow_ice"]
    assert maps.contrast(cambridge["other"], cambridge["snow_ice"]) > 1.5
