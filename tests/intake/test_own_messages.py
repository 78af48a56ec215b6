"""A post that is one of the city's own messages (an X DM read back without its sender) is not the resident's."""

from __future__ import annotations

from sqlalchemy import func, select

from civictracker.extensions import db
from civictracker.models import InboundPost, OutboundMessage, PostOutcome, PostState, Ticket
from civictracker.outbox import sweep as outbox
from tests.intake.helpers import deliver


def test_our_own_dm_read_back_is_ignored_not_ticketed(app) -> None:  # type: ignore[no-untyped-def]
    report = deliver("huge pothole outside 20 Prospect St, nearly lost a tire", author="u1", kind="dm")
    assert report.outcome == PostOutcome.CREATED
    outbox.sweep_outbox()
    db.session.expire_all()
    ack = db.session.scalar(select(OutboundMessage).where(OutboundMessage.ticket_id == report.ticket_id))
    assert ack is not None and ack.sent_external_id
    tickets_before = db.session.scalar(select(func.count()).select_from(Ticket))
    # The platform hands our answer back as a DM event attributed to the resident (no sender_id).
    echo = deliver(ack.text, author="u1", kind="dm", ext=ack.sent_external_id)
    assert (echo.state, echo.outcome) == (PostState.IGNORED, PostOutcome.OWN_MESSAGE)
    assert echo.ticket_id is None and echo.inbox_state == "handled"
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == tickets_before
    assert db.session.scalar(select(func.count()).select_from(OutboundMessage)) == 1  # no answer to ourselves
    # A resident's DM that only quotes our words is theirs: its id is not one we sent.
    theirs = deliver(ack.text, author="u1", kind="dm")
    assert theirs.outcome != PostOutcome.OWN_MESSAGE
    assert db.session.get(InboundPost, theirs.id) is not None
