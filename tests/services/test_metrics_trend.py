"""Metrics trends: per week in the city's zone, per service and per channel, and their CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

from civictracker.models import TicketStatus
from civictracker.services import metrics
from tests import factories
from tests.web.auth.auth_helpers import login, make_user

# A Wednesday noon in Cambridge (17:00 UTC); its week starts Monday 2026-11-30.
NOW = dt.datetime(2026, 12, 2, 17, 0, tzinfo=dt.UTC)


def _ticket(db, code, created, *, reply_h=None, closed_h=None, channel="replay", due_h=72):  # type: ignore[no-untyped-def]
    t = factories.ticket(db, code, now=created, source_channel=channel)
    t.sla_due_at = created + dt.timedelta(hours=due_h)
    if reply_h is not None:
        t.first_public_reply_at = created + dt.timedelta(hours=reply_h)
    if closed_h is not None:
        t.status = TicketStatus.RESOLVED.value
        t.closed_at = created + dt.timedelta(hours=closed_h)
    return t


def test_weekly_trend_counts_reports_and_resolutions_in_their_own_weeks(db):
    last_week = NOW - dt.timedelta(days=7)
    _ticket(db, "pothole", last_week, reply_h=1, closed_h=24 * 7)  # resolved this week, late (SLA 72 h)
    _ticket(db, "pothole", last_week, reply_h=3)
    _ticket(db, "graffiti", NOW - dt.timedelta(hours=5), reply_h=0.5, closed_h=2, channel="x")
    _ticket(db, "graffiti", NOW - dt.timedelta(days=60))  # outside four weeks
    # Sunday 23:30 in Cambridge is Monday 04:30 UTC: it belongs to the Sunday's week, in the city's zone.
    _ticket(db, "trash", dt.datetime(2026, 11, 30, 4, 30, tzinfo=dt.UTC))
    db.flush()
    weeks = metrics.weekly_trend(db, weeks=4, zone="America/New_York", now=NOW)
    assert [w.label for w in weeks] == ["2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]
    prev, this = weeks[-2], weeks[-1]
    assert (prev.reported, prev.resolved, prev.median_reply_h) == (3, 0, 3.0)
    assert (this.reported, this.resolved, this.resolved_in_sla) == (1, 2, 1)
    assert this.median_resolve_h == 24 * 7  # the upper median of 2 h and 168 h
    assert weeks[0].reported == 0 and weeks[0].median_reply_h is None


def test_trend_by_service_and_channel(db):
    _ticket(db, "pothole", NOW - dt.timedelta(days=2), reply_h=2, closed_h=10)
    _ticket(db, "pothole", NOW - dt.timedelta(days=1), channel="x")
    _ticket(db, "graffiti", NOW - dt.timedelta(days=3), reply_h=1, channel="x")
    db.flush()
    by_service = metrics.trend_by(db, "service", days=30, now=NOW)
    assert [(r.label, r.reported, r.resolved) for r in by_service] == [("Pothole", 2, 1), ("Graffiti", 1, 0)]
    by_channel = {r.label: r for r in metrics.trend_by(db, "channel", days=30, now=NOW)}
    assert by_channel["x"].reported == 2 and by_channel["replay"].median_resolve_h == 10.0


def test_metrics_page_and_csv_show_the_trends(client, db):
    assert login(client, make_user(db, "dispatcher").email).status_code == 302
    _ticket(db, "pothole", dt.datetime.now(dt.UTC) - dt.timedelta(days=1), reply_h=1)
    db.commit()
    page = client.get("/console/metrics?days=30").data.decode()
    assert "Per week" in page and "Per service" in page and "Per channel" in page and "Pothole" in page
    rows = list(csv.reader(io.StringIO(client.get("/console/metrics.csv?days=30").data.decode())))
    service_rows = [r for r in rows if r[0] == "service"]
    assert service_rows and service_rows[0][1] == "Pothole" and service_rows[0][2] == "1"
