"""CSV exports for staff: every ticket (streamed, bounded memory whatever the count) and the metrics."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from civictracker.models import Crew, Service, Ticket
from civictracker.services.metrics import Distribution, TrendRow
from civictracker.services.response_metrics import FirstResponse

# Rows fetched per round trip; the response is written as they come, so memory stays flat.
CHUNK = 2000
TICKET_COLUMNS = (
    "number",
    "service_code",
    "service",
    "status",
    "urgent",
    "created_utc",
    "updated_utc",
    "closed_utc",
    "due_utc",
    "address",
    "street",
    "lat",
    "lon",
    "precision",
    "channel",
    "crew",
    "duplicate_of",
)


def _iso(value: object) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if isinstance(value, dt.datetime) else ""


def _safe(value: object) -> object:
    """A cell a spreadsheet will not run: text starting with = + - @ is prefixed with a quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def _lines(rows: Iterable[Iterable[object]]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in rows:
        writer.writerow([_safe(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate(0)


def ticket_csv(session: Session) -> Iterator[str]:
    """Every ticket, oldest first, as CSV lines; staff data (exact point), never a reporter or post text."""
    stmt = (
        select(
            Ticket.id,
            Service.code,
            Service.name,
            Ticket.status,
            Ticket.priority,
            Ticket.created_at,
            Ticket.updated_at,
            Ticket.closed_at,
            Ticket.sla_due_at,
            Ticket.address,
            Ticket.street,
            Ticket.lat,
            Ticket.lon,
            Ticket.precision,
            Ticket.source_channel,
            Crew.name,
            Ticket.duplicate_of_id,
        )
        .join(Service, Service.id == Ticket.service_id)
        .outerjoin(Crew, Crew.id == Ticket.crew_id)
        .order_by(Ticket.id)
        .execution_options(yield_per=CHUNK)
    )

    def rows() -> Iterator[tuple[Any, ...]]:
        yield TICKET_COLUMNS
        for r in session.execute(stmt):
            cells = ["" if v is None else v for v in r]
            cells[4] = "yes" if r[4] else ""  # priority 1: urgent
            for i in (5, 6, 7, 8):
                cells[i] = _iso(r[i])
            yield tuple(cells)

    return _lines(rows())


def metrics_csv(
    days: int,
    reply: Distribution,
    resolve: Distribution,
    first: FirstResponse,
    trends: dict[str, list[TrendRow]],
) -> str:
    """The metrics page as one CSV: first response by channel and who, the two distributions, then the
    trend per week, service and channel."""
    rows: list[tuple[object, ...]] = [
        ("section", "channel", "who", "count", "median", "p90", "within_target", "unit", "window_days")
    ]
    for r in first.rows:
        rows.append(
            ("first_response", r.channel, r.who, r.count, r.median_min, r.p90_min, r.within, "minutes", days)
        )
    for name, dist in (("time_to_first_reply", reply), ("time_to_resolve", resolve)):
        rows.append((name, "all", "", dist.count, dist.median_h, dist.p90_h, "", "hours", days))
        rows.extend(
            (f"{name}_histogram", "all", label, n, "", "", "", "tickets", days) for label, n in dist.histogram
        )
    rows.append(
        ("trend", "label", "reported", "resolved", "median_reply_h", "median_resolve_h", "in_sla", "", "")
    )
    for group, trend in trends.items():
        for t in trend:
            medians = (_round(t.median_reply_h), _round(t.median_resolve_h))
            rows.append(
                (group, t.label, t.reported, t.resolved, *medians, t.resolved_in_sla, "tickets", days)
            )
    return "".join(_lines(rows))


def _round(hours: float | None) -> object:
    return "" if hours is None else round(hours, 2)
