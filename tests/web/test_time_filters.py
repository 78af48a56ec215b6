"""Times people read are in the city pack's zone (America/New_York for Cambridge); pages name the city."""

from __future__ import annotations

import datetime as dt
import re

from civictracker.models import TicketStatus
from civictracker.services.tickets import EventNote, assign_crew, change_status
from civictracker.web.filters import localtime, timetag
from tests import factories
from tests.web.console.console_helpers import logged_in

WINTER = dt.datetime(2026, 1, 15, 14, 30, tzinfo=dt.UTC)  # 09:30 EST (UTC-5)
SUMMER = dt.datetime(2026, 7, 4, 16, 5, tzinfo=dt.UTC)  # 12:05 EDT (UTC-4)


def test_filters_convert_to_the_city_zone_with_daylight_saving(app) -> None:
    assert localtime(WINTER) == "Jan 15, 2026, 9:30 AM EST"
    assert localtime(SUMMER) == "Jul 4, 2026, 12:05 PM EDT"
    assert localtime(WINTER, "console") == "2026-01-15 09:30 EST"
    assert localtime(SUMMER, "console") == "2026-07-04 12:05 EDT"
    assert localtime(WINTER.replace(tzinfo=None), "console") == "2026-01-15 09:30 EST"  # naive means UTC
    assert localtime(None) == "—" and localtime(None, "console", "never") == "never"
    tag = str(timetag(SUMMER, "console"))
    assert tag == '<time datetime="2026-07-04T12:05:00-04:00">2026-07-04 12:05 EDT</time>'


def test_console_ticket_and_queue_show_city_time_and_city_name(client, db) -> None:
    logged_in(client, db)
    crew = factories.crew(db)
    ticket = factories.ticket(db, summary="Pothole at the corner.", now=WINTER)
    assign_crew(db, ticket, crew, now=SUMMER, internal_note="Crew on the way.", replies=factories.replies())
    db.commit()

    page = client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert "Cambridge · 311" in page
    assert '<time datetime="2026-01-15T09:30:00-05:00">2026-01-15 09:30 EST</time>' in page  # created
    assert '<time datetime="2026-07-04T12:05:00-04:00">2026-07-04 12:05 EDT</time>' in page  # the event
    assert "14:30" not in page and "16:05" not in page  # no UTC clock time leaks through

    queue = client.get("/console/queue").get_data(as_text=True)
    assert "2026-01-15 09:30 EST" in queue and "14:30" not in queue
    assert "Cambridge · 311" in queue


def test_public_ticket_page_times_are_local(client, db) -> None:
    ticket = factories.ticket(db, summary="Streetlight out.", now=WINTER)
    change_status(
        db,
        ticket,
        TicketStatus.ACKNOWLEDGED,
        note=EventNote(public="Crew booked."),
        now=SUMMER,
        replies=factories.replies(),
    )
    db.commit()
    page = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert '<time datetime="2026-01-15T09:30:00-05:00">Jan 15, 2026, 9:30 AM EST</time>' in page
    assert '<time datetime="2026-07-04T12:05:00-04:00">Jul 4, 2026, 12:05 PM EDT</time>' in page
    assert not re.search(r"\b(UTC|\+00:00)\b", page)
    assert "Reported problems in Cambridge" in client.get("/").get_data(as_text=True)
