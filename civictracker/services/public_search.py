"""The public map's search box: a ticket number, an address, a corner, a street or a place, offline."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.geo.extract import UNIT_WORDS, extract_locations
from civictracker.geo.gazetteer import Gazetteer
from civictracker.geo.geocode import geocode_text
from civictracker.geo.normalize import DIRECTIONS, clean_text, fold, name_tokens, split_type
from civictracker.geo.stopwords import FUZZY_STOPWORDS
from civictracker.geo.types import GeocodeResult, LonLat
from civictracker.models import Service, Ticket
from civictracker.models.ticket import ANNOUNCED_STATUSES, PUBLIC_STATUSES
from civictracker.services.errors import ValidationFailed
from civictracker.services.public import STATUS_LABELS, public_address

MAX_QUERY = 200  # no address, corner or place name is longer; a longer text is not a search
MAX_MATCHES = 6
MAX_TICKET_ID = 2_147_483_647  # what the id column holds
# "#123", "123", "CT-123", "ticket 123", "report #123": a number alone is a ticket, never a house.
_TICKET_RE = re.compile(r"^(?:#|ct-?|(?:ticket|report|request|no\.?)\s*#?)?\s*(\d{1,12})$", re.IGNORECASE)
_MARKUP_RE = re.compile(r"[<>{}]")
# What may follow a comma and still mean this city: a state, a country, a ZIP code.
_REGION_WORDS = frozenset({"ma", "mass", "massachusetts", "usa", "us", "united", "states", "of", "america"})
# Where the map goes for each kind of answer (a street or stretch is fitted to its line instead).
ZOOM_OF = {"ticket": 18, "address": 18, "intersection": 18, "place": 17, "area": 15, "street": 16}


@dataclass(frozen=True)
class SearchMatch:
    """One answer: what it is, where, and for a ticket its public page."""

    label: str
    kind: str  # ticket | address | intersection | between | street | place | area
    lat: float | None
    lon: float | None
    zoom: int
    bbox: tuple[float, float, float, float] | None = None  # min lon, min lat, max lon, max lat (a street)
    url: str | None = None

    def to_dict(self) -> dict[str, Any]:
        point = None if self.lat is None or self.lon is None else [round(self.lon, 6), round(self.lat, 6)]
        out: dict[str, Any] = {"label": self.label, "kind": self.kind, "point": point, "zoom": self.zoom}
        if self.bbox is not None:
            out["bbox"] = [round(v, 6) for v in self.bbox]
        if self.url is not None:
            out["url"] = self.url
        return out


@dataclass(frozen=True)
class SearchAnswer:
    """The matches, best first, and a sentence for the resident when there are none."""

    query: str
    matches: list[SearchMatch] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query, "matches": [m.to_dict() for m in self.matches], "message": self.message}


def clean_query(raw: str | None) -> str:
    """The search text, trimmed and with its spaces folded; raises ValidationFailed when it is no search."""
    text = " ".join((raw or "").split())
    if not text:
        raise ValidationFailed(
            'Type an address, a street, a corner ("Hampshire St and Prospect St"), a place or a report'
            " number."
        )
    if len(text) > MAX_QUERY:
        raise ValidationFailed(f"The search is {len(text):,} characters long; at most {MAX_QUERY} are read.")
    if _MARKUP_RE.search(text):
        raise ValidationFailed(
            "The search cannot contain <, >, { or }: type an address, a street or a number."
        )
    return text


def search_map(
    session: Session, gz: Gazetteer, raw: str | None, *, city_name: str, ticket_url: str = "/tickets/{id}"
) -> SearchAnswer:
    """What a resident typed in the map's search box, answered from the offline gazetteer (no remote
    service: a search is not worth a rate-limited second) or, for a number, the public ticket."""
    text = clean_query(raw)
    number = _TICKET_RE.match(text)
    if number:
        return _ticket_answer(session, text, int(number.group(1)), ticket_url)
    elsewhere = _other_city(gz, text, city_name)
    if elsewhere:
        return SearchAnswer(
            text, [], f"\u201c{elsewhere}\u201d is not in {city_name}: this map covers {city_name} only."
        )
    result = geocode_text(gz, text)
    matches: list[SearchMatch] = []
    if result.found:
        matches.append(_place_match(gz, result))
    matches.extend(_street_suggestions(gz, text, {m.label for m in matches}))
    town = _town_after_street(gz, text, city_name) if result.kind == "street" and result.found else None
    if town:
        # Not "not found": the street is kept, in case the words were no town after all.
        return SearchAnswer(
            text,
            matches[:MAX_MATCHES],
            f"\u201c{town}\u201d is not a street or place in {city_name}: this map covers {city_name} only."
            f" {result.matched} below is the one in {city_name}.",
        )
    if not matches:
        return SearchAnswer(
            text,
            [],
            f"No address, street, corner or place in {city_name} matches \u201c{text}\u201d. "
            "Try a house number and street, or two streets that meet.",
        )
    return SearchAnswer(text, matches[:MAX_MATCHES])


def _ticket_answer(session: Session, text: str, ticket_id: int, ticket_url: str) -> SearchAnswer:
    row = None
    if 0 < ticket_id <= MAX_TICKET_ID:
        stmt = (
            select(
                Ticket.id,
                Ticket.status,
                Ticket.public_lat,
                Ticket.public_lon,
                Ticket.address,
                Ticket.street,
                Ticket.private_location,
                Service.name.label("service_name"),
            )
            .join(Service, Service.id == Ticket.service_id)
            .where(
                Ticket.id == ticket_id,
                Service.public.is_(True),
                Ticket.status.in_([s.value for s in ANNOUNCED_STATUSES]),
            )
        )
        row = session.execute(stmt).first()
    if row is None:
        return SearchAnswer(
            text,
            [],
            f"No public report has the number {ticket_id}. For an address, type the street too "
            f"(\u201c{ticket_id} Main St\u201d).",
        )
    place = public_address(row.address, row.street, row.private_location)
    status = STATUS_LABELS.get(row.status, row.status)
    label = f"#{row.id} · {row.service_name}" + (f" · {place}" if place else "") + f" ({status})"
    shown = row.status in PUBLIC_STATUSES and row.public_lat is not None  # a rejected one has no pin
    return SearchAnswer(
        text,
        [
            SearchMatch(
                label=label,
                kind="ticket",
                lat=float(row.public_lat) if shown else None,
                lon=float(row.public_lon) if shown else None,
                zoom=ZOOM_OF["ticket"],
                url=ticket_url.format(id=row.id),
            )
        ],
    )


def _other_city(gz: Gazetteer, text: str, city_name: str) -> str | None:
    """The town after a comma when it is not this city ("Main St, Springfield"), else None."""
    if "," not in text:
        return None
    tail = text.rsplit(",", 1)[1].strip()
    words = [w for w in re.findall(r"[^\W\d_]+", tail.lower()) if w not in _REGION_WORDS]
    if not words:
        return None  # "..., MA 02139"
    own = set(re.findall(r"[^\W\d_]+", city_name.lower()))
    if set(words) <= own | {"city"}:
        return None
    local = geocode_text(gz, tail)
    # A neighbourhood or a street named with its type ("Main St, Kendall Square", "..., Hampshire St") is
    # this city; a bare word that only matches a street name without its type ("Springfield") is a town.
    if local.found and (
        local.kind != "street" or split_type(name_tokens(tail, gz.lexicon), gz.lexicon)[1] is not None
    ):
        return None
    return tail


def _town_after_street(gz: Gazetteer, text: str, city_name: str) -> str | None:
    """ "Main St Springfield" (no comma): the capitalized words after a full street name, when they name
    no street, place, unit or region here and are no common word, else None."""
    if "," in text:
        return None  # _other_city read it
    phrases = extract_locations(text, gz)
    cleaned = clean_text(text, gz.lexicon)
    if (
        not phrases
        or phrases[0].kind != "street"
        or not phrases[0].typed
        or cleaned[: phrases[0].start].strip()
    ):
        return None
    tail = cleaned[phrases[0].end :].split()
    written = text.split()[-len(tail) :] if tail else []
    if not 1 <= len(tail) <= 3 or fold(" ".join(written)) != " ".join(tail):
        return None  # nothing after the street, too much, or not word for word what was typed
    own = set(re.findall(r"[^\W\d_]+", city_name.lower())) | {"city"}
    words = [(w, t) for w, t in zip(written, tail, strict=True) if t not in _REGION_WORDS]
    lex = gz.lexicon
    if not words or any(
        not t.isalpha()
        or not w[0].isupper()
        or t in own
        or t in UNIT_WORDS
        or t in DIRECTIONS
        or t in lex.street_types
        or t in FUZZY_STOPWORDS
        for w, t in words
    ):
        return None
    key = name_tokens(" ".join(t for _, t in words), lex)
    if key in gz.full_index or key[0] in gz.place_first or (len(key) == 1 and key[0] in gz.place_context):
        return None  # "Main St Kendall", "Main St Harvard" (Square): a place of this city, or its start
    return " ".join(written)


def _bbox(coords: list[LonLat]) -> tuple[float, float, float, float] | None:
    if len(coords) < 2:
        return None
    lons, lats = [c[0] for c in coords], [c[1] for c in coords]
    return (min(lons), min(lats), max(lons), max(lats))


def _place_match(gz: Gazetteer, result: GeocodeResult) -> SearchMatch:
    kind = result.kind or "place"
    label = result.matched or result.street or ""
    assert result.lat is not None and result.lon is not None
    bbox = None
    if kind in ("street", "between"):
        line = result.line or (gz.street_line(result.street) if result.street else [])
        bbox = _bbox(list(line))
    return SearchMatch(label, kind, result.lat, result.lon, ZOOM_OF.get(kind, 17), bbox)


def _street_suggestions(gz: Gazetteer, text: str, seen: set[str]) -> list[SearchMatch]:
    """Streets whose name starts with what was typed ("hamp" -> Hampshire St, Hampden St): a partial
    name is a common search. Not for an address or a corner, which the geocoder answered or not."""
    low = text.lower()
    if len(low) < 3 or any(ch.isdigit() for ch in low) or " and " in f" {low} " or "&" in low:
        return []
    found = []
    for name in sorted(gz.streets):
        if name in seen or not name.lower().startswith(low):
            continue
        coords = [c for i in gz.streets[name] for c in gz.segments[i].coords]
        point = gz.street_points.get(name) or (coords[len(coords) // 2] if coords else None)
        if point is None:
            continue
        found.append(SearchMatch(name, "street", point[1], point[0], ZOOM_OF["street"], _bbox(coords)))
        if len(found) >= MAX_MATCHES - 1:
            break
    return found
