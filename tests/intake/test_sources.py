"""Deleted source posts: redacted when the platform says they are gone, untouched when it cannot say."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from civictracker.channels.mastodon import MastodonChannel
from civictracker.channels.x import XChannel
from civictracker.extensions import db
from civictracker.jobs import posts as jobs
from civictracker.models import Follower, InboundPost, OutboundMessage, Ticket, TicketEvent
from civictracker.outbox import sources
from civictracker.runtime import register_channel, runtime_of, settings_of
from civictracker.services.tickets import Actor, EventNote, change_status
from tests import factories
from tests.fakes import serve
from tests.fakes.mastodon_api import FakeMastodon
from tests.fakes.x_api import FakeX

TEST = Actor(label="test")


@dataclasses.dataclass
class Platforms:
    x: FakeX
    masto: FakeMastodon
    masto_url: str = ""


@pytest.fixture()
def platforms(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Iterator[Platforms]:
    """The backend app reading X and Mastodon, both channels being real adapters pointed at local fakes."""
    fake_x, fake_masto = FakeX(), FakeMastodon()
    with serve(fake_x) as x_url, serve(fake_masto) as masto_url:
        settings = dataclasses.replace(
            settings_of(app),
            channels="x,mastodon",
            x_user_id=fake_x.me_id,
            x_access_token="at",
            mastodon_base_url=masto_url,
            mastodon_access_token="token",
        )
        monkeypatch.setattr(runtime_of(app), "settings", settings)
        x_channel = XChannel(
            user_id=fake_x.me_id,
            consumer_key="ck",
            consumer_secret="cs",
            access_token="at",
            access_token_secret="ats",
            base_url=x_url,
            timeout=5,
        )
        register_channel(app, "x", x_channel)
        register_channel(
            app,
            "mastodon",
            MastodonChannel(api_base_url=masto_url, access_token="token", request_timeout=5),
        )
        yield Platforms(fake_x, fake_masto, masto_url)


def _post(channel: str, external_id: str) -> InboundPost:
    db.session.expire_all()
    post = db.session.scalar(
        select(InboundPost).where(InboundPost.channel == channel, InboundPost.external_id == external_id)
    )
    assert post is not None
    return post


def _lookups(fake: FakeX) -> list[str]:
    return [path.rsplit("/", 1)[1] for method, path, _ in fake.requests if path.startswith("/2/tweets/")]


def _two_reports_on_x(fake: FakeX) -> tuple[str, str, Ticket]:
    ana = fake.add_tweet(
        "ana", "@CambridgeFix big pothole at 150 Hampshire St", coordinates=(42.3723, -71.0963)
    )
    bea = fake.add_tweet("bea", "@CambridgeFix there is a pothole in front of 150 Hampshire St")
    assert jobs.poll_channel("x") == 2  # stored and processed (inline queue)
    first, second = _post("x", ana), _post("x", bea)
    assert (first.outcome, second.outcome) == ("created", "merged"), (first.reason, second.reason)
    ticket = db.session.get(Ticket, first.ticket_id)
    assert ticket is not None and second.ticket_id == ticket.id
    return ana, bea, ticket


def test_deleted_tweet_is_redacted_and_the_ticket_keeps_serving_the_others(platforms: Platforms) -> None:
    fake = platforms.x
    ana, bea, ticket = _two_reports_on_x(fake)
    public_summary = ticket.summary
    change_status(
        db.session, ticket, "acknowledged", actor=TEST, replies=factories.replies()
    )  # queues a reply to each
    db.session.commit()
    fake.delete(ana)

    assert sources.check_sources() == {"exists": 1, "deleted": 1, "unknown": 0}

    gone, kept = _post("x", ana), _post("x", bea)
    assert gone.text == "" and gone.raw == sources.REDACTED_RAW and gone.redacted_at is not None
    assert gone.geotag_lat is None and gone.geotag_lon is None
    assert "reasons" not in gone.stages.get("triage", {}) and gone.stages["triage"]["service_code"]
    # ids, channel, author identity, times and the processing record stay
    assert (gone.external_id, gone.channel, gone.state, gone.outcome) == (ana, "x", "processed", "created")
    assert gone.ticket_id == ticket.id and gone.posted_at is not None and gone.received_at is not None
    assert kept.text.endswith("150 Hampshire St") and kept.redacted_at is None
    assert kept.source_checked_at is not None

    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status == "acknowledged" and ticket.summary == public_summary
    event = db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "source_deleted")).one()
    assert not event.is_public and event.public_note == "" and f"post {gone.id}" in event.internal_note
    followers = {f.post_id: f.active for f in db.session.scalars(select(Follower))}
    assert followers == {gone.id: False, kept.id: True}
    # ana never DMed us (X refuses DMs to strangers): no reply into the deleted thread, and no new public
    # post naming someone who just took their report down.
    queued = {
        m.recipient_handle: (m.state, m.in_reply_to_id, m.is_dm)
        for m in db.session.scalars(select(OutboundMessage))
        if m.event_id
    }
    assert queued == {"ana": ("cancelled", None, False), "bea": ("pending", bea, False)}

    # The ticket keeps working: the next status change notifies the remaining follower only, in her thread.
    event = change_status(
        db.session,
        ticket,
        "assigned",
        note=EventNote(public="Crew 3 has it."),
        actor=TEST,
        replies=factories.replies(),
    )
    db.session.commit()
    (message,) = db.session.scalars(select(OutboundMessage).where(OutboundMessage.event_id == event.id))
    assert (message.in_reply_to_id, message.state) == (bea, "pending")  # the outbox sends it within caps
    assert message.recipient_handle == "bea" and "CT-" in message.text

    assert sources.check_source(gone.id) == "skipped"  # already redacted: the platform is not asked again
    assert sources.check_sources() == {"exists": 0, "deleted": 0, "unknown": 0}  # bea checked recently


def test_platform_5xx_means_unknown_never_deleted(platforms: Platforms) -> None:
    fake = platforms.x
    ana, _, ticket = _two_reports_on_x(fake)
    fake.delete(ana)
    fake.go_down(10, 503)
    before = len(_lookups(fake))

    assert sources.check_sources() == {"exists": 0, "deleted": 0, "unknown": 2}

    assert len(_lookups(fake)) - before == 1  # a platform that is down is not asked about every post
    post = _post("x", ana)
    assert post.text.startswith("@CambridgeFix big pothole") and post.raw and post.redacted_at is None
    assert post.source_checked_at is None  # so the next run asks about it first
    assert db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "source_deleted")).all() == []
    assert all(f.active for f in db.session.scalars(select(Follower)))
    assert sources.check_source(post.id) == "unknown"  # still down: the single-post variant agrees

    fake.go_down(0)
    assert sources.check_source(post.id) == "deleted"
    assert _post("x", ana).text == ""
    assert db.session.get(Ticket, ticket.id).status == "open"


def test_bounded_runs_rotate_and_x_dms_are_never_looked_up(platforms: Platforms) -> None:
    fake = platforms.x
    ana, bea, _ = _two_reports_on_x(fake)
    dm_id = fake.add_dm("carl", "the streetlight is out in front of 40 Pearl St")
    assert jobs.poll_channel("x") == 1
    dm = _post("x", dm_id)
    assert dm.is_dm and dm.ticket_id is not None  # a DM on an open ticket: still not a tweet to look up

    assert sources.check_sources(limit=1) == {"exists": 1, "deleted": 0, "unknown": 0}
    assert sources.check_sources(limit=1) == {"exists": 1, "deleted": 0, "unknown": 0}
    assert sources.check_sources(limit=1) == {"exists": 0, "deleted": 0, "unknown": 0}
    assert sorted(_lookups(fake)) == sorted([ana, bea])  # each once, newest first, the DM never
    assert sources.check_source(dm.id) == "skipped"


def test_deleted_mastodon_status_is_redacted_after_a_5xx(platforms: Platforms) -> None:
    masto = platforms.masto
    status_id = masto.add_status("dana", "@cambridgefix pothole at 150 Hampshire St, please fix")
    assert jobs.poll_channel("mastodon") == 1
    post = _post("mastodon", status_id)
    assert post.outcome == "created"
    masto.delete(status_id)
    masto.go_down(1, 502)
    assert sources.check_sources() == {"exists": 0, "deleted": 0, "unknown": 1}
    assert _post("mastodon", status_id).text.endswith("please fix")

    assert sources.check_sources() == {"exists": 0, "deleted": 1, "unknown": 0}
    gone = _post("mastodon", status_id)
    assert gone.text == "" and gone.redacted_at is not None and gone.ticket_id == post.ticket_id
    assert db.session.get(Ticket, post.ticket_id).status == "open"


def test_a_restarted_process_tells_a_blocking_author_from_a_deleted_status(
    platforms: Platforms, app: Flask
) -> None:
    """Mastodon answers 404 for a deleted status and for one whose author blocked the city. A checker in
    a process that never read the posts (a fresh channel: no remembered authors) is given each author by
    the reporter row, so a blocking author's report is kept and only the deleted one is redacted."""
    masto = platforms.masto
    kept = masto.add_status("ana", "@cambridgefix pothole at 150 Hampshire St, please fix")
    gone = masto.add_status("bob", "@cambridgefix streetlight out at 20 Prospect St")
    assert jobs.poll_channel("mastodon") == 2
    masto.blocked_by.add(masto.add_account("ana"))
    masto.delete(gone)
    fresh = MastodonChannel(api_base_url=platforms.masto_url, access_token="token", request_timeout=5)
    register_channel(app, "mastodon", fresh)
    assert sources.check_sources() == {"exists": 1, "deleted": 1, "unknown": 0}
    assert _post("mastodon", kept).redacted_at is None
    assert _post("mastodon", gone).redacted_at is not None
    register_channel(app, "mastodon", MastodonChannel(api_base_url=platforms.masto_url, access_token="token"))
    assert sources.check_source(_post("mastodon", kept).id) == "exists"


def test_check_sources_command(platforms: Platforms, app: Flask) -> None:
    fake = platforms.x
    ana, _, _ = _two_reports_on_x(fake)
    fake.delete(ana)
    from civictracker.cli.commands import civictracker_cli

    runner = app.test_cli_runner()
    result = runner.invoke(civictracker_cli, ["check-sources", "--limit", "5"])
    assert result.exit_code == 0, result.output
    counts: dict[str, Any] = json.loads(result.output)
    assert counts == {"exists": 1, "deleted": 1, "unknown": 0}
    post_id = _post("x", ana).id
    one = runner.invoke(civictracker_cli, ["check-sources", "--post", str(post_id)])
    assert one.output.strip() == f"post {post_id}: skipped"


def test_deleted_tweet_of_a_resident_who_dms_us_moves_their_updates_to_dm(platforms: Platforms) -> None:
    fake = platforms.x
    ana, bea, ticket = _two_reports_on_x(fake)
    fake.add_dm("ana", "hi, thanks for the quick answer")  # an open DM conversation: X lets us write back
    assert jobs.poll_channel("x") == 1
    change_status(db.session, ticket, "acknowledged", actor=TEST, replies=factories.replies())
    db.session.commit()
    fake.delete(ana)

    assert sources.check_sources()["deleted"] == 1
    gone = _post("x", ana)
    follower = db.session.scalars(select(Follower).where(Follower.post_id == gone.id)).one()
    assert follower.active and follower.is_dm and follower.reply_to_external_id is None
    (queued,) = [
        m for m in db.session.scalars(select(OutboundMessage)) if m.recipient_handle == "ana" and m.event_id
    ]
    assert (queued.state, queued.is_dm, queued.in_reply_to_id) == ("pending", True, None)
    event = db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "source_deleted")).one()
    assert "direct message" in event.internal_note and event.data["answered_by_dm"] is True

    # The next public status change reaches her by DM, and bea in her thread.
    event = change_status(
        db.session,
        ticket,
        "assigned",
        note=EventNote(public="Crew 3 has it."),
        actor=TEST,
        replies=factories.replies(),
    )
    db.session.commit()
    routes = {
        m.recipient_handle: (m.is_dm, m.in_reply_to_id)
        for m in db.session.scalars(select(OutboundMessage).where(OutboundMessage.event_id == event.id))
    }
    assert routes == {"ana": (True, None), "bea": (False, bea)}


def test_redaction_takes_the_post_words_out_of_its_ticket_triage(platforms: Platforms) -> None:
    fake = platforms.x
    ana, bea, ticket = _two_reports_on_x(fake)
    # the reasons quote the post's own words (which of them depends on the model: "pothole" always, as the
    # keyword found, "hampshire" only when the model weighs it among the top words)
    assert ticket.triage["reasons"] and "'pothole'" in " ".join(ticket.triage["reasons"]).lower()
    # a location reason quoting the resident (as the remote geocoder's "found nothing for '...'" does)
    ticket.triage = {
        **ticket.triage,
        "location": {**ticket.triage["location"], "reason": "no match for 'my corner'"},
    }
    ticket.geocode_reason = "Nominatim found nothing for 'my corner'"
    db.session.commit()
    fake.delete(bea)  # bea's report merged into ana's ticket: the reasons were not hers
    assert sources.check_sources()["deleted"] == 1
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.triage["reasons"] and ticket.triage["service_code"] == "pothole"
    assert "my corner" not in json.dumps(ticket.triage) and "my corner" not in ticket.geocode_reason
    assert ticket.triage["location"]["matched"] == "150 Hampshire St"  # our gazetteer's words stay

    fake.delete(ana)  # the post the ticket was created from: its reasons go
    assert sources.check_source(_post("x", ana).id) == "deleted"
    ticket = db.session.get(Ticket, ticket.id)
    assert "reasons" not in ticket.triage and ticket.triage["service_code"] == "pothole"
    assert ticket.summary and ticket.status == "open"
