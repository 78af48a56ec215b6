"""HTTP caching of public reads: ETags from the data version, short public max-age, 304s; staff pages and
signed-in views never stored."""

from __future__ import annotations

from civictracker.models import TicketStatus
from civictracker.services.tickets import change_status
from tests import factories
from tests.web.console.console_helpers import logged_in

CITY = "-71.1605,42.3525,-71.064,42.4045"
PUBLIC_URLS = [
    f"/api/map.geojson?bbox={CITY}&zoom=13",
    f"/api/map.geojson?bbox={CITY}&zoom=13&status=closed",
    "/",
    "/open311/v2/requests.json",
    "/open311/v2/requests.xml?status=open",
    "/open311/v2/services.json",
]


def test_public_reads_revalidate_with_304_until_a_write(client, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    db.commit()
    tags = {}
    for url in [*PUBLIC_URLS, f"/open311/v2/requests/{t.id}.json", f"/tickets/{t.id}"]:
        first = client.get(url)
        assert first.status_code == 200, url
        assert first.headers["Cache-Control"].startswith("public, max-age="), url
        assert int(first.headers["Cache-Control"].split("=")[1]) <= 60
        etag = first.headers["ETag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.data == b"", url
        assert again.headers["ETag"] == etag
        tags[url] = etag
    change_status(db, t, TicketStatus.RESOLVED, replies=factories.replies())
    db.commit()
    for url, etag in tags.items():
        after = client.get(url, headers={"If-None-Match": etag})
        assert after.status_code == 200 and after.headers["ETag"] != etag, url


def test_the_etag_names_the_url_not_only_the_data(client, db) -> None:  # type: ignore[no-untyped-def]
    a, b = factories.ticket(db), factories.ticket(db)
    db.commit()
    etag = client.get(f"/open311/v2/requests/{a.id}.json").headers["ETag"]
    assert client.get(f"/open311/v2/requests/{b.id}.json", headers={"If-None-Match": etag}).status_code == 200
    zoom13 = client.get(f"/api/map.geojson?bbox={CITY}&zoom=13").headers["ETag"]
    other = client.get(f"/api/map.geojson?bbox={CITY}&zoom=14", headers={"If-None-Match": zoom13})
    assert other.status_code == 200


def test_errors_carry_no_validator(client, db) -> None:  # type: ignore[no-untyped-def]
    bad = client.get("/api/map.geojson?bbox=1,2,3&zoom=13")
    assert bad.status_code == 400 and "ETag" not in bad.headers
    missing = client.get("/open311/v2/requests/999999.json")
    assert missing.status_code == 404 and "ETag" not in missing.headers


def test_staff_pages_and_signed_in_public_pages_are_never_stored(client, db) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/auth/login").headers["Cache-Control"] == "private, no-store"
    user = logged_in(client, db)
    for url in ("/console/", "/console/queue"):
        response = client.get(url)
        assert response.status_code in (200, 302), url
        assert response.headers["Cache-Control"] == "private, no-store"
    page = client.get("/")
    assert user.name in page.get_data(as_text=True)  # the header names the signed-in user ...
    assert page.headers["Cache-Control"] == "private, no-store"  # ... so no cache may keep it
    assert "ETag" not in page.headers and "Cookie" in page.headers["Vary"]
