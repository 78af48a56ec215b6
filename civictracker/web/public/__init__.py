"""The public face (no login): the open-issue map, its viewport GeoJSON, public ticket pages, Atom feeds."""

from civictracker.web.public import feeds, views  # noqa: F401  (register the routes on bp)
from civictracker.web.public.blueprint import bp

__all__ = ["bp"]
