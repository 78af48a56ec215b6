"""Admin work a city needs: an audit log of every change, one-time password links, crews by name, CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

from console_helpers import PASSWORD, logged_in, login
from sqlalchemy import select

from civictracker.models import AdminEvent, PasswordReset, Service, User
from civictracker.models.types import utcnow
from civictracker.services.password_reset import issue_password_reset
from tests import factories

LINK = re.compile(r'value="(https?://[^"]+/auth/reset/([^"]+))"')


def _audit(db) -> list[tuple[str, str, str]]:
    db.expire_all()
    rows = db.scalars(select(AdminEvent).order_by(AdminEvent.id))
    return [(e.action, e.target_label, e.actor_label) for e in rows]


def test_every_admin_change_is_in_the_audit_log_with_who_and_what(client, db):
    admin = logged_in(client, db, "admin")
    crew = factories.crew(db, "Streets East")
    db.commit()
    client.post(
        "/console/admin/users",
        data={"email": "new@city.example", "password": "long-enough-pw", "role": "crew", "crew_id": crew.id},
    )
    new = db.scalar(select(User).where(User.email == "new@city.example"))
    assert new.crew_id == crew.id  # chosen by name from a list, not typed as a number
    client.post(
        f"/console/admin/users/{new.id}", data={f"u{new.id}-role": "dispatcher", f"u{new.id}-active": "y"}
    )
    client.post(
        "/console/admin/crews", data={"name": "Parks", "services": ["tree"], "available": "y", "active": "y"}
    )
    pothole = db.scalar(select(Service).where(Service.code == "pothole"))
    client.post(
        f"/console/admin/services/{pothole.id}",
        data={"name": "Pothole", "sla_hours": 48, "active": "y", "keywords": "pothole, crater"},
    )
    created = client.post("/console/admin/keys", data={"name": "SeeClickFix"})
    key = re.search(r"ct_[\w-]+", created.data.decode()).group(0)
    key_id = db.scalar(select(AdminEvent.target_id).where(AdminEvent.action == "api_key_created"))
    client.post(f"/console/admin/keys/{key_id}/revoke")
    log = _audit(db)
    by = admin.email
    assert log[-6:] == [
        ("user_created", "new@city.example", by),
        ("user_updated", "new@city.example", by),
        ("crew_created", "Parks", by),
        ("service_updated", "pothole", by),
        ("api_key_created", "SeeClickFix", by),
        ("api_key_revoked", "SeeClickFix", by),
    ]
    changed = db.scalar(select(AdminEvent).where(AdminEvent.action == "service_updated"))
    assert changed.data == {
        "name": "Pothole",
        "sla_hours": 48,
        "active": True,
        "keywords": ["pothole", "crater"],
    }
    page = client.get("/console/admin/audit").data.decode()
    assert "service updated" in page and "SeeClickFix" in page and by in page
    assert key not in page and "long-enough-pw" not in page  # never a key or a password
    only_crews = client.get("/console/admin/audit?kind=crew").data.decode()
    assert "Parks" in only_crews and "SeeClickFix" not in only_crews
    assert client.get("/console/admin/audit?kind=<script>").status_code == 400


def test_the_audit_log_is_for_admins_only(client, db):
    logged_in(client, db, "dispatcher")
    assert client.get("/console/admin/audit").status_code == 403


def test_a_one_time_password_link_works_once_and_expires(app, client, db):
    logged_in(client, db, "admin")
    user = logged_in(app.test_client(), db, "dispatcher")
    made = client.post(f"/console/admin/users/{user.id}/reset")
    assert made.status_code == 201 and "no-store" in made.headers["Cache-Control"]
    link, token = LINK.search(made.data.decode()).groups()
    assert link.startswith("http://127.0.0.1:5000/auth/reset/")  # on the public URL
    assert db.scalar(select(PasswordReset.token_hash)) != token  # only its hash is stored
    resident = app.test_client()
    assert resident.get(f"/auth/reset/{token}").status_code == 200
    short = resident.post(f"/auth/reset/{token}", data={"password": "short", "confirm": "short"})
    assert short.status_code == 400  # and the link is not spent
    differ = resident.post(
        f"/auth/reset/{token}", data={"password": "a-new-password", "confirm": "another-one"}
    )
    assert differ.status_code == 400
    ok = resident.post(
        f"/auth/reset/{token}", data={"password": "a-new-password", "confirm": "a-new-password"}
    )
    assert ok.status_code == 302
    assert login(app.test_client(), user.email, "a-new-password").status_code == 302
    assert login(app.test_client(), user.email, PASSWORD).status_code == 401
    again = resident.post(
        f"/auth/reset/{token}", data={"password": "third-password", "confirm": "third-password"}
    )
    assert again.status_code == 410 and "already used" in again.data.decode()
    assert resident.get("/auth/reset/not-a-token").status_code == 404
    # An expired link, and an older link once a newer one is issued, no longer work.
    old = issue_password_reset(db, user, acting=None, now=utcnow() - dt.timedelta(hours=2))
    db.commit()
    assert "expired" in resident.get(f"/auth/reset/{old}").data.decode()
    first = issue_password_reset(db, user, acting=None)
    issue_password_reset(db, user, acting=None)
    db.commit()
    assert resident.get(f"/auth/reset/{first}").status_code == 410
    actions = [a for a, _, _ in _audit(db)]
    assert actions.count("password_reset_issued") == 4 and actions.count("password_reset_used") == 1


def test_cli_prints_a_reset_link(app, db):
    user = logged_in(app.test_client(), db, "dispatcher")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["civictracker", "reset-password", user.email])
    assert result.exit_code == 0, result.output
    assert "/auth/reset/" in result.output and "works once" in result.output
    assert _audit(db)[-1] == ("password_reset_issued", user.email, "cli")
    missing = runner.invoke(args=["civictracker", "reset-password", "nobody@city.example"])
    assert missing.exit_code == 1 and "No user" in missing.output


def test_tickets_export_is_a_streamed_csv_without_residents_data(app, client, db):
    logged_in(client, db, "dispatcher")
    factories.ticket(db, address='=HYPERLINK("http://x")', urgent=True)
    factories.ticket(db, "graffiti")
    db.commit()
    response = client.get("/console/export/tickets.csv")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["number", "service_code", "service", "status"] and len(rows) == 3
    assert rows[1][1] == "pothole" and rows[1][4] == "yes" and rows[2][1] == "graffiti"
    assert rows[1][9].startswith("'=")  # a formula is text in a spreadsheet
    metrics = client.get("/console/metrics.csv?days=30")
    assert metrics.status_code == 200 and metrics.data.decode().startswith("section,channel,who")
    crew = factories.crew(db)
    db.commit()
    crew_member = app.test_client()
    logged_in(crew_member, db, "crew", crew_id=crew.id)
    assert crew_member.get("/console/export/tickets.csv").status_code == 403
    assert app.test_client().get("/console/export/tickets.csv").status_code == 302
