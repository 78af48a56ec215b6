"""First response to every post: each post lands in the right "who answered" column, with its minutes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from civictracker.models import InboundPost, InboxEvent, MessageState, OutboundMessage
from civictracker.models.types import utcnow
from civictracker.services import inbox, inbox_reply
from civictracker.services import response_metrics as rm
from civictracker.services.tickets import Actor
from tests import factories
from tests.intake.helpers import deliver
from tests.web.auth.auth_helpers import make_user

QUESTION = "@CambridgeMA is the snow emergency over?"
SPAM = "BUY FOLLOWERS cheap at spam.example http://x.co"
POTHOLE = "Big pothole at Hampshire St and Windsor St"


def _started(db, post: InboundPost, at: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """The post was posted and received at `at` (the clock a first response is measured from)."""
    db.execute(update(InboundPost).where(InboundPost.id == post.id).values(posted_at=at, received_at=at))


def _sent(db, message: OutboundMessage, at: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """What the outbox sweep records when the platform took the message."""
    message.state, message.sent_at = MessageState.SENT.value, at


def _decided(db, post: InboundPost, at: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """Staff's decision on the post (its inbox event) was made at `at`."""
    db.execute(update(InboxEvent).where(InboxEvent.post_id == post.id).values(created_at=at))


def _messages_to(db, post: InboundPost) -> list[OutboundMessage]:  # type: ignore[no-untyped-def]
    from civictracker.models import Follower

    followers = select(Follower.id).where(Follower.post_id == post.id)
    return list(
        db.scalars(
            select(OutboundMessage).where(
                (OutboundMessage.post_id == post.id) | OutboundMessage.follower_id.in_(followers)
            )
        )
    )


def test_every_post_is_attributed_to_who_answered_it_first(db) -> None:  # type: ignore[no-untyped-def]
    base = utcnow() - dt.timedelta(hours=5)
    user = make_user(db, "dispatcher")
    actor = Actor(user=user)

    answered = deliver(QUESTION)  # a dispatcher's reply from the inbox, sent after 20 minutes
    spam = deliver(SPAM)  # closed by the system at once
    ticketed = deliver(POTHOLE, lat=42.3707, lon=-71.0975)  # intake's ack, sent after 2 minutes
    untouched = deliver("can I get reimbursed for my tire?")
    decided = deliver("thank you for the quick answer yesterday!")  # marked handled, no reply
    queued = deliver("is city hall open on saturday?")  # answered, but the reply is not sent yet
    late = deliver("when is the leaf pickup?")  # answered after 61 minutes: past the 60 minute target
    posts = (answered, spam, ticketed, untouched, decided, queued, late)
    for post in posts:
        _started(db, post, base)
    assert spam.inbox_handled_how == "system" and ticketed.ticket_id is not None
    assert {p.inbox_state for p in (answered, untouched, decided, queued, late)} == {"new"}

    reply = inbox_reply.answer_post(db, factories.replies(), answered, "Yes, it ended at 6pm.", actor=actor)
    _sent(db, reply, base + dt.timedelta(minutes=20))
    inbox_reply.answer_post(db, factories.replies(), queued, "Yes, 9 to 1.", actor=actor)
    slow = inbox_reply.answer_post(db, factories.replies(), late, "Next week.", actor=actor)
    _sent(db, slow, base + dt.timedelta(minutes=61))
    (ack,) = _messages_to(db, ticketed)
    assert ack.kind == "ack" and ack.post_id is None  # addressed to the follower row the post created
    _sent(db, ack, base + dt.timedelta(minutes=2))
    inbox.mark_handled(db, decided, actor=actor, note="answered on the phone")
    _decided(db, decided, base + dt.timedelta(minutes=45))
    db.execute(
        update(InboundPost).where(InboundPost.id == spam.id).values(inbox_handled_at=base)
    )  # the system decided as it finished the post
    db.commit()

    now = base + dt.timedelta(hours=2)
    result = rm.first_response(db, target_min=60, days=1, now=now)

    def row(who: str) -> rm.ResponseRow:
        found = result.row("replay", who)
        assert found is not None, who
        return found

    person = row(rm.PERSON_REPLY)
    assert (person.count, person.median_min, person.within) == (2, 61, 1)  # 20 and 61 minutes
    system = row(rm.SYSTEM_REPLY)
    assert (system.count, system.median_min, system.within) == (1, 2, 1)
    sysdec = row(rm.SYSTEM_DECISION)
    assert (sysdec.count, sysdec.median_min, sysdec.within) == (1, 0, 1)
    persdec = row(rm.PERSON_DECISION)
    assert (persdec.count, persdec.median_min, persdec.within) == (1, 45, 1)
    waiting = row(rm.OPEN)  # the untouched question and the queued reply: open for 2 hours
    assert (waiting.count, waiting.median_min, waiting.p90_min, waiting.within) == (2, 120, 120, 0)
    everything = result.row(rm.ALL, rm.ALL)
    assert everything is not None and everything.count == len(posts) and everything.within == 4
    assert result.total == len(posts) and result.answered_within == 4
    assert result.share_within == 4 / 7


def test_the_earliest_response_wins_and_the_window_and_channel_split(db) -> None:  # type: ignore[no-untyped-def]
    base = utcnow() - dt.timedelta(hours=5)
    user = make_user(db, "dispatcher")
    # Handled by a person after 10 minutes, then answered after 30: a person decision at 10 minutes.
    first = deliver(QUESTION)
    other = deliver("can I get reimbursed for my tire?", channel="replay2")
    old = deliver("is the snow emergency over yet?")  # received before the window
    for post in (first, other):
        _started(db, post, base)
    _started(db, old, base - dt.timedelta(days=3))
    inbox.mark_handled(db, first, actor=Actor(user=user))
    _decided(db, first, base + dt.timedelta(minutes=10))
    later = inbox_reply.answer_post(
        db, factories.replies(), first, "It ended at 6pm.", actor=Actor(user=user)
    )
    _sent(db, later, base + dt.timedelta(minutes=30))
    db.commit()
    result = rm.first_response(db, target_min=15, days=1, now=base + dt.timedelta(minutes=40))
    decision = result.row("replay", rm.PERSON_DECISION)
    assert decision is not None and (decision.count, decision.median_min) == (1, 10)
    waiting = result.row("replay2", rm.OPEN)
    assert waiting is not None and (waiting.count, waiting.median_min, waiting.within) == (1, 40, 0)
    assert result.total == 2 and result.share_within == 0.5  # the old post is outside the window
