"""Helpers for the console tests: staff accounts and logging in through the real form."""

from __future__ import annotations

from itertools import count

from civictracker.services.users import create_user

PASSWORD = "correct-horse-battery"
_seq = count(1)


def make_user(
    db, role: str = "dispatcher", *, email: str | None = None, crew_id: int | None = None, active: bool = True
):
    user = create_user(db, email or f"{role}{next(_seq)}@city.example", PASSWORD, role=role, crew_id=crew_id)
    user.active = active
    db.commit()
    return user


def login(client, email: str, password: str = PASSWORD, **kwargs):
    return client.post("/auth/login", data={"email": email, "password": password, **kwargs})


def logged_in(client, db, role: str = "dispatcher", **kwargs):
    """A user of `role`, logged in on `client`; returns the user."""
    user = make_user(db, role, **kwargs)
    response = login(client, user.email)
    assert response.status_code == 302, response.data
    return user
