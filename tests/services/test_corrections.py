"""A dispatcher's corrections (category, urgency, place) and rejections: events, replies, places."""

from __future__ import annotations

import pytest
from flask import current_app
from sqlalchemy import select

from civictracker.models import Follower, OutboundMessage, Reporter, TicketStatus
from civictracker.models.values import Thread
from civictracker.runtime import runtime_of
from civictracker.services import corrections
from civictracker.services import tickets as svc
from civictracker.services.errors import DomainError, ValidationFailed
from tests import factories

# Mass Ave at Porter Square: 2.5 km from Hampshire St & Windsor St, where factories put tickets.
PORTER = (42.3886, -71.1190)


def _follow(db, ticket, lang: str = "en", handle: str = "resident"):  # type: ignore[no-untyped-def]
    reporter = Reporter(channel="replay", external_id=f"id-{handle}", handle=handle)
    db.add(reporter)
    db.flush()
    follower = Follower(
        ticket_id=ticket.id,
        reporter_id=reporter.id,
        thread=Thread("replay", False, f"post-{handle}"),
        lang=lang,
    )
    db.add(follower)
    db.flush()
    return follower


def _sent(db, ticket) -> list[OutboundMessage]:  # type: ignore[no-untyped-def]
    return list(db.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == ticket.id)))


def test_category_change_is_an_event_and_each_follower_hears_it_in_their_language(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, "pothole", address="Hampshire St & Windsor St", street="Hampshire St")
    _follow(db, t, "en", "ann")
    _follow(db, t, "es", "beto")
    streetlight = factories.service(db, "streetlight")
    note = svc.EventNote(public="The crew found a dark lamp, not a hole.", internal="checked photos")
    events = corrections.correct_ticket(
        db, t, corrections.Correction(service=streetlight), replies=factories.replies(), note=note
    )
    assert [e.kind for e in events] == ["recategorized"]
    event = events[0]
    assert event.is_public and event.data == {"from": "pothole", "to": "streetlight"}
    assert (
        event.public_note
        == "Category changed from Pothole to Streetlight out. The crew found a dark lamp, not a hole."
    )
    assert event.internal_note == "checked photos"
    assert t.service.code == "streetlight"
    assert (t.sla_due_at - t.created_at).total_seconds() == 120 * 3600  # the new service's SLA
    texts = {m.lang: m.text for m in _sent(db, t)}
    assert all(m.kind == "corrected" for m in _sent(db, t))
    assert "filed as streetlight out" in texts["en"] and "dark lamp" in texts["en"] and t.ref in texts["en"]
    assert "Ahora está registrado como farola apagada" in texts["es"]
    # The same correction queued again (a retried request) sends nothing twice: one key per follower.
    assert len(_sent(db, t)) == 2


def test_urgency_change_shortens_the_sla_and_says_so(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, "pothole")
    _follow(db, t)
    corrections.correct_ticket(db, t, corrections.Correction(urgent=True), replies=factories.replies())
    assert t.priority == 1 and (t.sla_due_at - t.created_at).total_seconds() == 4 * 3600
    assert t.events[-1].kind == "reprioritized" and t.events[-1].public_note == "Marked urgent."
    assert "We've marked it urgent." in _sent(db, t)[0].text
    with pytest.raises(ValidationFailed, match="Nothing to correct"):
        corrections.correct_ticket(db, t, corrections.Correction(urgent=True), replies=factories.replies())


def test_a_pin_moved_across_town_takes_the_street_under_it(app, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, address="Hampshire St & Windsor St", street="Hampshire St", segment_id="old")
    _follow(db, t)
    gz = runtime_of(current_app).gazetteer()
    place = corrections.place_from_pin(gz, *PORTER)
    assert place.street and place.street != "Hampshire St" and place.segment_id
    corrections.correct_ticket(db, t, corrections.Correction(location=place), replies=factories.replies())
    assert (t.lat, t.lon, t.street, t.segment_id) == (*PORTER, place.street, place.segment_id)
    event = t.events[-1]
    assert event.kind == "relocated" and 2300 < event.data["moved_m"] < 2700
    assert event.data["from"]["street"] == "Hampshire St" and event.data["to"]["street"] == place.street
    assert f"The location is now near {place.street}." in _sent(db, t)[0].text
    with pytest.raises(ValidationFailed, match="outside the city"):
        corrections.place_from_pin(gz, 42.2, -71.5)


def test_a_typed_intersection_is_geocoded(app, db) -> None:  # type: ignore[no-untyped-def]
    gz = runtime_of(current_app).gazetteer()
    place = corrections.place_from_text(gz, "Hampshire St and Inman St")
    assert place.precision == "intersection" and place.street in {"Hampshire St", "Inman St"}
    assert abs(place.lat - 42.3735) < 0.002 and abs(place.lon + 71.1005) < 0.002
    with pytest.raises(ValidationFailed, match="Could not place"):
        corrections.place_from_text(gz, "zzqx nowhere")
    with pytest.raises(ValidationFailed):
        corrections.place_from_text(gz, "   ")


def test_a_private_place_is_named_by_its_street_only(app, db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, private_location=True)
    gz = runtime_of(current_app).gazetteer()
    place = corrections.place_from_text(gz, "12 Inman St")
    corrections.correct_ticket(db, t, corrections.Correction(location=place), replies=factories.replies())
    assert "12" not in t.events[-1].public_note and t.public_lat == round(t.lat, 3)


def test_only_a_live_ticket_is_corrected(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    svc.change_status(db, t, TicketStatus.RESOLVED, replies=factories.replies())
    with pytest.raises(DomainError, match="only an open ticket"):
        corrections.correct_ticket(db, t, corrections.Correction(urgent=True), replies=factories.replies())


def test_rejecting_without_a_note_still_tells_the_resident_why(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    _follow(db, t, "pt")
    event = svc.change_status(db, t, TicketStatus.REJECTED, replies=factories.replies())
    assert event.is_public and event.public_note == svc.DEFAULT_PUBLIC_NOTES[TicketStatus.REJECTED]
    (message,) = _sent(db, t)
    # The reason in the resident's language (the pack's words for the default note).
    assert (
        message.kind == "rejected" and "Não é algo em que as equipes da cidade possam atuar." in message.text
    )
    hidden = factories.ticket(db)
    _follow(db, hidden, handle="other")
    assert not svc.change_status(db, hidden, TicketStatus.HIDDEN, replies=factories.replies()).is_public
    assert _sent(db, hidden) == []  # moderation is recorded, not announced


def test_a_note_in_another_language_is_labelled_not_dropped(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    for lang in ("en", "es", "pt", "ht"):
        _follow(db, t, lang, f"r-{lang}")
    note = svc.EventNote(public="The crew will be there tomorrow morning with a truck.")
    svc.change_status(db, t, TicketStatus.IN_PROGRESS, replies=factories.replies(), note=note)
    texts = {m.lang: m.text for m in _sent(db, t)}
    assert (
        "The crew will be there tomorrow morning" in texts["en"] and "Note from our team" not in texts["en"]
    )
    assert "Nota del equipo (en inglés): The crew will be there" in texts["es"]
    assert "Nota da equipe (em inglês): The crew will be there" in texts["pt"]
    assert "Nòt ekip la (an angle): The crew will be there" in texts["ht"]


def test_a_note_per_language_is_used_in_that_language(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    for lang in ("en", "es", "pt", "ht"):
        _follow(db, t, lang, f"r-{lang}")
    notes = {"es": "El equipo llega mañana temprano.", "pt": "A equipe chega amanhã cedo.", "ht": ""}
    note = svc.EventNote(public="The crew comes early tomorrow.", data={"notes": notes})
    event = svc.change_status(db, t, TicketStatus.IN_PROGRESS, replies=factories.replies(), note=note)
    assert event.data["notes"] == {"es": notes["es"], "pt": notes["pt"]}  # the empty one is dropped
    texts = {m.lang: m.text for m in _sent(db, t)}
    assert "El equipo llega mañana temprano." in texts["es"] and "comes early" not in texts["es"]
    assert "A equipe chega amanhã cedo." in texts["pt"] and "comes early" not in texts["pt"]
    assert "Nòt ekip la (an angle): The crew comes early tomorrow." in texts["ht"]  # none given: labelled
    assert "The crew comes early tomorrow." in texts["en"]
    with pytest.raises(ValidationFailed, match="No replies in language 'fr'"):
        svc.change_status(
            db,
            t,
            TicketStatus.RESOLVED,
            replies=factories.replies(),
            note=svc.EventNote(data={"notes": {"fr": "x"}}),
        )


def test_a_correction_uses_the_note_per_language_or_labels_the_typed_one(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, "pothole", address="Hampshire St & Windsor St", street="Hampshire St")
    for lang in ("es", "pt", "ht"):
        _follow(db, t, lang, f"r-{lang}")
    streetlight = factories.service(db, "streetlight")
    note = svc.EventNote(
        public="It is the lamp post, not the road.", data={"notes": {"pt": "É o poste, não a rua."}}
    )
    corrections.correct_ticket(
        db, t, corrections.Correction(service=streetlight), replies=factories.replies(), note=note
    )
    texts = {m.lang: m.text for m in _sent(db, t)}
    assert "É o poste, não a rua." in texts["pt"] and "lamp post" not in texts["pt"]
    assert "Nota del equipo (en inglés): It is the lamp post" in texts["es"]
    assert "Nòt ekip la (an angle): It is the lamp post" in texts["ht"]
