"""Every public route and form, and hostile values for each of their parameters (Hypothesis strategies).

Shared by tests/fuzz/test_fuzz_routes.py (a few hundred inputs per database, in the suite) and
bench/fuzz_routes.py (10,000+ per database, printing inputs tried and 500s).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from flask import Flask
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from civictracker.channels.x_webhook import signature_for

SECRET = "fuzz-consumer-secret"
ME = "1000"

# Values that broke, or could break, a parser or a database column somewhere (issue #16's list and more).
NASTY = [
    "", " ", "0", "-1", "1", "2", "3", "01", "2147483647", "2147483648", "-2147483649", "99999999999",
    "9" * 400, "1e999", "-1e999", "NaN", "nan", "inf", "-inf", "1.5", "-0", "0x10", "1_000",
    "²", "٣", "１", "Ⅻ", "\x00", "a\x00b", "%00", "\u2028", "\u0085", "\ufeff", "é", "🙂", "\u202e",
    "9999-12-31T00:00:00Z", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00",
    "2026-11-23T14:05:00-05:00", "2026-11-23T14:05:00 05:00", "2026-02-30T00:00:00Z", "2026-11-23",
    "true", "false", "open", "closed", "open,closed", "pothole", "streetlight", "CT-1", "ct-2", "1,2,3",
    ",,,", "1,,2", "42.37", "-71.1", "-71.2,42.3,-71.0,42.4", "-180,-90,180,90", "1,2,3,4,5", "null",
    "[]", "{}", "<script>alert(1)</script>", "' OR '1'='1", "../../etc/passwd", "x" * 5000, "en", "es",
    "dispatcher", "admin", "crew", "urgent", "normal", "acknowledged", "resolved", "in_progress",
    "person", "all", "handled", "http://example.com/a.png", "javascript:alert(1)", "a@b.example",
    "a%00b@c.example", "+1 (617) 555-0100",
]  # fmt: skip

value = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats().map(str),
    st.from_regex(
        r"\A[0-9]{1,5}-[0-9]{1,2}-[0-9]{1,2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(Z|[+-][0-9]{2}:[0-9]{2})\Z"
    ),
)
hostile_path = st.one_of(
    st.sampled_from(["0", "2147483647", "2147483648", "99999999999", "9" * 400, "-1", "CT-1", "pothole"]),
    st.integers(min_value=0, max_value=2**64).map(str),
    st.text(min_size=1, max_size=20),
)
# Plausible values per parameter, so that a request gets past the first check and reaches deeper code.
GOOD: dict[str, list[str]] = {
    "status": ["open", "closed", "open,closed", "new", "assigned", "all", "acknowledged"],
    "to_status": ["acknowledged", "assigned", "in_progress", "resolved", "closed", "reopened", "rejected"],
    "service": ["pothole", "streetlight"], "service_code": ["pothole", "streetlight", "pothole,streetlight"],
    "crew": ["1"], "crew_id": ["1", "0"], "into_id": ["1", "2", "3"], "ticket_id": ["1", "2", "3"],
    "ticket_ids": ["1", "2", "3"], "user_id": ["0", "1", "2"], "page": ["1", "2"], "page_size": ["1", "50"],
    "service_request_id": ["1", "1,2", "CT-3"], "extensions": ["true", "false"],
    "start_date": ["2026-11-23T14:05:00-05:00"], "end_date": ["2026-12-23T14:05:00Z"],
    "updated_after": ["2026-11-23T14:05:00-05:00"], "updated_before": ["2027-01-01T00:00:00Z"],
    "bbox": ["-71.2,42.3,-71.0,42.4", "-71.16,42.35,-71.06,42.40"], "zoom": ["13", "16", "3"],
    "max_age_days": ["30", "7"], "urgent": ["1", "0"], "overdue": ["1", "0"], "days": ["30", "90"],
    "lat": ["42.3707", "42.37"], "long": ["-71.0975"], "lon": ["-71.0975"], "view": ["person", "all"],
    "address_string": ["5 Main St", "Hampshire St and Windsor St"], "place": ["5 Main St", "Inman Sq"],
    "email": ["resident@example.com", "fuzz-dispatcher@city.example"], "password": ["correct-horse-battery"],
    "role": ["dispatcher", "crew", "admin"], "active": ["y", ""], "available": ["y"], "urgency": ["urgent", "normal", ""],
    "name": ["Streets South", "Resident"], "sla_hours": ["48", "1"], "services": ["pothole", "streetlight"],
    "description": ["Deep pothole in the bike lane"], "text": ["Thanks, we are on it."], "lang": ["en", "es"],
    "canned": ["", "thanks"], "attribute[depth]": ["deep"], "jurisdiction_id": [""],
}  # fmt: skip


json_leaf = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.sampled_from(NASTY),
    st.text(max_size=30),
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # "{id}" and "{fmt}" are filled from path_value / the formats
    params: tuple[str, ...] = ()
    who: str = "public"  # which client sends it: public, dispatcher, admin
    prefix: str = ""  # the form's field prefix ("status" -> "status-to_status"); "{id}" filled as the path
    real_ids: tuple[str, ...] = ("1", "2", "3")  # ids fuzz_app made rows for


O311_QUERY = ("service_request_id", "service_code", "start_date", "end_date", "updated_after",
              "updated_before", "status", "page", "page_size", "extensions", "jurisdiction_id")  # fmt: skip
O311_POST = ("api_key", "service_code", "lat", "long", "address_string", "address_id", "email", "phone",
             "first_name", "last_name", "description", "media_url", "source_id", "device_id", "account_id",
             "attribute[depth]", "attribute[hazards][]", "jurisdiction_id")  # fmt: skip
NOTES = ("public_note", "internal_note")

ROUTES = [
    Route("GET", "/", ("service", "status", "max_age_days", "q")),
    Route("GET", "/api/map.geojson", ("bbox", "zoom", "service", "status", "max_age_days")),
    Route("GET", "/api/reports.json", ("bbox", "zoom", "service", "status", "max_age_days")),
    Route("GET", "/api/search", ("q",)),
    Route("GET", "/tickets/{id}"),
    Route("GET", "/tickets/{id}/feed.atom"),
    Route("GET", "/feed.atom", ("bbox", "lat", "long", "radius", "service")),
    Route("GET", "/healthz"),
    Route("GET", "/auth/login", ("next",)),
    Route("POST", "/auth/login", ("email", "password", "next", "remember")),
    Route("GET", "/open311/v2/discovery.{fmt}", ("jurisdiction_id",)),
    Route("GET", "/open311/v2/services.{fmt}", ("jurisdiction_id",)),
    Route("GET", "/open311/v2/services/{id}.{fmt}", ("jurisdiction_id",)),
    Route("GET", "/open311/v2/requests.{fmt}", O311_QUERY),
    Route("GET", "/open311/v2/requests/{id}.{fmt}", ("extensions", "jurisdiction_id")),
    Route("POST", "/open311/v2/requests.{fmt}", O311_POST),
    Route("GET", "/open311/v2/tokens/{id}.{fmt}"),
    Route("GET", "/open311/v2/{id}"),
    Route("GET", "/webhooks/x", ("crc_token",)),
    Route("POST", "/webhooks/x"),  # a signed Account Activity body, drawn from webhook_payload
    Route("GET", "/console/queue", ("status", "service", "crew", "urgent", "overdue", "page", "place"), "dispatcher"),
    Route("GET", "/console/map", (), "dispatcher"),
    Route("GET", "/console/map.json", ("bbox",), "dispatcher"),
    Route("GET", "/console/tickets/{id}", (), "dispatcher"),
    Route("POST", "/console/tickets/{id}/status", ("to_status", *NOTES), "dispatcher", "status"),
    Route("POST", "/console/tickets/{id}/assign", ("crew_id", *NOTES), "dispatcher", "assign"),
    Route("POST", "/console/tickets/{id}/merge", ("into_id", "public_note"), "dispatcher", "merge"),
    Route("POST", "/console/tickets/{id}/location", ("place", "lat", "lon", *NOTES), "dispatcher", "loc"),
    Route("POST", "/console/tickets/{id}/correct", ("service_code", "urgency", *NOTES), "dispatcher", "fix"),
    Route("POST", "/console/bulk-assign", ("crew_id", "ticket_ids", "ticket_ids"), "dispatcher"),
    Route("GET", "/console/inbox", ("view", "page"), "dispatcher"),
    Route("GET", "/console/inbox/{id}", ("canned", "lang"), "dispatcher"),
    Route("POST", "/console/inbox/{id}/reply", ("text", "canned"), "dispatcher", "reply"),
    Route("POST", "/console/inbox/{id}/ticket", ("service", "place"), "dispatcher", "ticket"),
    Route("POST", "/console/inbox/{id}/attach", ("ticket_id",), "dispatcher", "attach"),
    Route("POST", "/console/inbox/{id}/assign", ("user_id", "note"), "dispatcher", "assign"),
    Route("POST", "/console/inbox/{id}/handled", ("note",), "dispatcher", "note"),
    Route("POST", "/console/inbox/{id}/hide", ("note",), "dispatcher", "note"),
    Route("GET", "/console/metrics", ("days",), "dispatcher"),
    Route("GET", "/console/crew", ("crew",), "admin"),
    Route("POST", "/console/crew/tickets/{id}/work", ("to_status", "public_note"), "admin"),
    Route("GET", "/console/admin/users", (), "admin"),
    Route("POST", "/console/admin/users", ("email", "name", "password", "role", "crew_id"), "admin"),
    # only user 3: deactivating the fuzzing accounts (1, 2) would log them out
    Route("POST", "/console/admin/users/{id}", ("role", "active", "crew_id"), "admin", "u{id}", ("3",)),
    Route("GET", "/console/admin/crews", (), "admin"),
    Route("POST", "/console/admin/crews", ("name", "services", "address", "lat", "lon", "available", "active"), "admin"),
    Route("GET", "/console/admin/crews/{id}", (), "admin"),
    Route("POST", "/console/admin/crews/{id}", ("name", "services", "address", "lat", "lon", "available", "active"), "admin"),
    Route("GET", "/console/admin/geocode", ("q",), "admin"),
    Route("GET", "/console/admin/replies", ("lang",), "admin"),
    Route("POST", "/console/admin/replies/reply/es/ack", ("text",), "admin"),
    Route("POST", "/console/admin/replies/reply/es/ack/preview", ("text",), "admin"),
    Route("POST", "/console/admin/replies/canned/pt/thanks", ("text", "title"), "admin"),
    Route("POST", "/console/admin/replies/reply/en/months/reset", (), "admin"),
    Route("GET", "/console/admin/services", (), "admin"),
    Route("POST", "/console/admin/services/{id}", ("name", "sla_hours", "active", "keywords"), "admin"),
    Route("GET", "/console/admin/keys", (), "admin"),
    Route("POST", "/console/admin/keys", ("name",), "admin"),
    Route("POST", "/console/admin/keys/{id}/revoke", (), "admin"),
]  # fmt: skip


@dataclass(frozen=True)
class Call:
    """One drawn request: what is sent, by whom."""

    route: Route
    path: str
    fields: tuple[tuple[str, str], ...]
    body: bytes | None = None

    def describe(self) -> str:
        return f"{self.route.method} {self.path} {dict(self.fields) if self.fields else ''}".strip()


def webhook_payload() -> st.SearchStrategy[dict[str, Any]]:
    """Account Activity shapes with any JSON where the values go (types, sizes, dates, ids, lang)."""
    tweet = st.fixed_dictionaries(
        {
            "id_str": json_value,
            "text": json_value,
            "lang": json_value,
            "created_at": json_value,
            "in_reply_to_status_id_str": json_value,
            "coordinates": json_value,
            "user": st.one_of(
                json_value, st.fixed_dictionaries({"id_str": json_value, "screen_name": json_value})
            ),
            "entities": st.just({"user_mentions": [{"id_str": ME}]}),
        }
    )
    dm = st.fixed_dictionaries(
        {
            "type": st.sampled_from(["message_create", "other"]),
            "id": json_value,
            "created_timestamp": json_value,
            "message_create": st.one_of(
                json_value,
                st.fixed_dictionaries(
                    {
                        "sender_id": json_value,
                        "target": st.just({"recipient_id": ME}),
                        "message_data": st.fixed_dictionaries({"text": json_value}),
                    }
                ),
            ),
        }
    )
    return st.fixed_dictionaries(
        {
            "for_user_id": st.one_of(st.just(ME), json_value),
            "tweet_create_events": st.one_of(st.lists(tweet, max_size=2), json_value),
            "direct_message_events": st.one_of(st.lists(dm, max_size=2), json_value),
            "users": json_value,
        }
    )


@st.composite
def calls(draw: st.DrawFn, api_key: str) -> Call:
    """A route with hostile values for its path and parameters (each parameter present or not)."""
    route = draw(st.sampled_from(ROUTES))
    real = draw(st.integers(0, 9)) < 6
    ident = draw(st.sampled_from(route.real_ids)) if real else draw(hostile_path)
    path = route.path.replace("{id}", quote(ident, safe="")).replace(
        "{fmt}", draw(st.sampled_from(["json", "xml", "json", "xml", "html"]))
    )
    if route.path == "/webhooks/x" and route.method == "POST":
        payload = draw(webhook_payload())
        return Call(route, path, (), json.dumps(payload).encode())
    prefix = route.prefix.replace("{id}", ident)
    hostility = draw(st.sampled_from([0, 1, 2, 4]))  # of 4: how often a parameter gets a hostile value
    fields: list[tuple[str, str]] = []
    for name in route.params:
        if draw(st.integers(0, 3)) == 0:
            continue  # absent
        if name == "api_key" and draw(st.integers(0, 3)):
            fields.append((name, api_key))  # usually a valid key, so the form itself is read
            continue
        hostile = draw(st.integers(0, 3)) < hostility or name not in GOOD
        raw = draw(value) if hostile else draw(st.sampled_from(GOOD[name]))
        fields.append((f"{prefix}-{name}" if prefix else name, raw))
    return Call(route, path, tuple(fields))


@dataclass
class Clients:
    public: Any
    dispatcher: Any
    admin: Any
    api_key: str


def send(clients: Clients, call: Call) -> int:
    """Send one call; the HTTP status it got."""
    client = getattr(clients, call.route.who)
    if call.body is not None:
        headers = {
            "Content-Type": "application/json",
            "x-twitter-webhooks-signature": signature_for(call.body, SECRET),
        }
        return int(client.post(call.path, data=call.body, headers=headers).status_code)
    if call.route.method == "GET":
        return int(client.get(call.path, query_string=list(call.fields)).status_code)
    return int(client.post(call.path, data=MultiDict(list(call.fields))).status_code)


@contextmanager
def fuzz_app(backend: str, tmp: Path) -> Iterator[tuple[Flask, Clients]]:
    """A migrated app with something to aim at (tickets, a crew, inbox posts, users, a key) and clients."""
    from civictracker.extensions import db
    from civictracker.intake.receive import receive_post
    from civictracker.services.users import create_api_key
    from tests import factories
    from tests.conftest import drop_app, make_app
    from tests.intake.helpers import incoming
    from tests.web.auth.auth_helpers import login, make_user

    app, pg_db = make_app(
        backend,
        tmp,
        login_rate_limit=10**9,
        x_consumer_secret=SECRET,
        x_user_id=ME,
        x_api_base="http://127.0.0.1:9",  # never the internet: replies to webhook posts fail fast
        queue_name=f"fuzz-{uuid.uuid4().hex[:6]}",
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False  # a crash is a 500 to count, as in production
    try:
        with app.app_context():
            for code in ("pothole", "streetlight", "pothole"):
                factories.ticket(db.session, code, address="5 Main St")
            factories.crew(db.session)
            for text in ("is the library open today?", "pothole at 5 Main St", "thanks!"):
                receive_post(db.session, incoming(text))  # type: ignore[arg-type]
            make_user(db.session, "dispatcher", email="fuzz-dispatcher@city.example")
            make_user(db.session, "admin", email="fuzz-admin@city.example")
            make_user(db.session, "dispatcher", email="fuzz-victim@city.example")  # user 3: edited by admins
            _, key = create_api_key(db.session, "fuzz client")
            db.session.commit()
        clients = Clients(app.test_client(), app.test_client(), app.test_client(), key)
        assert login(clients.dispatcher, "fuzz-dispatcher@city.example").status_code == 302
        assert login(clients.admin, "fuzz-admin@city.example").status_code == 302
        yield app, clients
    finally:
        drop_app(app, pg_db)
