"""The dispatcher console: queue, map, ticket work, crew view, admin pages and metrics."""

from civictracker.web.console import (  # noqa: F401  (registers the routes on bp)
    admin,
    admin_replies,
    crew,
    inbox,
    metrics,
    photos,
    queue,
    ticket,
)
from civictracker.web.console.blueprint import bp

__all__ = ["bp"]
