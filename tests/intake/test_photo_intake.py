"""Photos through the real poll: X and Mastodon attachments stored with the post, DM photos private."""

from __future__ import annotations

from sqlalchemy import select

from civictracker.extensions import db
from civictracker.jobs import posts as jobs
from civictracker.models import InboundPost, MediaReview, PostMedia
from civictracker.outbox import sources
from civictracker.services import photos
from civictracker.services.public import get_public_ticket
from civictracker.services.tickets import Actor
from tests.intake.test_sources import Platforms, platforms  # noqa: F401  (the fixture: adapters on local fakes)
from tests.web.auth.auth_helpers import make_user


def _media(channel: str, external_id: str) -> tuple[InboundPost, list[PostMedia]]:
    db.session.expire_all()
    post = db.session.scalar(
        select(InboundPost).where(InboundPost.channel == channel, InboundPost.external_id == external_id)
    )
    assert post is not None
    found = db.session.scalars(
        select(PostMedia).where(PostMedia.post_id == post.id).order_by(PostMedia.position)
    )
    return post, list(found)


def test_polled_x_and_mastodon_photos_are_stored_and_a_dm_photo_stays_private(platforms: Platforms) -> None:  # noqa: F811
    tweet = platforms.x.add_tweet(
        "ana",
        "@CambridgeFix big pothole at 150 Hampshire St",
        media=[{"type": "photo", "alt_text": "Pothole at 150 Hampshire St"}, {"type": "animated_gif"}],
    )
    dm = platforms.x.add_dm("bo", "the party at 12 Elm St again, photo attached", media=[{"type": "photo"}])
    assert jobs.poll_channel("x") == 2
    post, (photo, gif) = _media("x", tweet)
    assert post.ticket_id is not None
    assert (photo.kind, photo.alt_text, photo.private, photo.review) == (
        "photo", "Pothole at 150 Hampshire St", False, MediaReview.PENDING)  # fmt: skip
    assert gif.kind == "gif" and gif.url is None and gif.display_url and gif.alt_text is None
    dm_post, (dm_photo,) = _media("x", dm)
    assert dm_post.is_dm and dm_photo.private and photos.publishable(dm_photo)

    status = platforms.masto.add_status(
        "cy",
        "@cambridgefix streetlight out at Cambridge St and Prospect St",
        media=[{"type": "image", "description": "A dark corner"}],
    )
    direct = platforms.masto.add_status(
        "dee", "@cambridgefix my neighbour's car blocks the hydrant", visibility="direct",
        media=[{"type": "image", "description": "A car by a hydrant, plate visible"}],
    )  # fmt: skip
    assert jobs.poll_channel("mastodon") == 2
    _, (m_photo,) = _media("mastodon", status)
    assert (
        m_photo.alt_text == "A dark corner" and m_photo.url and m_photo.url.startswith("https://fake.social/")
    )
    _, (d_photo,) = _media("mastodon", direct)
    assert d_photo.private

    # approved, then the author deletes the tweet: the photo leaves the public page with the words
    user = make_user(db.session, "dispatcher")
    photos.review_media(db.session, photo, MediaReview.APPROVED, actor=Actor(user=user))
    db.session.commit()
    assert [p.url for p in get_public_ticket(db.session, post.ticket_id, "UTC").photos] == [photo.url]
    platforms.x.delete(tweet)
    assert sources.check_sources()["deleted"] == 1
    db.session.expire_all()
    assert get_public_ticket(db.session, post.ticket_id, "UTC").photos == []
