"""Photos in the console: a post's and a ticket's photos with alt text, approve or reject, DM photos never public."""

from __future__ import annotations

import dataclasses

from console_helpers import logged_in
from sqlalchemy import select

from civictracker.channels.media import MediaRef
from civictracker.intake.receive import receive_post
from civictracker.jobs import posts as jobs
from civictracker.models import InboundPost, PostMedia, PostMediaEvent
from tests import factories
from tests.intake.helpers import incoming

PHOTO = MediaRef(key="3_1", type="photo", url="https://pbs.twimg.com/media/Pothole1.jpg",
                 alt_text="Water-filled pothole next to a bike lane", width=1200, height=900)  # fmt: skip
NO_ALT = MediaRef(key="3_2", type="photo", url="https://pbs.twimg.com/media/Pothole2.jpg")
ODD = MediaRef(key="3_3", type="hologram", url="javascript:alert(1)")


def _post(db, text: str, media: tuple[MediaRef, ...], *, kind: str = "mention", process: bool = True) -> InboundPost:  # type: ignore[no-untyped-def]  # fmt: skip
    post, _ = receive_post(db, dataclasses.replace(incoming(text, kind=kind), media=media))
    db.commit()
    if process:
        jobs.process_post(post.id)
        db.expire_all()
    stored = db.get(InboundPost, post.id)
    assert stored is not None
    return stored


def _media(db, post: InboundPost) -> list[PostMedia]:  # type: ignore[no-untyped-def]
    return list(
        db.scalars(select(PostMedia).where(PostMedia.post_id == post.id).order_by(PostMedia.position))
    )


def test_inbox_post_shows_photos_with_alt_text_and_the_review_buttons(client, db) -> None:  # type: ignore[no-untyped-def]
    post = _post(db, "@CambridgeMA how long will this take to fix?", (PHOTO, NO_ALT, ODD))
    assert post.inbox_state == "new"
    logged_in(client, db)
    assert "3 photos" in client.get("/console/inbox").get_data(as_text=True)  # the list says so
    html = client.get(f"/console/inbox/{post.id}").get_data(as_text=True)
    assert 'id="photos"' in html and "Photos (3)" in html
    assert 'src="https://pbs.twimg.com/media/Pothole1.jpg"' in html
    assert "Water-filled pothole next to a bike lane" in html and "none given by the resident" in html
    assert "no face, number plate" in html and "never shown publicly" in html
    assert "Not on a ticket" in html
    assert html.count("Approve for public view") == 2  # not for the attachment that cannot be shown
    assert "unknown media type &#39;hologram&#39;" in html and "javascript:" not in html


def test_dispatcher_approves_from_the_ticket_page_and_the_public_sees_it(client, db) -> None:  # type: ignore[no-untyped-def]
    user = logged_in(client, db)
    ticket = factories.ticket(db, address="1 Hampshire St")
    post = _post(db, "pothole", (PHOTO, NO_ALT), process=False)
    post.ticket_id = ticket.id
    db.commit()
    approve, reject = _media(db, post)
    html = client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert 'id="photos"' in html and "Pothole1.jpg" in html and "approved photos only" in html
    resp = client.post(f"/console/media/{approve.id}/review",
                       data={"media-decision": "approved", "media-note": "no faces", "media-back": "ticket"})  # fmt: skip
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/console/tickets/{ticket.id}#media-{approve.id}")  # fmt: skip
    client.post(
        f"/console/media/{reject.id}/review", data={"media-decision": "rejected", "media-back": "ticket"}
    )
    page = client.get(f"/console/tickets/{ticket.id}").get_data(as_text=True)
    assert (
        "Photo rejected" in page and "pending → rejected" in page and "pending → approved: no faces" in page
    )
    events = list(db.scalars(select(PostMediaEvent).order_by(PostMediaEvent.id)))
    assert [(e.media_id, e.to_review, e.actor_id, e.note) for e in events] == [
        (approve.id, "approved", user.id, "no faces"),
        (reject.id, "rejected", user.id, ""),
    ]
    public = client.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert "Pothole1.jpg" in public and "Pothole2.jpg" not in public
    assert "Water-filled pothole next to a bike lane" in public


def test_a_dm_photo_is_staff_only_and_cannot_be_approved(client, db) -> None:  # type: ignore[no-untyped-def]
    post = _post(db, "loud party every night at 12 Elm St, here is a photo", (PHOTO,), kind="dm")
    logged_in(client, db)
    html = client.get(f"/console/inbox/{post.id}").get_data(as_text=True)
    assert "Sent by DM: staff only" in html and "Approve for public view" not in html
    assert "never shown publicly" in html
    (m,) = _media(db, post)
    resp = client.post(
        f"/console/media/{m.id}/review", data={"media-decision": "approved"}, follow_redirects=True
    )
    assert "private message" in resp.get_data(as_text=True)
    db.expire_all()
    assert _media(db, post)[0].review == "pending"
    assert db.scalar(select(PostMediaEvent)) is None


def test_review_needs_staff_and_a_known_decision(client, db) -> None:  # type: ignore[no-untyped-def]
    post = _post(db, "@CambridgeMA how long will this take to fix?", (PHOTO,))
    (m,) = _media(db, post)
    assert client.post(f"/console/media/{m.id}/review", data={"media-decision": "approved"}).status_code in (
        302,
        401,
    )
    logged_in(client, db, role="crew")
    assert (
        client.post(f"/console/media/{m.id}/review", data={"media-decision": "approved"}).status_code == 403
    )
    client.post("/auth/logout")
    logged_in(client, db, email="d2@city.example")
    resp = client.post(
        f"/console/media/{m.id}/review", data={"media-decision": "publish"}, follow_redirects=True
    )
    assert "Not a valid choice" in resp.get_data(as_text=True)
    assert client.post("/console/media/999999/review", data={"media-decision": "approved"}).status_code == 404
    db.expire_all()
    assert _media(db, post)[0].review == "pending"
