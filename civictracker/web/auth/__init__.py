"""Staff authentication: log in and out with flask-login, rate-limited, CSRF-protected forms."""

from civictracker.web.auth import reset, views  # noqa: F401  (registers the routes on bp)
from civictracker.web.auth.blueprint import bp

__all__ = ["bp"]
