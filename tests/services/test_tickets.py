"""The ticket state machine and its workflows, on both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from civictracker.models import Follower, Reporter, TicketEvent, TicketStatus
from civictracker.models.values import Location
from civictracker.services import tickets as svc
from civictracker.services.errors import DomainError, InvalidTransition, ValidationFailed
from tests import factories

S = TicketStatus


def test_create_writes_created_event_and_sla(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    assert t.status == "open" and t.report_count == 1
    assert [e.kind for e in t.events] == ["created"]
    assert t.events[0].is_public and t.events[0].public_note
    assert t.sla_due_at is not None and (t.sla_due_at - t.created_at).total_seconds() == 72 * 3600
    urgent = factories.ticket(db, "pothole", urgent=True)
    assert urgent.priority == 1 and (urgent.sla_due_at - urgent.created_at).total_seconds() == 4 * 3600


def test_full_lifecycle_every_change_is_an_event(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    crew = factories.crew(db)
    svc.change_status(db, t, S.ACKNOWLEDGED, replies=factories.replies())
    svc.assign_crew(db, t, crew, public_note="Crew on the way", replies=factories.replies())
    svc.change_status(db, t, S.IN_PROGRESS, replies=factories.replies())
    svc.change_status(
        db,
        t,
        S.RESOLVED,
        note=svc.EventNote(public="Filled the pothole", internal="used 2 bags"),
        replies=factories.replies(),
    )
    assert t.closed_at is not None
    svc.change_status(
        db,
        t,
        S.REOPENED,
        actor=svc.Actor(label="resident"),
        note=svc.EventNote(public="Resident says it is still broken"),
        replies=factories.replies(),
    )
    assert t.closed_at is None
    db.commit()
    events = db.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(TicketEvent.id)
    ).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "open"),
        ("open", "acknowledged"),
        ("acknowledged", "assigned"),
        ("assigned", "in_progress"),
        ("in_progress", "resolved"),
        ("resolved", "reopened"),
    ]
    resolved = events[4]
    assert resolved.public_note == "Filled the pothole" and resolved.internal_note == "used 2 bags"
    assert events[2].public_note == "Crew on the way" and events[2].data["crew"] == crew.name


@pytest.mark.parametrize(
    ("path", "bad"),
    [([], S.RESOLVED.value + "x"), ([S.RESOLVED], S.IN_PROGRESS), ([S.CLOSED], S.ASSIGNED), ([], S.NEW)],
)
def test_invalid_transitions_are_refused_and_change_nothing(db, path, bad) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db)
    for step in path:
        svc.change_status(db, t, step, replies=factories.replies())
    before = (t.status, len(t.events))
    with pytest.raises((InvalidTransition, ValidationFailed)) as err:
        svc.change_status(db, t, bad, replies=factories.replies())
    assert str(err.value)
    assert (t.status, len(t.events)) == before


def test_transition_table_is_closed_over_states() -> None:
    for source, targets in svc.TRANSITIONS.items():
        assert source not in targets or source == S.ASSIGNED, source
        for target in targets:
            assert target in svc.TRANSITIONS, target
    # Nothing returns to intake states once a ticket is public.
    for source in (S.OPEN, S.ASSIGNED, S.RESOLVED):
        assert not svc.TRANSITIONS[source] & {S.NEW, S.NEEDS_LOCATION}


def test_needs_location_then_located(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, lat=None, lon=None, status=S.NEEDS_LOCATION)
    assert t.location is None and t.geocode_status == "pending"
    svc.set_ticket_location(
        t,
        Location(
            lat=42.3707,
            lon=-71.0975,
            precision="intersection",
            confidence=0.95,
            address="Hampshire St & Windsor St",
        ),
    )
    svc.change_status(db, t, S.OPEN, actor=svc.Actor(label="intake"), replies=factories.replies())
    assert t.status == "open" and t.geocode_status == "ok" and t.public_lat == t.lat


def test_private_location_is_generalised_publicly(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, lat=None, lon=None)
    svc.set_ticket_location(
        t,
        Location(
            lat=42.3712345,
            lon=-71.0987654,
            address="12 Elm St",
            street="Elm St",
            precision="interpolated",
        ),
        private=True,
    )
    assert (t.lat, t.lon) == (42.3712345, -71.0987654)
    assert (t.public_lat, t.public_lon) == (42.371, -71.099)
    assert t.address == "Elm St"


def test_bad_coordinates_rejected(db) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed):
        factories.ticket(db, lat=91.0, lon=0.0)


def test_merge_moves_followers_and_reports(db) -> None:  # type: ignore[no-untyped-def]
    a = factories.ticket(db)
    b = factories.ticket(db)
    r1 = Reporter(channel="x", external_id="1", handle="one")
    r2 = Reporter(channel="x", external_id="2", handle="two")
    db.add_all([r1, r2])
    db.flush()
    db.add_all(
        [
            Follower(ticket_id=a.id, reporter_id=r1.id, channel="x"),
            Follower(ticket_id=b.id, reporter_id=r1.id, channel="x"),
            Follower(ticket_id=b.id, reporter_id=r2.id, channel="x"),
        ]
    )
    db.flush()
    svc.merge_tickets(db, b, a, replies=factories.replies())
    assert b.status == "duplicate" and b.duplicate_of_id == a.id
    assert a.report_count == 2
    followers = {f.reporter_id for f in db.scalars(select(Follower).where(Follower.ticket_id == a.id))}
    assert followers == {r1.id, r2.id}
    with pytest.raises(DomainError):
        svc.merge_tickets(db, a, a, replies=factories.replies())
    with pytest.raises(DomainError):
        svc.merge_tickets(db, a, b, replies=factories.replies())


def test_assign_requires_open_ticket(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, lat=None, lon=None, status=S.NEEDS_LOCATION)
    with pytest.raises(DomainError):
        svc.assign_crew(db, t, factories.crew(db), replies=factories.replies())


def _queued_texts(db, ticket_id: int) -> list[str]:  # type: ignore[no-untyped-def]
    from civictracker.models import OutboundMessage

    rows = db.scalars(
        select(OutboundMessage).where(OutboundMessage.ticket_id == ticket_id).order_by(OutboundMessage.id)
    )
    return [m.text for m in rows]


def test_updates_carry_the_typed_note_in_the_residents_words(db) -> None:  # type: ignore[no-untyped-def]
    t = factories.ticket(db, code="traffic_signal", address="Hampshire St & Prospect St")
    ana = Reporter(channel="x", external_id="9", handle="ana", lang="es")
    db.add(ana)
    db.flush()
    db.add(Follower(ticket_id=t.id, reporter_id=ana.id, channel="x", lang="es"))
    db.flush()
    svc.assign_crew(
        db, t, factories.crew(db), public_note="El equipo llega el martes.", replies=factories.replies()
    )
    svc.change_status(db, t, S.IN_PROGRESS, replies=factories.replies())  # no note typed: none in the reply
    svc.change_status(
        db, t, S.RESOLVED, note=svc.EventNote(public="Signal timing reset."), replies=factories.replies()
    )
    assigned, working, resolved = _queued_texts(db, t.id)
    # an English note in a Spanish reply is labelled with its language, not dropped (no translation here)
    assert "Nota del equipo (en inglés): Signal timing reset." in resolved
    assert "El equipo llega el martes." in assigned and "problema de semáforo" in assigned
    assert "Hampshire St y Prospect St" in assigned and "Previsto para el" in assigned
    assert "Work is in progress" not in working and "traffic signal" not in working


def test_a_merge_notice_names_the_ticket_kept(db) -> None:  # type: ignore[no-untyped-def]
    kept, merged = factories.ticket(db), factories.ticket(db)
    bob = Reporter(channel="x", external_id="7", handle="bob")
    db.add(bob)
    db.flush()
    db.add(Follower(ticket_id=merged.id, reporter_id=bob.id, channel="x"))
    db.flush()
    svc.merge_tickets(db, merged, kept, replies=factories.replies())
    (notice,) = _queued_texts(db, kept.id)
    assert kept.ref in notice and merged.ref not in notice
