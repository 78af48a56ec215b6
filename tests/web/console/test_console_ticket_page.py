"""The ticket page as a dispatcher reads it: triage in sentences, every field labelled, the next status
chosen, and a ticket with no place never drawn at the city centre."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from console_helpers import logged_in

from civictracker.models import TicketStatus
from civictracker.web.console.triage_view import explain_triage
from tests import factories
from tests.intake.helpers import deliver


class _Fields(HTMLParser):
    """The ids of the visible form controls and the `for` of every <label>."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[str] = []
        self.labelled: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "label" and a.get("for"):
            self.labelled.add(str(a["for"]))
        if tag in ("textarea", "select") or (tag == "input" and a.get("type") not in ("hidden", "submit")):
            self.controls.append(str(a.get("id") or a.get("name")))


def _selected(page: str, select_id: str) -> tuple[str, list[str]]:
    html = re.search(rf'<select id="{select_id}".*?</select>', page, re.S).group(0)  # type: ignore[union-attr]
    values = re.findall(r'value="([^"]*)"', html)
    chosen = re.search(r'<option selected value="([^"]*)"|<option value="([^"]*)" selected', html)
    assert chosen is not None, html
    return chosen.group(1) or chosen.group(2), values


def test_triage_is_read_as_reasons_not_json(client, db) -> None:  # type: ignore[no-untyped-def]
    post = deliver("huge pothole on Hampshire St at Windsor St, my car almost broke", author="r1")
    logged_in(client, db)
    page = client.get(f"/console/tickets/{post.ticket_id}").data.decode()
    block = re.search(r'<dl class="triage" id="triage-reasons">.*?</dl>', page, re.S).group(0)  # type: ignore[union-attr]
    for text in (
        "A service request (",
        "% confident)",
        "Category",
        "Pothole",
        "catalog keywords: pothole",
        "Urgent",
        "Language",
        "English (en)",
    ):
        assert text in block, text
    assert "{&#34;is_request" not in block and '"reasons"' not in block


def test_spanish_hazard_reasons_name_the_words_and_language() -> None:
    triage = {
        "is_request": True,
        "service_code": "streetlight",
        "urgent": True,
        "hazards": ["sparks"],
        "lang": "es",
        "kind": "request",
        "confidence": 0.95,
        "reasons": [
            "service request (p=0.95)",
            "request words: hay, cable",
            "language es: mostly es (5 against en 2)",
            "words for streetlight: cable, poste",
            "urgent: sparks, downed wire",
            "something new",
        ],
        "risk": {"level": "high_risk", "priority": 3, "reasons": ["hazard: sparks"]},
    }
    lines = {line.about: line for line in explain_triage(triage, {"streetlight": "Streetlight out"})}
    assert lines["Request"].decision == "A service request (95% confident)"
    assert lines["Request"].why == ["request words: hay, cable"]
    assert lines["Category"].decision == "Streetlight out"
    assert lines["Category"].why == ["words the model weighed most: cable, poste"]
    assert (lines["Urgent"].decision, lines["Urgent"].why) == ("Yes", ["hazard words: sparks, downed wire"])
    assert lines["Language"].decision.startswith("Spanish (es)")
    assert lines["Language"].why == ["mostly es (5 against en 2)"]
    assert lines["Escalation"].decision == "high risk"
    assert lines["Other"].why == ["something new"]  # never dropped


def test_every_field_has_a_visible_label(client, db) -> None:  # type: ignore[no-untyped-def]
    post = deliver("hay un bache enorme en Hampshire St y Windsor St", author="r-es")
    factories.crew(db)
    db.commit()
    logged_in(client, db)
    parser = _Fields()
    parser.feed(client.get(f"/console/tickets/{post.ticket_id}").data.decode())
    assert len(parser.controls) >= 12, parser.controls
    unlabelled = [c for c in parser.controls if c not in parser.labelled]
    assert unlabelled == [], unlabelled


def test_new_status_defaults_to_the_next_step_never_hidden(client, db) -> None:  # type: ignore[no-untyped-def]
    logged_in(client, db)
    expected = {
        TicketStatus.OPEN: "acknowledged",
        TicketStatus.ACKNOWLEDGED: "in_progress",
        TicketStatus.IN_PROGRESS: "resolved",
        TicketStatus.RESOLVED: "closed",
        TicketStatus.REJECTED: "open",
    }
    for status, wanted in expected.items():
        t = factories.ticket(db)
        t.status = status.value
        db.commit()
        chosen, values = _selected(client.get(f"/console/tickets/{t.id}").data.decode(), "status-to_status")
        assert chosen == wanted, (status, chosen, values)
        assert values[0] != "hidden" and (values[-1] == "hidden" or "hidden" not in values), values


def test_a_ticket_without_a_place_is_not_drawn_at_the_city_centre(client, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, lat=None, lon=None, status=TicketStatus.NEEDS_LOCATION)
    db.commit()
    logged_in(client, db)
    page = client.get(f"/console/tickets/{t.id}").data.decode()
    assert "No place yet." in page and "Set the place" in page
    assert "var located = false;" in page
    assert "L.marker([lat, lon]" not in page  # the old page put a pin at the centre
