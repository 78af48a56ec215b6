"""The public face (no login): the open-issue map, its viewport GeoJSON, and public ticket pages."""

from civictracker.web.public import views  # noqa: F401  (registers the routes on bp)
from civictracker.web.public.blueprint import bp

__all__ = ["bp"]
