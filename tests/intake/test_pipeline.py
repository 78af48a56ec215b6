"""The intake pipeline on both backends: triage, locate, dedupe, threads, ask-back, bad input."""

from __future__ import annotations

from sqlalchemy import select

from civictracker.extensions import db as ext_db
from civictracker.intake.receive import receive_post
from civictracker.jobs import posts as jobs
from civictracker.models import Follower, InboundPost, OutboundMessage, Reporter, Ticket
from civictracker.outbox import sweep as outbox
from civictracker.services import tickets as ticket_service
from tests import factories
from tests.intake.helpers import count_rows, deliver, incoming


def test_request_becomes_ticket_with_ack_in_thread(app) -> None:  # type: ignore[no-untyped-def]
    post = deliver(
        "@CambridgeMA huge pothole at the corner of Hampshire and Windsor, nearly lost a tire",
        author="a1",
        handle="ann",
    )
    assert post.state == "processed" and post.outcome == "created", post.reason
    ticket = ext_db.session.get(Ticket, post.ticket_id)
    assert ticket.service.code == "pothole" and ticket.status == "open"
    assert ticket.precision == "intersection" and "Hampshire St" in ticket.address
    assert "pothole" in ticket.summary.lower() and "tire" not in ticket.summary  # our words, not theirs
    assert ticket.triage["reasons"], "dispatchers see why"
    ack = ext_db.session.scalars(select(OutboundMessage)).one()
    assert ack.kind == "ack" and ack.in_reply_to_id == post.external_id and not ack.is_dm
    assert ack.state == "sent" and ticket.ref in ack.text
    assert post.stages["triage"]["service_code"] == "pothole"


def test_processing_twice_changes_nothing(app) -> None:  # type: ignore[no-untyped-def]
    post = deliver("pothole at 150 Hampshire St", author="a1")
    counts = (count_rows(Ticket), count_rows(OutboundMessage), count_rows(Follower))
    assert jobs.process_post(post.id) == "created"
    stored, created = receive_post(
        ext_db.session, incoming("pothole at 150 Hampshire St", ext=post.external_id)
    )
    assert not created and stored.id == post.id
    assert (count_rows(Ticket), count_rows(OutboundMessage), count_rows(Follower)) == counts


def test_same_problem_is_merged_and_each_reporter_acknowledged_once(app) -> None:  # type: ignore[no-untyped-def]
    first = deliver("pothole at hampshire st & windsor st", author="a1")
    second = deliver("@CambridgeMA giant pothole cor of Hampshire and Windsor!!", author="a2")
    again = deliver("@CambridgeMA giant pothole cor of Hampshire and Windsor!!", author="a2")
    assert second.outcome == "merged" and second.ticket_id == first.ticket_id
    assert again.outcome == "merged"
    ticket = ext_db.session.get(Ticket, first.ticket_id)
    assert ticket.report_count == 3 and ticket.follower_count == 2
    kinds = sorted(m.kind for m in ext_db.session.scalars(select(OutboundMessage)))
    assert kinds == ["ack", "merged"]  # one acknowledgement per reporter, no storm


def test_two_potholes_40m_apart_stay_two_tickets(app) -> None:  # type: ignore[no-untyped-def]
    a = deliver("pothole in front of 100 Hampshire St", author="a1")
    b = deliver("pothole in front of 108 Hampshire St", author="a2")  # 38.6 m from 100
    assert a.outcome == "created" and b.outcome == "created", (a.reason, b.reason)
    assert a.ticket_id != b.ticket_id


def test_missing_location_asks_back_and_the_answer_completes_the_ticket(app) -> None:  # type: ignore[no-untyped-def]
    post = deliver("@CambridgeMA the streetlight on my block has been out for a week", author="c1")
    assert post.outcome == "ask_back"
    ticket = ext_db.session.get(Ticket, post.ticket_id)
    assert ticket.status == "needs_location" and ticket.lat is None
    ask = ext_db.session.scalars(select(OutboundMessage)).one()
    assert ask.kind == "ask_location" and ask.in_reply_to_id == post.external_id
    answer = deliver("it's at 150 Hampshire St", author="c1", kind="reply", reply_to=post.external_id)
    assert answer.outcome == "located", answer.reason
    ext_db.session.refresh(ticket)
    assert ticket.status == "open" and ticket.precision == "interpolated" and ticket.lat is not None
    kinds = [m.kind for m in ext_db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id))]
    assert kinds == ["ask_location", "ack"]


def test_still_broken_reopens_and_followers_are_told_once(app) -> None:  # type: ignore[no-untyped-def]
    post = deliver("pothole at 150 Hampshire St", author="a1")
    ticket = ext_db.session.get(Ticket, post.ticket_id)
    ticket_service.change_status(
        ext_db.session,
        ticket,
        "resolved",
        note=ticket_service.EventNote(public="Patched"),
        replies=factories.replies(),
    )
    ext_db.session.commit()
    outbox.sweep_outbox()
    reply = deliver("nope, it's still not fixed", author="a1", kind="reply", reply_to=post.external_id)
    assert reply.outcome == "reopened", reply.reason
    ext_db.session.refresh(ticket)
    assert ticket.status == "reopened"
    kinds = [m.kind for m in ext_db.session.scalars(select(OutboundMessage).order_by(OutboundMessage.id))]
    assert kinds == ["ack", "resolved", "reopened"]
    thanks = deliver("it's fixed now, thanks!", author="a1", kind="reply", reply_to=post.external_id)
    assert thanks.outcome == "fixed_confirmed"


def test_non_requests_are_not_ticketed(app) -> None:  # type: ignore[no-untyped-def]
    for text in [
        "Great job on the fireworks last night Cambridge! #proud",
        "Stay safe everyone, thinking of all affected by the storm",
        "Buy cheap followers now!!! click http://spam.example",
    ]:
        post = deliver(text)
        assert post.outcome.startswith("not_request"), (text, post.outcome, post.reason)
    assert count_rows(Ticket) == 0 and count_rows(OutboundMessage) == 0


def test_dm_is_answered_by_dm_and_home_address_is_block_level(app) -> None:  # type: ignore[no-untyped-def]
    post = deliver(
        "there are rats all over the trash behind 14 Aberdeen Ave, my number is 617-555-0101",
        author="d1",
        kind="dm",
    )
    assert post.ticket_id is not None, post.reason
    ticket = ext_db.session.get(Ticket, post.ticket_id)
    assert ticket.private_location and ticket.public_lat != ticket.lat
    assert "14" not in ticket.address and "617" not in ticket.summary
    msg = ext_db.session.scalars(select(OutboundMessage)).one()
    assert msg.is_dm


def test_dm_house_number_outside_every_range_still_stays_private(app) -> None:  # type: ignore[no-untyped-def]
    # 170 Amherst St is an official address that no centerline range contains: it is placed on the street,
    # not interpolated, but a DM named a house number, so the public still sees only the street.
    post = deliver("rat problem in the trash outside my house, 170 Amherst St", author="d2", kind="dm")
    assert post.ticket_id is not None, post.reason
    ticket = ext_db.session.get(Ticket, post.ticket_id)
    assert ticket.private_location, (ticket.precision, ticket.address)
    assert "170" not in ticket.summary and "170" not in ticket.address  # address is the public place


def test_bad_input_is_recorded_not_lost(app) -> None:  # type: ignore[no-untyped-def]
    texts = ["", "x" * 10_000, "bad \ud800 surrogate and NUL \x00 byte", "<script>alert(1)</script> pothole?"]
    for text in texts:
        post = deliver(text)
        assert post.state in {"processed", "ignored"}, (text[:20], post.state, post.error)
    assert count_rows(InboundPost) == len(texts)
    geotag_zero = deliver("pothole here!", lat=0.0, lon=0.0)
    assert geotag_zero.outcome == "ask_back"


def test_blocked_and_opted_out_accounts(app) -> None:  # type: ignore[no-untyped-def]
    ext_db.session.add(Reporter(channel="replay", external_id="spam1", handle="spammer", blocked=True))
    ext_db.session.commit()
    post = deliver("pothole at 150 Hampshire St", author="spam1")
    assert post.state == "ignored" and post.outcome == "blocked"
    stop = deliver("STOP", author="q1")
    assert stop.outcome == "opted_out"
    later = deliver("pothole at 100 Hampshire St", author="q1")
    assert later.outcome == "created"
    assert count_rows(OutboundMessage) == 0  # an opted-out resident gets no reply


def test_a_crash_is_recorded_and_the_post_is_kept(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import civictracker.services.dedupe as dedupe

    def boom(*_a, **_k):  # type: ignore[no-untyped-def]
        raise RuntimeError("geocoder exploded")

    monkeypatch.setattr(dedupe, "find_duplicate", boom)
    post, _ = receive_post(ext_db.session, incoming("pothole at 150 Hampshire St"))
    ext_db.session.commit()
    queue = app.extensions["civictracker.queue"]
    queue.enqueue(jobs.process_post, post.id)
    ext_db.session.expire_all()
    stored = ext_db.session.get(InboundPost, post.id)
    assert stored.state == "failed" and "geocoder exploded" in stored.error
    monkeypatch.undo()
    assert jobs.retry_failed_posts() == 1
    ext_db.session.expire_all()
    assert ext_db.session.get(InboundPost, post.id).outcome == "created"


def test_a_named_street_is_enough_for_a_street_ticket(app) -> None:  # type: ignore[no-untyped-def]
    post = deliver("@CambridgeMA Fayerweather St hasn't seen a plow since yesterday morning", author="s1")
    assert post.outcome == "created", post.reason
    ticket = ext_db.session.get(Ticket, post.ticket_id)
    assert ticket.status == "open" and ticket.precision == "street" and ticket.street == "Fayerweather St"
    assert ticket.summary.endswith("on Fayerweather St.")
    # "Brattle" also names Brattle Cir, but Brattle St is far longer: the street everyone means.
    bare = deliver("big pothole on Brattle", author="s2")
    assert bare.outcome == "created" and ext_db.session.get(Ticket, bare.ticket_id).street == "Brattle St"
    misspelt = deliver("the streetlight is out on Hampshre", author="s3")
    assert misspelt.outcome == "ask_back", misspelt.reason


def test_corner_phrases_in_spanish_and_creole_are_located(app) -> None:  # type: ignore[no-untyped-def]
    from civictracker.geo.normalize import english_location_phrases  # the extractor's own rewrite

    assert english_location_phrases("hay un bache en la esquina de Western Ave y Putnam Ave") == (
        "hay un bache corner of Western Ave and Putnam Ave"
    )
    assert (
        english_location_phrases("picharam o muro da rua no 205 Broadway St")
        == "picharam o muro da rua at 205 Broadway St"
    )
    # No foreign word besides the one-letter "y": English text is left as written.
    assert (
        english_location_phrases("no pothole here, Cambridge St y nada mas")
        == "no pothole here, Cambridge St y nada mas"
    )
    es = deliver("hay un bache enorme en la esquina de Western Ave y Putnam Ave", author="e1")
    ht = deliver("gen yon gwo twou nan kwen Harvard St ak Prospect St", author="h1")
    for post, where in ((es, "Putnam Ave & Western Ave"), (ht, "Harvard St & Prospect St")):
        assert post.outcome == "created", post.reason
        ticket = ext_db.session.get(Ticket, post.ticket_id)
        assert ticket.precision == "intersection" and set(ticket.address.split(" & ")) == set(
            where.split(" & ")
        )


def test_followers_only_mastodon_post_is_answered_alike_and_kept_private(app) -> None:  # type: ignore[no-untyped-def]
    import dataclasses

    post_in = dataclasses.replace(
        incoming("pothole in front of 14 Aberdeen Ave, huge one", author="m1", channel="mastodon"),
        visibility="private",
        raw={"type": "mention", "status": {"id": "9", "visibility": "private"}},
    )
    post, _ = receive_post(ext_db.session, post_in)
    ext_db.session.commit()
    jobs.process_post(post.id)
    ext_db.session.expire_all()
    post = ext_db.session.get(InboundPost, post.id)
    assert post.ticket_id is not None, post.reason
    ticket = ext_db.session.get(Ticket, post.ticket_id)
    assert ticket.private_location and "14" not in ticket.summary  # a house number, seen by followers only
    (message,) = ext_db.session.scalars(select(OutboundMessage)).all()
    assert message.visibility == "private"  # answered alike: never a public reply to a followers-only post


def test_odd_external_ids_are_received_once_and_found_again(app) -> None:  # type: ignore[no-untyped-def]
    from civictracker.intake.receive import receive_posts

    odd = incoming("pothole on Hampshire St", ext="id-\x00-" + "9" * 300)
    first, created = receive_post(ext_db.session, odd)
    ext_db.session.commit()
    again, created_again = receive_post(ext_db.session, odd)
    page = receive_posts(ext_db.session, [odd, odd])
    assert created and not created_again and again.id == first.id
    assert [(p.id, c) for p, c in page] == [(first.id, False), (first.id, False)]
    assert count_rows(InboundPost) == 1
