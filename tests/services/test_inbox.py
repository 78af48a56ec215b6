"""The inbox: intake's decision per post, the actions staff take, and the bad input they must survive."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from civictracker.models import InboundPost, InboxEvent, OutboundMessage, PostOutcome, Ticket
from civictracker.runtime import city_of, runtime_of
from civictracker.services import inbox, inbox_reply, inbox_ticket, notify
from civictracker.services.errors import ValidationFailed
from civictracker.services.geocoding import locate_text
from civictracker.services.inbox_rules import PRIORITY_HAZARD, decide_inbox
from civictracker.services.tickets import Actor
from tests import factories
from tests.intake.helpers import deliver
from tests.web.auth.auth_helpers import make_user

QUESTION = "@CambridgeMA is the snow emergency over?"


def _staff(db, role: str = "dispatcher"):  # type: ignore[no-untyped-def]
    user = make_user(db, role)
    return user, Actor(user=user)


def _messages(db, post_id: int) -> list[OutboundMessage]:  # type: ignore[no-untyped-def]
    return list(db.scalars(select(OutboundMessage).where(OutboundMessage.post_id == post_id)))


# -- the rule ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "is_dm", "state"),
    [
        ("created", False, None),
        ("merged", False, None),
        ("ask_back", False, None),
        ("fixed_confirmed", False, None),
        ("not_request:question", False, "new"),
        ("not_request:politics", False, "new"),
        ("not_request:chatter", True, "new"),
        ("not_request:chatter", False, "new"),
        ("not_request:praise", False, "new"),
        ("not_request:spam", False, "handled"),
        ("not_request:news", False, "handled"),
        ("not_request:event", False, "handled"),
        ("still_open", False, "new"),
        ("reply:other", False, "new"),
        ("reply:thanks", False, "new"),
        ("blocked", False, "handled"),
        ("opted_out", False, "handled"),
        ("no_service", False, "new"),
        ("for_person:question", False, "new"),
        ("for_person:complaint", True, "new"),
        ("for_person:praise", False, "new"),
    ],
)
def test_rule_decides_every_outcome(outcome: str, is_dm: bool, state: str | None) -> None:
    decision = decide_inbox(outcome, failed=False, is_dm=is_dm)
    assert (decision.state.value if decision.state else None) == state
    assert decision.state is None or decision.reason  # a decision always says why


@pytest.mark.parametrize("kind", ["news", "event"])
@pytest.mark.parametrize("reading", ["complaint", "question"])
def test_a_complaint_or_question_the_model_took_for_news_waits_for_a_person(kind: str, reading: str) -> None:
    # "qué vergüenza, nadie contesta" worded like news: the system must not close it alone.
    decision = decide_inbox(f"not_request:{kind}", failed=False, is_dm=False, triage={"reads_as": reading})
    assert decision.state is not None and decision.state.value == "new"
    assert f"reads as a {reading}" in decision.reason
    spam = decide_inbox("not_request:spam", failed=False, is_dm=False, triage={"reads_as": reading})
    assert spam.state is not None and spam.state.value == "handled"  # a sales pitch's "question"


def test_news_the_request_head_nearly_took_for_a_request_waits_for_a_person() -> None:
    # "a Alewife Pk está toda congelada, muito perigoso andar": news to the model at p(request)=0.59
    near = decide_inbox("not_request:news", failed=False, is_dm=False, triage={"confidence": 0.41})
    assert near.state is not None and near.state.value == "new" and "nearly one (p=0.59)" in near.reason
    clear = decide_inbox("not_request:news", failed=False, is_dm=False, triage={"confidence": 0.9})
    assert clear.state is not None and clear.state.value == "handled"


def test_rule_escalates_hazards_and_never_lets_the_system_close_them() -> None:
    hazard = decide_inbox("not_request:spam", failed=False, is_dm=False, triage={"hazards": ["gas"]})
    assert hazard.state is not None and hazard.state.value == "new"
    assert hazard.priority == PRIORITY_HAZARD and "gas" in hazard.reason
    failed = decide_inbox("anything", failed=True, is_dm=False)
    assert failed.state is not None and failed.state.value == "new" and "failed" in failed.reason


def test_rule_orders_by_the_risk_signal_with_its_reasons() -> None:
    def risk(level: str, priority: int, *reasons: str) -> dict:
        return {"risk": {"level": level, "priority": priority, "reasons": list(reasons)}}

    threat = decide_inbox(
        "not_request:chatter", failed=False, is_dm=False, triage=risk("high_risk", 6, "threat")
    )
    angry = decide_inbox("not_request:politics", failed=False, is_dm=False, triage=risk("angry", 2, "anger"))
    calm = decide_inbox("not_request:question", failed=False, is_dm=False, triage=risk("none", 0))
    assert threat.priority > angry.priority > calm.priority == 0
    assert "high risk (threat)" in threat.reason and "angry (anger)" in angry.reason
    # A wide audience alone lifts spam out of the system's hands: a person looks.
    loud = decide_inbox(
        "not_request:spam", failed=False, is_dm=False, triage=risk("none", 1, "50,000 followers")
    )
    assert loud.state is not None and loud.state.value == "new" and "wide audience" in loud.reason
    gas = decide_inbox(
        "not_request:chatter", failed=False, is_dm=False, triage={"hazards": ["gas"], **risk("angry", 2)}
    )
    assert gas.priority == PRIORITY_HAZARD and gas.reason.startswith("escalated: hazard gas")


# -- intake --------------------------------------------------------------------------------------------


def test_intake_puts_questions_in_the_inbox_and_decides_spam(db) -> None:  # type: ignore[no-untyped-def]
    question = deliver(QUESTION)
    spam = deliver("BUY FOLLOWERS cheap at spam.example http://x.co")
    request = deliver("Big pothole at Hampshire St and Windsor St", lat=42.3707, lon=-71.0975)
    assert question.outcome == PostOutcome.NOT_REQUEST.with_detail("question")
    assert question.inbox_state == "new" and question.inbox_handled_at is None
    assert spam.inbox_state == "handled" and spam.inbox_handled_how == "system"
    assert spam.inbox_reason and "spam" in spam.inbox_reason and spam.inbox_handled_at is not None
    assert request.ticket_id is not None and request.inbox_state is None
    waiting = inbox.list_inbox(db, "person")
    assert [p.id for p in waiting.posts] == [question.id] and waiting.total == 1
    assert {p.id for p in inbox.list_inbox(db, "all").posts} == {question.id, spam.id}


def test_list_puts_escalated_first_then_oldest(db) -> None:  # type: ignore[no-untyped-def]
    old = deliver(QUESTION)
    new = deliver("can I get reimbursed for my tire?")
    new.inbox_priority = 5
    db.commit()
    assert [p.id for p in inbox.list_inbox(db, "person").posts] == [new.id, old.id]
    with pytest.raises(ValidationFailed, match="Unknown inbox filter"):
        inbox.list_inbox(db, "everything")


def test_first_response_target_and_age() -> None:
    assert inbox.first_response_minutes({}) == 60
    assert inbox.first_response_minutes({"inbox": {"first_response_minutes": 15}}) == 15
    with pytest.raises(ValueError, match="first_response_minutes"):
        inbox.first_response_minutes({"inbox": {"first_response_minutes": "soon"}})
    now = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
    post = InboundPost(received_at=now - dt.timedelta(minutes=90))
    assert inbox.response_age(post, now) == dt.timedelta(minutes=90)


# -- actions -------------------------------------------------------------------------------------------


def test_answer_queues_one_reply_in_the_thread(db) -> None:  # type: ignore[no-untyped-def]
    post = deliver(QUESTION)
    user, actor = _staff(db)
    message = inbox_reply.answer_post(
        db, factories.replies(), post, "  Yes,\n it ended at 6pm. ", actor=actor
    )
    db.commit()
    assert message.text == "Yes, it ended at 6pm."
    assert message.kind == "inbox_reply" and message.in_reply_to_id == post.external_id
    assert message.idempotency_key == f"inbox:post:{post.id}" and not message.is_dm
    assert post.inbox_state == "answered" and post.inbox_handled_by_id == user.id
    assert post.inbox_handled_how == "reply"
    events = db.scalars(select(InboxEvent).where(InboxEvent.post_id == post.id)).all()
    assert [(e.action, e.from_state, e.to_state, e.actor_id) for e in events] == [
        ("answered", "new", "answered", user.id)
    ]


def test_a_dm_is_answered_by_dm(db) -> None:  # type: ignore[no-untyped-def]
    post = deliver("hi, is city hall open on saturday?", kind="dm")
    assert post.inbox_state == "new", post.outcome
    _, actor = _staff(db)
    message = inbox_reply.answer_post(
        db, factories.replies(), post, "Thanks, we told the police.", actor=actor
    )
    assert message.is_dm


def test_two_staff_answering_at_once_one_reply_goes(db) -> None:  # type: ignore[no-untyped-def]
    post = deliver(QUESTION)
    first, second = _staff(db), _staff(db)
    inbox_reply.answer_post(db, factories.replies(), post, "Yes, it is over.", actor=first[1])
    db.commit()
    with pytest.raises(inbox.InboxConflict, match="already answered"):
        inbox_reply.answer_post(db, factories.replies(), post, "No, not yet.", actor=second[1])
    db.rollback()
    assert [m.text for m in _messages(db, post.id)] == ["Yes, it is over."]


def test_compare_and_set_refuses_a_stale_state(db) -> None:  # type: ignore[no-untyped-def]
    """Another transaction answered after this one read the post: the write finds no row in that state."""
    post = deliver(QUESTION)
    _, actor = _staff(db)
    db.execute(
        InboundPost.__table__.update().where(InboundPost.id == post.id).values(inbox_state="answered")
    )  # what the other dispatcher's commit did, unseen by this session's copy of the post
    assert post.inbox_state == "new"
    with pytest.raises(inbox.InboxConflict, match="already answered"):
        inbox_reply.answer_post(db, factories.replies(), post, "Yes.", actor=actor)
    db.rollback()
    assert _messages(db, post.id) == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("x" * 300, f"allows {notify.REPLAY_MAX_LENGTH - notify.SAFETY_HEADROOM}"),
        ("Status: {snow_status}", "still needs {snow_status}"),
    ],
)
def test_bad_replies_are_refused_and_nothing_is_queued(db, text: str, message: str) -> None:  # type: ignore[no-untyped-def]
    post = deliver(QUESTION)
    _, actor = _staff(db)
    with pytest.raises(ValidationFailed, match=message):
        inbox_reply.answer_post(db, factories.replies(), post, text, actor=actor)
    db.rollback()
    assert _messages(db, post.id) == [] and db.get(InboundPost, post.id).inbox_state == "new"


def test_a_deleted_post_is_not_answered(db) -> None:  # type: ignore[no-untyped-def]
    post = deliver(QUESTION)
    post.redacted_at = dt.datetime.now(dt.UTC)
    db.commit()
    _, actor = _staff(db)
    with pytest.raises(ValidationFailed, match="deleted this post"):
        inbox_reply.answer_post(db, factories.replies(), post, "Yes.", actor=actor)
    db.rollback()
    assert _messages(db, post.id) == []


def test_script_goes_to_the_platform_as_plain_text(db) -> None:  # type: ignore[no-untyped-def]
    post = deliver(QUESTION)
    _, actor = _staff(db)
    text = "<script>alert(1)</script> & thanks"
    message = inbox_reply.answer_post(db, factories.replies(), post, text, actor=actor)
    assert message.text == text  # not HTML-escaped for the platform; the pages escape it


def test_canned_replies_per_language_and_missing_placeholders(app, db) -> None:  # type: ignore[no-untyped-def]
    canned = inbox_reply.load_canned(city_of(app).path)
    assert {"en", "es", "pt", "ht"} <= canned.keys()
    assert {c.key for c in inbox_reply.canned_for(canned, "es")} >= {"looking_into_it", "thanks", "sorry"}
    assert inbox_reply.canned_for(canned, "fr") == inbox_reply.canned_for(canned, "en")
    post = deliver(QUESTION)
    values = inbox_reply.post_values(post, "https://311.example.gov", "Cambridge")
    text = inbox_reply.render_canned(canned["es"]["thanks"], values)
    assert text.startswith("¡Muchas gracias, @h_u1!")
    with pytest.raises(inbox_reply.MissingPlaceholder, match="snow_status"):
        inbox_reply.render_canned(canned["en"]["snow_emergency"], values)
    prefilled, missing = inbox_reply.prefill_canned(canned["en"]["snow_emergency"], values)
    assert missing == ["snow_status"] and "{snow_status}" in prefilled and "@h_u1" in prefilled


def test_assign_handle_hide_each_recorded(db) -> None:  # type: ignore[no-untyped-def]
    post = deliver(QUESTION)
    boss, actor = _staff(db)
    colleague = make_user(db, "dispatcher")
    inbox.assign_post(db, post, colleague, actor=actor, note="you know snow")
    assert post.inbox_state == "assigned" and post.inbox_assigned_to_id == colleague.id
    assert [p.id for p in inbox.list_inbox(db, "mine", user_id=colleague.id).posts] == [post.id]
    inbox.mark_handled(db, post, actor=Actor(user=colleague), note="answered by phone")
    assert post.inbox_state == "handled" and post.inbox_handled_how == "no_reply"
    with pytest.raises(ValidationFailed, match="why"):
        inbox.hide_post(db, post, actor=actor, reason=" ")
    inbox.hide_post(db, post, actor=actor, reason="abusive")
    db.commit()
    assert db.get(InboundPost, post.id) is not None  # never deleted
    assert [p.id for p in inbox.list_inbox(db, "hidden").posts] == [post.id]
    history = inbox.inbox_history(db, post.id)
    assert [(e.action, e.actor_id, e.note) for e in history] == [
        ("assigned", boss.id, "you know snow"),
        ("handled", colleague.id, "answered by phone"),
        ("hidden", boss.id, "abusive"),
    ]


def test_take_back_reopens_with_a_reason_and_an_event(db) -> None:  # type: ignore[no-untyped-def]
    post = deliver(QUESTION)
    boss, actor = _staff(db)
    inbox.mark_handled(db, post, actor=actor, note="no reply needed")
    with pytest.raises(ValidationFailed, match="why"):
        inbox.take_back(db, post, actor=actor, reason="  ")
    event = inbox.take_back(db, post, actor=actor, reason="she asked again by phone", seen="handled")
    db.commit()
    post = db.get(InboundPost, post.id)
    assert post.inbox_state == "new" and post.inbox_handled_at is None and post.inbox_handled_how is None
    assert [p.id for p in inbox.list_inbox(db, "person").posts] == [post.id]
    assert (event.action, event.from_state, event.to_state, event.note) == (
        "taken_back",
        "handled",
        "new",
        "she asked again by phone",
    )
    assert event.data["how"] == "no_reply" and event.data["by"] == boss.id
    # a second take back from the stale page (it showed "handled") is refused; nothing changes
    with pytest.raises(inbox.InboxConflict, match="is new now"):
        inbox.take_back(db, post, actor=actor, reason="again", seen="handled")
    with pytest.raises(inbox.InboxConflict, match="only handled or hidden"):
        inbox.take_back(db, post, actor=actor, reason="again")
    assert [e.action for e in inbox.inbox_history(db, post.id)] == ["handled", "taken_back"]


def test_take_back_a_hidden_or_system_post_but_never_an_answered_one(db) -> None:  # type: ignore[no-untyped-def]
    spam = deliver("BUY FOLLOWERS cheap at spam.example http://x.co")
    assert spam.inbox_state == "handled" and spam.inbox_handled_how == "system"
    _, actor = _staff(db)
    inbox.take_back(db, spam, actor=actor, reason="a real question under the link")
    assert spam.inbox_state == "new"
    inbox.hide_post(db, spam, actor=actor, reason="abusive")
    inbox.take_back(db, spam, actor=actor, reason="not abusive after all", seen="hidden")
    assert spam.inbox_state == "new"
    question = deliver(QUESTION)
    inbox_reply.answer_post(db, factories.replies(), question, "Yes, until 6pm.", actor=actor)
    with pytest.raises(ValidationFailed, match="cannot be taken back"):
        inbox.take_back(db, question, actor=actor, reason="oops")
    assert question.inbox_state == "answered"


@pytest.mark.parametrize(
    ("text", "outcome", "state"),
    [
        (
            "@CambridgeMA how long until side streets get plowed? main roads look fine",
            "for_person:question",
            "new",
        ),
        (
            "@CambridgeMA you are useless, nothing plowed on our side of town. calling the mayor",
            "for_person:complaint",
            "new",
        ),
        ("@CambridgeMA our street hasn't been plowed at all. nobody can get out", "ask_back", None),
        ("@CambridgeMA can someone come plow our street today?", "ask_back", None),
    ],
)
def test_a_request_with_no_place_that_reads_as_a_question_or_complaint_goes_to_a_person(
    db, text: str, outcome: str, state: str | None
) -> None:  # type: ignore[no-untyped-def]
    post = deliver(text)
    assert (post.outcome, post.inbox_state) == (outcome, state)
    # a person answers: no ticket waiting for its place, no "where?" sent
    assert (post.ticket_id is None) == (state == "new")
    asked = db.scalars(select(OutboundMessage.kind).where(OutboundMessage.ticket_id == post.ticket_id))
    assert ("ask_location" in list(asked)) == (outcome == "ask_back")


def test_a_located_complaint_gets_its_ticket_and_a_person(db) -> None:  # type: ignore[no-untyped-def]
    post = deliver("@CambridgeMA Hampshire St still not plowed, we pay the highest taxes around. pathetic")
    assert post.outcome == "created" and post.ticket_id is not None
    assert post.inbox_state == "new" and "complaint (its ticket answered too)" in (post.inbox_reason or "")


def test_turn_into_ticket_and_attach(app, db) -> None:  # type: ignore[no-untyped-def]
    post = deliver("can I get reimbursed for my tire? the pothole is huge")
    other = deliver(QUESTION, author="u2")
    _, actor = _staff(db)
    runtime = runtime_of(app)
    bad = locate_text(runtime.gazetteer(), "nowhere at all")
    with pytest.raises(ValidationFailed, match="Could not place"):
        inbox_ticket.ticket_post(
            db, post, factories.service(db), bad, replies=factories.replies(), actor=actor
        )
    db.rollback()
    place = locate_text(runtime.gazetteer(), "Hampshire St and Windsor St")
    ticket = inbox_ticket.ticket_post(
        db, post, factories.service(db), place, replies=factories.replies(), actor=actor
    )
    db.commit()
    assert (
        post.ticket_id == ticket.id and post.inbox_state == "handled" and post.inbox_handled_how == "ticket"
    )
    assert ticket.status == "open" and ticket.follower_count == 1
    assert [m.kind for m in _messages(db, post.id)] == []  # the ack is keyed on the follower, not the post
    acks = db.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == ticket.id)).all()
    assert [m.kind for m in acks] == ["ack"]
    inbox_ticket.attach_post(db, other, ticket, replies=factories.replies(), actor=actor)
    db.commit()
    refreshed = db.get(Ticket, ticket.id)
    assert refreshed.report_count == 2 and refreshed.follower_count == 2
    assert other.inbox_handled_how == "attached" and other.ticket_id == ticket.id
    kinds = sorted(
        m.kind for m in db.scalars(select(OutboundMessage).where(OutboundMessage.ticket_id == ticket.id))
    )
    assert kinds == ["ack", "merged"]


def test_the_outbox_sends_the_answer_once_in_the_thread(db) -> None:  # type: ignore[no-untyped-def]
    from civictracker.outbox import sweep as outbox

    post = deliver(QUESTION)
    _, actor = _staff(db)
    message = inbox_reply.answer_post(db, factories.replies(), post, "Yes, it ended at 6pm.", actor=actor)
    db.commit()
    outbox.sweep_outbox()
    outbox.sweep_outbox()  # a second sweep finds nothing left to send
    db.expire_all()
    sent = db.get(OutboundMessage, message.id)
    assert sent.state == "sent" and sent.sent_external_id and sent.attempts == 1
    assert sent.text == "Yes, it ended at 6pm."
