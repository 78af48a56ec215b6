"""Platform callbacks at /webhooks: X Account Activity deliveries, authenticated by signature, not session."""

from civictracker.web.webhooks import views  # noqa: F401  (registers the routes on bp)
from civictracker.web.webhooks.blueprint import bp

__all__ = ["bp"]
