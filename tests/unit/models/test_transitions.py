"""The state enums, their transition tables and status sets: each move allowed or refused, each set once."""

from __future__ import annotations

import ast
import enum
import itertools
import json
from collections.abc import Mapping
from pathlib import Path

import pytest

from civictracker.channels.replay import ReplayChannel
from civictracker.models import (
    InboundPost,
    MessageKind,
    MessageState,
    OutboundMessage,
    PostOutcome,
    PostState,
    TicketStatus,
)
from civictracker.models import outbox as outbox_model
from civictracker.models import report as report_model
from civictracker.models import ticket as ticket_model
from civictracker.models.outbox import OWN_WORDS_KINDS
from civictracker.models.transitions import IllegalTransition, can_move, check_transition, values_of
from civictracker.outbox import claims
from civictracker.postlength import REPLAY_MAX_LENGTH, X_MAX_LENGTH
from civictracker.services import notify
from civictracker.services.dispatch import QUEUE_STATUSES

ROOT = Path(__file__).resolve().parents[3]
S, M, P = TicketStatus, MessageState, PostState

TABLES: list[tuple[type[enum.StrEnum], Mapping]] = [  # type: ignore[type-arg]
    (TicketStatus, ticket_model.TICKET_TRANSITIONS),
    (PostState, report_model.POST_TRANSITIONS),
    (MessageState, outbox_model.MESSAGE_TRANSITIONS),
]
# Each enum's states split into disjoint sets that cover them all.
PARTITIONS = [
    (
        TicketStatus,
        [
            ticket_model.INTAKE_STATUSES,
            ticket_model.ACTIVE_STATUSES,
            ticket_model.CLOSED_STATUSES,
            ticket_model.MODERATED_STATUSES,
        ],
    ),
    (PostState, [report_model.TODO_STATES, report_model.DONE_STATES]),
    (
        MessageState,
        [outbox_model.WAITING_STATES, outbox_model.IN_FLIGHT_STATES, outbox_model.FINAL_STATES],
    ),
]


@pytest.mark.parametrize(("states", "table"), TABLES, ids=lambda x: getattr(x, "__name__", ""))
def test_every_state_has_one_row_of_moves_within_its_enum(states, table) -> None:  # type: ignore[no-untyped-def]
    assert set(table) == set(states)
    for source, targets in table.items():
        assert isinstance(targets, frozenset), source
        assert all(isinstance(t, states) for t in targets), source


@pytest.mark.parametrize(("states", "table"), TABLES, ids=lambda x: getattr(x, "__name__", ""))
def test_legal_moves_pass_and_every_other_move_is_refused(states, table) -> None:  # type: ignore[no-untyped-def]
    for source, target in itertools.product(states, states):
        legal = target in table[source]
        # plain strings (as read from the database) and enum members alike
        assert can_move(table, source.value, target.value) is legal, (source, target)
        assert can_move(table, source, target) is legal, (source, target)
        if legal:
            assert check_transition(table, source.value, target) is target
        else:
            with pytest.raises(IllegalTransition) as err:
                check_transition(table, source.value, target)
            assert repr(source.value) in str(err.value) and repr(target.value) in str(err.value)
            assert states.__name__ in str(err.value)


@pytest.mark.parametrize(("states", "table"), TABLES, ids=lambda x: getattr(x, "__name__", ""))
def test_unknown_states_are_never_a_legal_move(states, table) -> None:  # type: ignore[no-untyped-def]
    first = next(iter(states))
    assert not can_move(table, "no-such-state", first)
    assert not can_move(table, first, "no-such-state")
    with pytest.raises(IllegalTransition):
        check_transition(table, "no-such-state", first)


@pytest.mark.parametrize(("states", "parts"), PARTITIONS, ids=lambda x: getattr(x, "__name__", ""))
def test_every_state_is_in_exactly_one_set(states, parts) -> None:  # type: ignore[no-untyped-def]
    for state in states:
        assert sum(state in part for part in parts) == 1, state


def test_ticket_sets_derived_from_the_partition() -> None:
    assert ticket_model.OPEN_STATUSES == ticket_model.INTAKE_STATUSES | ticket_model.ACTIVE_STATUSES
    assert ticket_model.RESOLVED_STATUSES <= ticket_model.CLOSED_STATUSES
    # What the public may see, as it was listed before the sets were derived.
    assert {
        S.OPEN, S.ACKNOWLEDGED, S.ASSIGNED, S.IN_PROGRESS, S.REOPENED,
        S.RESOLVED, S.CLOSED, S.DUPLICATE, S.REFERRED,
    } == ticket_model.PUBLIC_STATUSES  # fmt: skip
    # The dispatcher queue: the open statuses, in the order the state machine moves a ticket.
    assert QUEUE_STATUSES == (
        "new", "needs_location", "open", "acknowledged", "assigned", "in_progress", "reopened",
    )  # fmt: skip


def test_ticket_machine_follows_the_design() -> None:
    t = ticket_model.TICKET_TRANSITIONS
    # ARCHITECTURE section 5: intake, then the work path, then reopening what was fixed.
    for a, b in [(S.NEW, S.NEEDS_LOCATION), (S.NEEDS_LOCATION, S.OPEN), (S.OPEN, S.ACKNOWLEDGED),
                 (S.ACKNOWLEDGED, S.ASSIGNED), (S.ASSIGNED, S.IN_PROGRESS), (S.IN_PROGRESS, S.RESOLVED),
                 (S.RESOLVED, S.CLOSED), (S.RESOLVED, S.REOPENED), (S.CLOSED, S.REOPENED),
                 (S.REOPENED, S.ASSIGNED)]:  # fmt: skip
        assert b in t[a], (a, b)
    for state in ticket_model.OPEN_STATUSES:  # any open state may end as a duplicate, rejected, referred
        assert {S.DUPLICATE, S.REJECTED, S.REFERRED} <= t[state], state
    for state in ticket_model.CLOSED_STATUSES | ticket_model.ACTIVE_STATUSES:  # never back to intake
        assert not t[state] & ticket_model.INTAKE_STATUSES, state


def test_post_and_message_machines_end_where_nothing_is_left_to_do() -> None:
    for state in report_model.DONE_STATES:
        assert not report_model.POST_TRANSITIONS[state], state
    for state in report_model.TODO_STATES:
        assert report_model.POST_TRANSITIONS[state] >= report_model.DONE_STATES, state
    m = outbox_model.MESSAGE_TRANSITIONS
    assert not m[M.SENT] and not m[M.CANCELLED]  # never sent twice, never revived
    assert m[M.DEAD] == {M.PENDING, M.SENT}  # only `outbox --retry-dead`, or the platform had it after all
    for state in outbox_model.WAITING_STATES:
        assert M.SENDING in m[state], state  # a claim is the only way to a platform call
    assert set(M) - {M.SENT, M.CANCELLED} == outbox_model.UNSETTLED_STATES


def test_outbox_refuses_an_illegal_move_on_a_message() -> None:
    msg = OutboundMessage(state=M.SENT.value)
    with pytest.raises(IllegalTransition):
        claims.move(msg, M.PENDING)
    assert msg.state == "sent"
    msg = OutboundMessage(state=M.FAILED.value)
    claims.move(msg, M.CANCELLED)
    assert msg.state == "cancelled"


def test_values_of_gives_plain_strings_in_a_stable_order() -> None:
    got = values_of(outbox_model.WAITING_STATES)
    assert got == ["failed", "pending"] and all(type(v) is str for v in got)


def test_enums_keep_the_stored_strings() -> None:
    # The database keeps these strings (no migration): renaming a value would orphan existing rows.
    assert [s.value for s in MessageState] == ["pending", "sending", "sent", "failed", "dead", "cancelled"]
    assert [s.value for s in PostState] == ["received", "processed", "failed", "ignored"]
    assert InboundPost.__table__.c.state.default.arg == "received"
    assert OutboundMessage.__table__.c.state.default.arg == "pending"
    assert f"{S.OPEN}" == "open" and json.dumps([M.SENT]) == '["sent"]'


def test_every_stored_outcome_of_the_demo_names_a_post_outcome() -> None:
    golden = json.loads((ROOT / "tests" / "data" / "demo_golden.json").read_text(encoding="utf-8"))
    outcomes = {p["outcome"] for p in golden["posts"] if p.get("outcome")}
    assert outcomes and {PostOutcome.of(o) for o in outcomes} >= {PostOutcome.CREATED, PostOutcome.MERGED}
    assert PostOutcome.NOT_REQUEST.with_detail("spam") == "not_request:spam"
    assert PostOutcome.of("reply:thanks") is PostOutcome.REPLY
    with pytest.raises(ValueError):
        PostOutcome.of("no_such_outcome")


def test_message_kinds_have_a_template_in_every_language() -> None:
    replies = json.loads((ROOT / "civictracker/cities/cambridge_ma/replies.json").read_text(encoding="utf-8"))
    templated = {k.value for k in MessageKind} - OWN_WORDS_KINDS
    for lang, templates in replies.items():
        assert templated <= set(templates), lang
        assert not OWN_WORDS_KINDS & set(templates), lang  # a staff reply is never re-rendered
    for kind in MessageKind:
        assert (kind in notify.FALLBACK) == (kind not in OWN_WORDS_KINDS), kind
    # each public status change a follower hears about is a public status, and says so with its own kind
    assert set(notify.STATUS_TEMPLATE) <= ticket_model.PUBLIC_STATUSES | {S.REJECTED}
    assert set(notify.STATUS_TEMPLATE.values()) <= set(MessageKind)


def test_replay_limit_is_one_constant(tmp_path: Path) -> None:
    channel = ReplayChannel(tmp_path / "feed.jsonl")
    assert REPLAY_MAX_LENGTH == X_MAX_LENGTH == 280  # the replay stands in for X
    assert channel.max_length == channel.outbox.max_length == REPLAY_MAX_LENGTH
    assert notify.CHANNEL_LIMITS["replay"] == notify.CHANNEL_LIMITS["log"] == REPLAY_MAX_LENGTH


# --- no literal state strings ------------------------------------------------------------------------------

STATE_FIELDS = {"state", "status", "outcome", "geocode_status", "from_status", "to_status"}
STATE_VALUES = {
    s.value for e in (TicketStatus, PostState, MessageState, ticket_model.GeocodeStatus) for s in e
}


def _literal_state_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """`x.state == "sent"`, `x.status in ("open", ...)`, `X.state.in_([...])`, `x.state = "..."` with a literal."""
    found: list[tuple[int, str]] = []

    def names_field(node: ast.AST) -> bool:
        return isinstance(node, ast.Attribute) and node.attr in STATE_FIELDS

    def literals(node: ast.AST) -> list[str]:
        return [
            n.value
            for n in ast.walk(node)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value in STATE_VALUES
        ]

    for node in ast.walk(tree):
        if isinstance(node, ast.Compare) and (
            names_field(node.left) or any(map(names_field, node.comparators))
        ):
            found += [(node.lineno, v) for v in literals(node)]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "in_":
            if names_field(node.func.value):
                found += [(node.lineno, v) for v in literals(node)]
        elif isinstance(node, ast.Assign) and any(map(names_field, node.targets)):
            found += [(node.lineno, v) for v in literals(node.value)]
        elif isinstance(node, ast.keyword) and node.arg in {"state", "geocode_status"}:
            found += [(node.value.lineno, v) for v in literals(node.value)]
    return found


def test_no_literal_state_strings_in_the_code() -> None:
    offenders = []
    for path in sorted((ROOT / "civictracker").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        offenders += [
            f"{path.relative_to(ROOT)}:{line}: {value!r}" for line, value in _literal_state_uses(tree)
        ]
    assert not offenders, "use the models' enums and sets:\n" + "\n".join(offenders)


def test_the_literal_check_finds_literals() -> None:
    sample = 'm.state = "sent"\nif t.status in ("open",): pass\nq.where(M.state.in_(["dead"]))\nf(state="failed")\n'
    assert [v for _, v in _literal_state_uses(ast.parse(sample))] == ["sent", "open", "dead", "failed"]
