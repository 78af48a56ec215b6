"""Helpers for the console tests: staff accounts and logging in through the real form."""

from __future__ import annotations

from tests.web.auth.auth_helpers import PASSWORD, login, make_user

__all__ = ["PASSWORD", "logged_in", "login", "make_user"]


def logged_in(client, db, role: str = "dispatcher", **kwargs):
    """A user of `role`, logged in on `client`; returns the user."""
    user = make_user(db, role, **kwargs)
    response = login(client, user.email)
    assert response.status_code == 302, response.data
    return user
