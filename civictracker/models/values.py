"""Value objects the models share: where a problem is (Location) and where a resident wrote (Thread)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from civictracker.geo.types import GeocodeResult


@dataclass(frozen=True)
class Thread:
    """Where a resident wrote, so the answer goes back there: the channel, by DM or not, the platform id
    of the post to answer, its conversation, and its visibility (Mastodon: public ... direct; X: None).

    Mapped as a composite on Follower and OutboundMessage (same columns, no migration)."""

    channel: str
    is_dm: bool
    reply_to_id: str | None
    conversation_id: str | None = None
    visibility: str | None = None


@dataclass(frozen=True)
class Location:
    """A ticket's exact place as a geocoder or a dispatcher gave it (the public point is derived from it)."""

    lat: float
    lon: float
    precision: str | None = None
    confidence: float | None = None
    address: str = ""
    street: str | None = None
    segment_id: str | None = None
    line: tuple[tuple[float, float], ...] | None = None  # (lon, lat) points of a street span

    @classmethod
    def from_geocode(
        cls, loc: GeocodeResult, *, address: str | None = None, with_line: bool = True
    ) -> Location | None:
        """The geocoder's answer as a ticket place (None without a point): the one mapping of its fields.

        `address`: instead of the matched text; `with_line=False` drops the street span (a private place)."""
        if loc.lat is None or loc.lon is None:
            return None
        return cls(
            lat=loc.lat,
            lon=loc.lon,
            precision=loc.precision,
            confidence=loc.confidence,
            address=(loc.matched or "") if address is None else address,
            street=loc.street,
            segment_id=loc.segment_id,
            line=tuple((x, y) for x, y in loc.line) if with_line and loc.line else None,
        )
