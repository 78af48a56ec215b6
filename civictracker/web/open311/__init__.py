"""Open311 GeoReport v2 at /open311/v2: a blueprint whose POST is authenticated by API key, not by session."""

from civictracker.web.open311 import views  # noqa: F401  (registers the routes on bp)
from civictracker.web.open311.blueprint import bp

__all__ = ["bp"]
