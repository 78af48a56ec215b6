"""Crew view and admin pages: users, crews, services, Open311 keys; metrics plots; roles and CSRF."""

from __future__ import annotations

import re

from console_helpers import logged_in, login
from sqlalchemy import select

from civictracker.models import ApiKey, Crew, Service, User
from civictracker.services.users import check_api_key
from tests import factories


def test_crew_sees_their_tickets_and_marks_progress_and_resolution(client, db):
    mine, other = factories.crew(db, "Mine"), factories.crew(db, "Other", 42.37, -71.11)
    first = factories.ticket(db, urgent=True)
    second = factories.ticket(db)
    theirs = factories.ticket(db)
    from civictracker.services.tickets import assign_crew

    for t, c in [(second, mine), (first, mine), (theirs, other)]:
        assign_crew(db, t, c, replies=factories.replies())
    db.commit()
    user = logged_in(client, db, "crew", crew_id=mine.id)
    page = client.get("/console/crew").data.decode()
    assert page.index(first.ref) < page.index(second.ref) and theirs.ref not in page
    r = client.post(f"/console/crew/tickets/{first.id}/work", data={"to_status": "in_progress"})
    assert r.status_code == 302
    r = client.post(
        f"/console/crew/tickets/{first.id}/work", data={"to_status": "resolved", "public_note": "Filled."}
    )
    assert r.status_code == 302
    db.expire_all()
    assert first.status == "resolved" and first.events[-1].public_note == "Filled."
    assert first.events[-1].actor_user_id == user.id
    assert (
        client.post(f"/console/crew/tickets/{theirs.id}/work", data={"to_status": "resolved"}).status_code
        == 403
    )
    assert (
        client.post(f"/console/crew/tickets/{second.id}/work", data={"to_status": "closed"}).status_code
        == 400
    )
    db.expire_all()
    assert (theirs.status, second.status) == ("assigned", "assigned")


def test_admin_manages_users_and_disabled_user_cannot_log_in(app, client, db):
    admin = logged_in(client, db, "admin")
    r = client.post(
        "/console/admin/users",
        data={"email": "new@city.example", "password": "long-enough-pw", "role": "dispatcher"},
    )
    assert r.status_code == 302
    new = db.scalar(select(User).where(User.email == "new@city.example"))
    assert new.role == "dispatcher" and new.password_hash != "long-enough-pw"
    bad = client.post(
        "/console/admin/users", data={"email": "x@city.example", "password": "short", "role": "dispatcher"}
    )
    assert bad.status_code == 400
    bad = client.post(
        "/console/admin/users", data={"email": "y@city.example", "password": "long-enough-pw", "role": "root"}
    )
    assert bad.status_code == 400
    assert (
        client.post(f"/console/admin/users/{new.id}", data={f"u{new.id}-role": "dispatcher"}).status_code
        == 302
    )
    db.expire_all()
    assert new.active is False  # the unchecked box disables
    # An admin cannot lock themselves out.
    r = client.post(
        f"/console/admin/users/{admin.id}",
        data={f"u{admin.id}-role": "dispatcher", f"u{admin.id}-active": "y"},
    )
    assert r.status_code == 400
    db.expire_all()
    assert admin.role == "admin"
    other = app.test_client()
    assert login(other, "new@city.example", "long-enough-pw").status_code == 401


def test_admin_manages_crews_and_services(client, db):
    logged_in(client, db, "admin")
    r = client.post(
        "/console/admin/crews",
        data={"name": "Night shift", "lat": "42.37", "lon": "-71.1", "available": "y", "active": "y"},
    )
    assert r.status_code == 302
    crew = db.scalar(select(Crew).where(Crew.name == "Night shift"))
    assert (crew.lat, crew.available) == (42.37, True)
    r = client.post(
        f"/console/admin/crews/{crew.id}",
        data={"name": "Night shift", "lat": "42.38", "lon": "-71.1", "active": "y"},
    )
    assert r.status_code == 302
    db.expire_all()
    assert (crew.lat, crew.available) == (42.38, False)
    assert (
        client.post("/console/admin/crews", data={"name": "Night shift"}).status_code == 400
    )  # duplicate name
    assert client.post("/console/admin/crews", data={"name": "Half", "lat": "42.3"}).status_code == 400
    svc = factories.service(db, "graffiti")
    r = client.post(
        f"/console/admin/services/{svc.id}",
        data={
            "name": "Graffiti <b>removal</b>",
            "sla_hours": "48",
            "active": "y",
            "keywords": "tag, Spray paint ,",
        },
    )
    assert r.status_code == 302
    db.expire_all()
    svc = db.scalar(select(Service).where(Service.code == "graffiti"))
    assert (svc.sla_hours, svc.keywords) == (48, ["tag", "spray paint"])
    assert b"Graffiti &lt;b&gt;removal" in client.get("/console/admin/services").data
    r = client.post(
        f"/console/admin/services/{svc.id}",
        data={"name": "x", "sla_hours": "0; DROP TABLE services", "active": "y"},
    )
    assert r.status_code == 400
    db.expire_all()
    assert svc.sla_hours == 48


def test_api_key_is_shown_once_stored_hashed_and_revocable(client, db):
    logged_in(client, db, "admin")
    r = client.post("/console/admin/keys", data={"name": "SeeClickFix bridge"})
    assert r.status_code == 201 and "no-store" in r.headers["Cache-Control"]
    key = re.search(r'<code id="new-api-key">([^<]+)</code>', r.data.decode()).group(1)
    row = db.scalar(select(ApiKey))
    assert key not in (row.key_hash, row.prefix) and check_api_key(db, key) is not None
    db.commit()
    assert key.encode() not in client.get("/console/admin/keys").data
    assert client.post(f"/console/admin/keys/{row.id}/revoke").status_code == 302
    db.expire_all()
    assert check_api_key(db, key) is None
    assert client.post("/console/admin/keys/9999/revoke").status_code == 400
    # The shared cleanup deletes users before api_keys (FK created_by_id): remove the keys here.
    db.query(ApiKey).delete()
    db.commit()


def test_metrics_page_draws_svg_plots(client, db):
    import datetime as dt

    from civictracker.models.types import utcnow
    from civictracker.services.tickets import change_status

    now = utcnow()
    t = factories.ticket(db, now=now - dt.timedelta(days=10))
    t.first_public_reply_at = t.created_at + dt.timedelta(minutes=30)
    change_status(
        db, t, "resolved", now=now - dt.timedelta(days=1), replies=factories.replies()
    )  # 9 days: past the 72 h SLA
    factories.ticket(db, "graffiti", now=now - dt.timedelta(days=20))  # open and overdue
    db.commit()
    logged_in(client, db)
    r = client.get("/console/metrics")
    assert r.status_code == 200
    html = r.data.decode()
    assert html.count("<svg") == 5  # the four distributions and the weekly trend
    assert "median 0.5 h" in html and "&lt; 1 h: 1" in html  # bar tooltip
    assert re.search(r"Graffiti[^<]*</text>", html)
    assert client.get("/console/metrics?days=-1").status_code == 400


def test_console_post_without_csrf_is_rejected_and_changes_nothing(app, client, db):
    t = factories.ticket(db)
    db.commit()
    logged_in(client, db)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = client.post(f"/console/tickets/{t.id}/status", data={"status-to_status": "acknowledged"})
        assert r.status_code == 400
        db.expire_all()
        assert t.status == "open"
        page = client.get(f"/console/tickets/{t.id}").data.decode()
        token = re.search(r'name="status-csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        r = client.post(
            f"/console/tickets/{t.id}/status",
            data={"status-to_status": "acknowledged", "status-csrf_token": token},
        )
        assert r.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_dispatcher_and_crew_cannot_open_admin_pages(client, db):
    crew = factories.crew(db)
    db.commit()
    logged_in(client, db, "crew", crew_id=crew.id)
    for path in [
        "/console/admin/users",
        "/console/admin/crews",
        "/console/admin/services",
        "/console/admin/keys",
    ]:
        assert client.get(path).status_code == 403
    assert client.post("/console/admin/keys", data={"name": "x"}).status_code == 403
    assert db.scalar(select(ApiKey)) is None
    anonymous = client.application.test_client()
    assert anonymous.get("/console/admin/users").status_code == 302


def test_admin_edits_a_crews_skills(client, db):
    crew = factories.crew(db, "Streets North", skills=("water_sewer",))
    db.commit()
    logged_in(client, db, "admin")
    page = client.get(f"/console/admin/crews/{crew.id}").data.decode()
    assert 'type="checkbox"' in page and re.search(
        r'value="water_sewer"[^>]*checked|checked[^>]*value="water_sewer"', page
    )
    data = {"name": "Streets North", "lat": "42.3886", "lon": "-71.119", "active": "y", "available": "y"}
    r = client.post(f"/console/admin/crews/{crew.id}", data={**data, "services": ["pothole", "sidewalk"]})
    assert r.status_code == 302
    db.expire_all()
    assert crew.service_codes == ["pothole", "sidewalk"]
    assert "pothole, sidewalk" in client.get("/console/admin/crews").data.decode()
    r = client.post(f"/console/admin/crews/{crew.id}", data={**data, "services": ["no_such_code"]})
    assert r.status_code == 400
    db.expire_all()
    assert crew.service_codes == ["pothole", "sidewalk"]
    assert client.post(f"/console/admin/crews/{crew.id}", data=data).status_code == 302  # none ticked
    db.expire_all()
    assert crew.service_codes == []


def test_crew_page_orders_the_route_and_answers_its_script_in_json(client, db):
    from civictracker.services.tickets import assign_crew

    crew = factories.crew(db, "Route", lat=42.3700, lon=-71.0960)
    far = factories.ticket(db, lat=42.3780, lon=-71.1180)
    near = factories.ticket(db, lat=42.3707, lon=-71.0975)
    nowhere = factories.ticket(db, lat=None, lon=None)
    urgent = factories.ticket(db, lat=42.3800, lon=-71.1200, urgent=True)
    for t in (far, near, nowhere, urgent):
        assign_crew(db, t, crew, replies=factories.replies())
    db.commit()
    logged_in(client, db, "crew", crew_id=crew.id)
    page = client.get("/console/crew").data.decode()
    # Urgent first, then the nearest next stop from there (far is beside urgent), unplaced ones last.
    positions = [page.index(f'id="stop-{t.id}"') for t in (urgent, far, near, nowhere)]
    assert positions == sorted(positions)
    json_post = {"headers": {"Accept": "application/json"}}
    bad = client.post(f"/console/crew/tickets/{near.id}/work", data={"to_status": "closed"}, **json_post)
    assert bad.status_code == 400 and bad.get_json()["ok"] is False and bad.get_json()["message"]
    good = client.post(
        f"/console/crew/tickets/{near.id}/work",
        data={"to_status": "resolved", "public_note": "Done."},
        **json_post,
    )
    assert good.status_code == 200 and good.get_json() == {"ok": True, "message": ""}
    db.expire_all()
    assert near.status == "resolved"


def test_route_order_is_urgent_first_then_nearest_next() -> None:
    from types import SimpleNamespace

    from civictracker.services.crew_route import order_route, route_metres

    def stop(name, lat, lon, urgent=False):  # type: ignore[no-untyped-def]
        return SimpleNamespace(name=name, lat=lat, lon=lon, priority=1 if urgent else 0)

    stops = [
        stop("c", 42.0, -71.3),
        stop("a", 42.0, -71.1),
        stop("x", None, None),
        stop("u", 42.0, -71.5, True),
    ]
    assert [s.name for s in order_route((42.0, -71.0), stops)] == ["u", "c", "a", "x"]
    assert [s.name for s in order_route(None, stops[:2])] == ["c", "a"]
    assert 8_000 < route_metres((42.0, -71.0), [stops[1]]) < 8_500
