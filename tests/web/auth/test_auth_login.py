"""Login and logout through the real form: hashed passwords, rate limit, safe redirects, CSRF, cookies, roles."""

from __future__ import annotations

import re

from auth_helpers import PASSWORD, login, make_user
from sqlalchemy import select

from civictracker.models import User
from civictracker.runtime import settings_of
from civictracker.web.auth.ratelimit import LoginLimiter


def test_anonymous_is_sent_to_login_and_back_after_logging_in(client, db):
    user = make_user(db)
    r = client.get("/console/queue")
    assert r.status_code == 302 and "/auth/login" in r.headers["Location"]
    assert "next=%2Fconsole%2Fqueue" in r.headers["Location"]
    r = login(client, user.email, next="/console/map")
    assert r.status_code == 302 and r.headers["Location"] == "/console/map"
    assert client.get("/console/map").status_code == 200
    stored = db.scalar(select(User.password_hash).where(User.id == user.id))
    assert PASSWORD not in stored and stored.startswith(("scrypt:", "pbkdf2:"))
    r = client.get("/auth/logout")
    assert r.status_code == 302
    assert client.get("/console/queue").status_code == 302


def test_wrong_password_unknown_account_and_disabled_account_are_refused(client, db):
    user = make_user(db)
    disabled = make_user(db, active=False)
    assert login(client, user.email, "wrong-password!").status_code == 401
    assert login(client, "nobody@city.example").status_code == 401
    assert login(client, disabled.email).status_code == 401
    assert client.get("/console/queue").status_code == 302


def test_limiter_follows_settings_and_forgets_after_the_window(app, monkeypatch):
    import limits.storage.memory

    import civictracker.web.auth.ratelimit
    from civictracker.web.auth.views import limiter

    app.extensions.pop("civictracker.login_limiter", None)
    with app.test_request_context():
        assert limiter().limit == settings_of(app).login_rate_limit
    # The memory storage reads time.time(): a clock the test moves stands in for the old `now=` argument.
    clock = type("Clock", (), {"now": 0.0, "time": lambda self: self.now})()
    monkeypatch.setattr(limits.storage.memory, "time", clock)
    monkeypatch.setattr(civictracker.web.auth.ratelimit, "time", clock)
    lim = LoginLimiter(2, window_s=900)
    clock.now = 0
    assert lim.admit("1.2.3.4", "a") == 0  # takes the attempt's place in the account's and address's window
    clock.now = 10
    assert lim.admit("1.2.3.4", "a") == 0  # (failed: both places are kept)
    clock.now = 20
    assert lim.blocked_for("1.2.3.4", "a") == 880
    assert lim.blocked_for("1.2.3.4", "b") == 0
    assert lim.blocked_for("5.6.7.8", "a") == 0
    clock.now = 901
    assert lim.blocked_for("1.2.3.4", "a") == 0


def test_login_rate_limit_per_address_and_account(app, client, db):
    limit = 3  # the product default is Settings.login_rate_limit (10); fewer attempts keep the test fast
    app.extensions["civictracker.login_limiter"] = LoginLimiter(limit)
    user = make_user(db)
    for _ in range(limit):
        assert login(client, user.email, "wrong-password!").status_code == 401
    # At the limit even the right password is refused, with a clear message.
    r = login(client, user.email)
    assert r.status_code == 429 and b"Too many failed attempts" in r.data
    # Another address is counted separately, and a success clears nothing for the blocked one.
    other = app.test_client()
    r = other.post(
        "/auth/login",
        data={"email": user.email, "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert r.status_code == 302
    assert login(client, user.email).status_code == 429
    app.extensions.pop("civictracker.login_limiter", None)


def test_an_office_of_staff_logging_in_from_one_address_is_never_locked_out(app, client, db):
    app.extensions["civictracker.login_limiter"] = LoginLimiter(2)  # 6 failures per address
    try:
        for _ in range(12):  # twice the address window: successes do not count against it
            user = make_user(db)
            assert login(app.test_client(), user.email).status_code == 302
        stranger = make_user(db)
        for n in range(6):  # failures on as many accounts as you like: the address window stops them
            assert login(app.test_client(), make_user(db).email, "wrong-password!").status_code == 401, n
        assert login(app.test_client(), stranger.email).status_code == 429
    finally:
        app.extensions.pop("civictracker.login_limiter", None)


def test_next_only_redirects_to_local_paths(client, db):
    user = make_user(db)
    for bad in [
        "https://evil.example/x",
        "//evil.example",
        "/\\evil.example",
        "javascript:alert(1)",
        "/x\r\nLocation: //e",
    ]:
        r = login(client, user.email, next=bad)
        assert r.status_code == 302
        assert r.headers["Location"] == "/console/queue", bad
        client.get("/auth/logout")
    r = client.get("/auth/login?next=//evil.example")
    assert b"evil.example" not in r.data


def test_crew_account_lands_on_crew_view_and_admin_pages_are_forbidden(client, db):
    from tests import factories

    crew = factories.crew(db)
    db.commit()
    user = make_user(db, "crew", crew_id=crew.id)
    r = login(client, user.email)
    assert r.headers["Location"] == "/console/crew"
    for path in ["/console/admin/users", "/console/admin/keys", "/console/queue", "/console/metrics"]:
        assert client.get(path).status_code == 403, path
    client.get("/auth/logout")
    dispatcher = make_user(db, "dispatcher")
    login(client, dispatcher.email)
    assert client.get("/console/admin/users").status_code == 403
    assert client.get("/console/queue").status_code == 200


def test_post_without_csrf_token_is_rejected(app, client, db):
    user = make_user(db)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        r = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
        assert r.status_code == 400
        assert client.get("/console/queue").status_code == 302  # not logged in
        page = client.get("/auth/login").data.decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        r = client.post("/auth/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
        assert r.status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_session_cookie_flags(app, client, db):
    user = make_user(db)
    app.config["SESSION_COOKIE_SECURE"] = True  # what Settings.session_cookie_secure sets behind HTTPS
    try:
        r = login(client, user.email)
        cookie = r.headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    finally:
        app.config["SESSION_COOKIE_SECURE"] = False


def test_script_in_login_fields_is_escaped(client, db):
    r = client.post("/auth/login", data={"email": "<script>alert(1)</script>", "password": "x' OR '1'='1"})
    assert r.status_code == 401
    assert b"<script>alert(1)</script>" not in r.data


def test_one_address_trying_many_accounts_is_limited(app, client, db):
    """Each account stays under its own limit; the address as a whole is stopped at ADDRESS_FACTOR times it."""
    limit = 2
    app.extensions["civictracker.login_limiter"] = LoginLimiter(limit, address_limit=5)
    codes = [
        login(client, f"victim{i}@example.org", "wrong-password!").status_code
        for i in range(6)  # 6 accounts, one try each: never an account's limit
    ]
    assert codes == [401] * 5 + [429]
    other = app.test_client()  # another address is not held back
    r = other.post(
        "/auth/login",
        data={"email": "victim9@example.org", "password": "wrong-password!"},
        environ_base={"REMOTE_ADDR": "10.9.9.9"},
    )
    assert r.status_code == 401
    app.extensions.pop("civictracker.login_limiter", None)


def test_login_fails_closed_when_the_limit_storage_is_away(app, client, db):
    from limits.storage import RedisStorage

    user = make_user(db)
    app.extensions["civictracker.login_limiter"] = LoginLimiter(
        3, storage=RedisStorage("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    )
    r = login(client, user.email)  # the right password: still refused, never a 500
    assert r.status_code == 429
    app.extensions.pop("civictracker.login_limiter", None)
