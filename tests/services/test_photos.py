"""Photos: kept at intake (checked, bounded, never fetched), reviewed by dispatchers, public only when approved."""

from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from civictracker.channels.media import MediaRef
from civictracker.intake.receive import receive_post, receive_posts
from civictracker.models import InboundPost, InboxState, MediaReview, PostMedia, PostMediaEvent, TicketStatus
from civictracker.models.types import utcnow
from civictracker.services import photos
from civictracker.services.errors import ValidationFailed
from civictracker.services.public import get_public_ticket
from civictracker.services.tickets import Actor, change_status
from tests import factories
from tests.intake.helpers import deliver, incoming
from tests.web.auth.auth_helpers import make_user


def photo(n: int, alt: str | None = "A pothole full of water") -> MediaRef:
    return MediaRef(key=f"3_{n}", type="photo", url=f"https://pbs.twimg.com/media/P{n}.jpg", alt_text=alt,
                    width=1200, height=900)  # fmt: skip


def stored(db, text: str, media: list[MediaRef], *, ticket=None, kind: str = "mention", **kw) -> InboundPost:  # type: ignore[no-untyped-def]
    post, _ = receive_post(db, dataclasses.replace(incoming(text, kind=kind), media=tuple(media), **kw))
    if ticket is not None:
        post.ticket_id = ticket.id
    db.flush()
    return post


def rows(db, post: InboundPost) -> list[PostMedia]:  # type: ignore[no-untyped-def]
    return list(
        db.scalars(select(PostMedia).where(PostMedia.post_id == post.id).order_by(PostMedia.position))
    )


def test_bad_media_is_kept_as_a_problem_and_the_post_is_not_lost(db) -> None:  # type: ignore[no-untyped-def]
    media = [
        photo(1),
        MediaRef(key="3_2", type="photo", url="javascript:alert(1)", alt_text="x"),
        MediaRef(key="3_3", type="photo", url="https://img.example/" + "a" * 5000),
        MediaRef(key="3_4", type="hologram", url="https://img.example/h.bin"),
        photo(5, alt=None),
        MediaRef(key="3_6", type="photo", url=42, width="wide", height=True),
        MediaRef(key="3_1", type="photo", url="https://pbs.twimg.com/media/again.jpg"),  # same key twice
    ]
    post = stored(db, "pothole, photos attached", media)
    db.commit()
    assert db.get(InboundPost, post.id) is not None
    good, script, huge, odd, no_alt, junk = rows(db, post)
    assert (good.kind, good.url, good.alt_text, good.width, good.problem) == (
        "photo", "https://pbs.twimg.com/media/P1.jpg", "A pothole full of water", 1200, None)  # fmt: skip
    assert script.url is None and "scheme 'javascript' refused" in (script.problem or "")
    assert huge.url is None and "longer than 2048" in (huge.problem or "")
    assert (
        odd.kind == "unknown"
        and odd.platform_type == "hologram"
        and "unknown media type" in (odd.problem or "")
    )
    assert no_alt.alt_text is None and no_alt.problem is None
    assert (
        junk.url is None and junk.width is None and junk.height is None and "not text" in (junk.problem or "")
    )
    assert {r.review for r in rows(db, post)} == {MediaReview.PENDING}
    for row in (script, huge, odd, junk):
        assert photos.publishable(row) is not None  # never approvable


def test_media_of_a_page_of_posts_and_a_redelivery_stored_once(db) -> None:  # type: ignore[no-untyped-def]
    a = dataclasses.replace(incoming("first"), media=(photo(1),))
    b = dataclasses.replace(incoming("second"), media=(photo(2), photo(3)))
    got = receive_posts(db, [a, b, a])
    db.commit()
    assert [len(rows(db, p)) for p, _ in got] == [1, 2, 1]
    again, new = receive_post(db, a)
    db.commit()
    assert not new and len(rows(db, again)) == 1


def test_a_real_post_with_a_photo_becomes_a_ticket_with_its_photo(db) -> None:  # type: ignore[no-untyped-def]
    post, _ = receive_post(db, dataclasses.replace(
        incoming("@CambridgeMA huge pothole at Hampshire St and Windsor St"), media=(photo(9),)))  # fmt: skip
    db.commit()
    from civictracker.jobs import posts as jobs

    jobs.process_post(post.id)
    db.expire_all()
    post = db.get(InboundPost, post.id)
    assert post.ticket_id is not None
    (m,) = rows(db, post)
    assert m.review == MediaReview.PENDING and not m.private
    assert get_public_ticket(db, post.ticket_id, "America/New_York").photos == []  # pending: not public


def test_review_records_who_and_why_and_refuses_private_and_stale(db) -> None:  # type: ignore[no-untyped-def]
    user = make_user(db, "dispatcher")
    ticket = factories.ticket(db)
    public_post = stored(db, "pothole", [photo(1), MediaRef(key="a", type="audio", url="https://x.example/a.mp3")],
                         ticket=ticket)  # fmt: skip
    dm = stored(db, "party at 12 Elm St, photo", [photo(2)], ticket=ticket, kind="dm")
    followers_only = stored(db, "pothole", [photo(3)], ticket=ticket, visibility="private")
    db.commit()
    m, audio = rows(db, public_post)
    event = photos.review_media(
        db, m, MediaReview.APPROVED, actor=Actor(user=user), note="no faces, no plates"
    )
    db.commit()
    assert (m.review, m.reviewed_by_id, m.review_note) == (
        MediaReview.APPROVED,
        user.id,
        "no faces, no plates",
    )
    assert (event.from_review, event.to_review, event.actor_id, event.note) == (
        "pending", "approved", user.id, "no faces, no plates")  # fmt: skip
    photos.review_media(db, m, MediaReview.REJECTED, actor=Actor(user=user), note="a plate is readable")
    db.commit()
    history = db.scalars(
        select(PostMediaEvent).where(PostMediaEvent.media_id == m.id).order_by(PostMediaEvent.id)
    )
    assert [(e.to_review, e.note) for e in history] == [("approved", "no faces, no plates"),
                                                       ("rejected", "a plate is readable")]  # fmt: skip
    with pytest.raises(ValidationFailed, match="already rejected"):
        photos.review_media(db, m, MediaReview.REJECTED, actor=Actor(user=user))
    for private in (rows(db, dm)[0], rows(db, followers_only)[0]):
        assert private.private
        with pytest.raises(ValidationFailed, match="never shown publicly"):
            photos.review_media(db, private, MediaReview.APPROVED, actor=Actor(user=user))
    with pytest.raises(ValidationFailed, match="no image to show"):
        photos.review_media(db, audio, MediaReview.APPROVED, actor=Actor(user=user))
    with pytest.raises(ValidationFailed, match="at most 2000"):
        photos.review_media(db, m, MediaReview.APPROVED, actor=Actor(user=user), note="x" * 2001)
    db.rollback()
    # two dispatchers at once: the one who saw a state that has since changed is told, nothing written
    m = rows(db, public_post)[0]
    db.execute(PostMedia.__table__.update().where(PostMedia.id == m.id).values(review="approved"))
    with pytest.raises(photos.ReviewConflict):
        photos.review_media(db, m, MediaReview.APPROVED, actor=Actor(user=user))  # it still reads "rejected"


def test_only_approved_public_photos_reach_public_pages_map_and_open311(client, db) -> None:  # type: ignore[no-untyped-def]
    user = make_user(db, "dispatcher")
    ticket = factories.ticket(db, address="1 Hampshire St")
    first = stored(db, "pothole", [photo(1, alt="Pothole by the hydrant"), photo(2), photo(3)], ticket=ticket)
    dm = stored(db, "pothole outside my house", [photo(4)], ticket=ticket, kind="dm")
    gone = stored(db, "pothole", [photo(5)], ticket=ticket)
    hidden = stored(db, "pothole", [photo(6)], ticket=ticket)
    db.commit()
    approved, _pending, rejected = rows(db, first)
    photos.review_media(db, approved, MediaReview.APPROVED, actor=Actor(user=user))
    photos.review_media(db, rejected, MediaReview.REJECTED, actor=Actor(user=user), note="face")
    for post in (gone, hidden):
        photos.review_media(db, rows(db, post)[0], MediaReview.APPROVED, actor=Actor(user=user))
    gone.redacted_at = utcnow()  # the author deleted the post after approval
    hidden.inbox_state = InboxState.HIDDEN.value  # staff hid the post after approval
    # a DM photo marked approved behind the service's back (a bad script): still never public
    db.execute(PostMedia.__table__.update().where(PostMedia.post_id == dm.id).values(review="approved"))
    db.commit()
    never = ["P2.jpg", "P3.jpg", "P4.jpg", "P5.jpg", "P6.jpg"]

    html = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'id="photos"' in html and 'src="https://pbs.twimg.com/media/P1.jpg"' in html
    assert 'alt="Pothole by the hydrant"' in html and 'referrerpolicy="no-referrer"' in html
    assert not [n for n in never if n in html]
    geo = client.get("/api/map.geojson?status=all").get_data(as_text=True)
    assert str(ticket.id) in geo and "twimg" not in geo
    for path in (f"/open311/v2/requests/{ticket.id}.json", "/open311/v2/requests.json"):
        body = client.get(path).get_json()
        (req,) = [r for r in body if r["service_request_id"] == str(ticket.id)]
        assert req["media_url"] == "https://pbs.twimg.com/media/P1.jpg"
    xml = client.get(f"/open311/v2/requests/{ticket.id}.xml").get_data(as_text=True)
    assert "P1.jpg" in xml and not [n for n in never if n in xml]

    # once the approved one is rejected too, nothing is public, and Open311 says so
    photos.review_media(db, approved, MediaReview.REJECTED, actor=Actor(user=user))
    db.commit()
    assert "twimg" not in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert client.get(f"/open311/v2/requests/{ticket.id}.json").get_json()[0]["media_url"] == ""


def test_a_rejected_or_hidden_ticket_shows_no_photo(client, db) -> None:  # type: ignore[no-untyped-def]
    user = make_user(db, "dispatcher")
    ticket = factories.ticket(db)
    post = stored(db, "pothole", [photo(1)], ticket=ticket)
    db.commit()
    photos.review_media(db, rows(db, post)[0], MediaReview.APPROVED, actor=Actor(user=user))
    db.commit()
    assert "P1.jpg" in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    change_status(db, ticket, TicketStatus.REJECTED, replies=factories.replies())
    db.commit()
    page = client.get(f"/tickets/{ticket.id}")
    assert page.status_code == 200 and "P1.jpg" not in page.get_data(as_text=True)
    change_status(db, ticket, TicketStatus.OPEN, replies=factories.replies())
    db.commit()
    assert "P1.jpg" in client.get(f"/tickets/{ticket.id}").get_data(as_text=True)  # reopened: shown again
    change_status(db, ticket, TicketStatus.HIDDEN, replies=factories.replies())
    db.commit()
    page = client.get(f"/tickets/{ticket.id}")
    assert page.status_code == 200 and "Removed from public view" in page.get_data(as_text=True)
    assert "P1.jpg" not in page.get_data(as_text=True)
    assert client.get(f"/open311/v2/requests/{ticket.id}.json").status_code == 404


def test_an_open311_clients_own_media_url_is_kept(db) -> None:  # type: ignore[no-untyped-def]
    from civictracker.services.open311.listing import get_request

    ticket = factories.ticket(db, media_url="https://client.example/own.jpg", source_channel="open311")
    db.commit()
    assert get_request(db, ticket.id).media_url == "https://client.example/own.jpg"


def test_deliver_without_media_stores_no_rows(db) -> None:  # type: ignore[no-untyped-def]
    post = deliver("@CambridgeMA pothole at Hampshire St and Windsor St")
    assert rows(db, post) == []


def test_alt_text_with_markup_is_escaped_on_both_pages(client, db) -> None:  # type: ignore[no-untyped-def]
    from tests.web.console.console_helpers import logged_in

    user = logged_in(client, db)
    ticket = factories.ticket(db)
    post = stored(db, "pothole", [photo(1, alt='"><script>alert(1)</script>')], ticket=ticket)
    db.commit()
    photos.review_media(db, rows(db, post)[0], MediaReview.APPROVED, actor=Actor(user=user))
    db.commit()
    for path in (f"/tickets/{ticket.id}", f"/console/tickets/{ticket.id}"):
        html = client.get(path).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
