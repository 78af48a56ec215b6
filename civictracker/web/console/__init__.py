"""The dispatcher console: queue, map, ticket work, crew view, admin pages and metrics."""

from civictracker.web.console import admin, crew, inbox, metrics, photos, queue, ticket  # noqa: F401  (registers the routes on bp)
from civictracker.web.console.blueprint import bp

__all__ = ["bp"]
