"""Every id, date, number and string from a request is range-checked before the database (issue #16).

Each case once answered 500, most of them on PostgreSQL only (integer columns hold ids < 2**31, and NUL is
refused in any text); they run on both databases.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from civictracker.intake.receive import receive_post
from civictracker.services.users import create_api_key
from tests import factories
from tests.intake.helpers import incoming
from tests.web.console.console_helpers import logged_in

BIG = "2147483648"  # 2**31: one past what PostgreSQL's integer ids hold

# (path, status, a word the answer's message must contain, or "" when a plain 404 page is enough)
PUBLIC_CASES: list[tuple[str, int, str]] = [
    (f"/tickets/{BIG}", 404, ""),
    ("/tickets/" + "9" * 5000, 404, ""),
    (f"/open311/v2/requests/{BIG}.json", 404, "No such service request"),
    (f"/open311/v2/requests/CT-{BIG}.xml", 404, "No such service request"),
    ("/open311/v2/requests/99999999999.json", 404, "No such service request"),
    ("/open311/v2/requests.json?service_request_id=99999999999", 200, ""),
    (f"/open311/v2/requests.json?service_request_id=1,{BIG}", 200, ""),
    ("/open311/v2/requests.json?start_date=9999-12-31T00:00:00Z", 400, "start_date must be between"),
    ("/open311/v2/requests.json?end_date=0001-01-01T00:00:00%2B05:00", 400, "end_date"),
    ("/open311/v2/requests.json?start_date=0001-01-01T00:00:00Z", 400, "start_date must be between"),
    ("/open311/v2/requests.json?updated_after=9999-12-31T23:59:59-05:00", 400, "updated_after"),
    ("/open311/v2/requests.json?page_size=%C2%B2", 400, "page_size must be a whole number"),
    ("/open311/v2/requests.json?page=%D9%A3", 400, "page must be a whole number"),
    ("/open311/v2/requests.json?service_code=a%00b", 400, "NUL"),
    ("/api/map.geojson?service=a%00b", 400, "NUL"),
    ("/?service=%00", 400, "NUL"),
]


@pytest.mark.parametrize(("path", "status", "message"), PUBLIC_CASES, ids=[c[0][:60] for c in PUBLIC_CASES])
def test_public_requests_out_of_range_are_answered_not_crashed(
    client: Any, path: str, status: int, message: str
) -> None:
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert message in response.get_data(as_text=True)
    if path.startswith("/open311/") and status == 200:
        assert response.get_json() == []  # an id that cannot exist matches nothing


CONSOLE_GETS: list[tuple[str, int, str]] = [
    (f"/console/queue?crew={BIG}", 400, "from 0 to 2147483647"),
    ("/console/queue?crew=%C2%B2", 400, "whole number"),
    ("/console/queue?page=99999999999999999999", 400, "whole number"),
    (f"/console/crew?crew={BIG}", 400, "2147483647"),
    (f"/console/tickets/{BIG}", 404, ""),
    (f"/console/inbox/{BIG}", 404, ""),
    (f"/console/admin/crews/{BIG}", 404, ""),
    (f"/console/admin/services/{BIG}", 404, ""),
    ("/console/metrics?days=%C2%B2", 400, "whole number"),
]


@pytest.mark.parametrize(("path", "status", "message"), CONSOLE_GETS, ids=[c[0] for c in CONSOLE_GETS])
def test_console_requests_out_of_range(
    client: Any, db: Session, path: str, status: int, message: str
) -> None:
    logged_in(client, db, "admin")
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    assert message in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/console/admin/crews", {"name": "Crew\x00One"}),
        (
            "/console/admin/users",
            {"email": "new\x00@city.example", "password": "x" * 12, "role": "dispatcher"},
        ),
        (f"/console/tickets/{BIG}/status", {"status": "closed"}),
        (f"/console/admin/keys/{BIG}/revoke", {}),
    ],
)
def test_console_forms_with_a_nul_or_an_impossible_id(
    client: Any, db: Session, path: str, form: dict[str, str]
) -> None:
    logged_in(client, db, "admin")
    response = client.post(path, data=form)
    assert response.status_code in (400, 404), response.get_data(as_text=True)[:300]
    if "\x00" in "".join(form.values()):
        assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)


def test_login_with_a_nul_in_the_email_is_a_400(client: Any) -> None:
    response = client.post("/auth/login", data={"email": "a\x00b", "password": "whatever"})
    assert response.status_code == 400 and "NUL" in response.get_data(as_text=True)


def test_open311_post_with_a_nul_is_an_open311_400(client: Any, db: Session) -> None:
    _, key = create_api_key(db, "fuzz client")
    db.commit()
    response = client.post(
        "/open311/v2/requests.json",
        data={"api_key": key, "service_code": "x\x00", "lat": "42.37", "long": "-71.1"},
    )
    assert response.status_code == 400
    assert "NUL" in response.get_json()[0]["description"]


@pytest.mark.parametrize(
    ("action", "form"),
    [
        ("merge", {"merge-into_id": BIG}),
        ("assign", {"assign-crew_id": BIG}),
    ],
)
def test_console_ticket_forms_refuse_ids_and_numbers_out_of_range(
    client: Any, db: Session, action: str, form: dict[str, str]
) -> None:
    logged_in(client, db, "dispatcher")
    ticket = factories.ticket(db, address="5 Main St")
    db.commit()
    lat_before = ticket.lat
    response = client.post(f"/console/tickets/{ticket.id}/{action}", data=form)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    db.expire_all()
    assert ticket.lat == lat_before and ticket.duplicate_of_id is None and ticket.crew_id is None


def test_bulk_assign_and_inbox_attach_refuse_impossible_ids(client: Any, db: Session) -> None:
    logged_in(client, db, "dispatcher")
    crew = factories.crew(db)
    ticket = factories.ticket(db, address="5 Main St")
    post, _ = receive_post(db, incoming("is the library open today?"))
    db.commit()
    bulk = client.post(
        "/console/bulk-assign", data={"crew_id": str(crew.id), "ticket_ids": [str(ticket.id), BIG]}
    )
    assert bulk.status_code == 400
    assert (
        client.post("/console/bulk-assign", data={"crew_id": BIG, "ticket_ids": [str(ticket.id)]}).status_code
        == 400
    )
    attach = client.post(f"/console/inbox/{post.id}/attach", data={"attach-ticket_id": BIG})
    assert attach.status_code == 400
    assign = client.post(f"/console/inbox/{post.id}/assign", data={"assign-user_id": BIG})
    assert assign.status_code == 400
