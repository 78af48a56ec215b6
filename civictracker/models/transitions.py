"""Moving a row from one state to another: one check for tickets, inbound posts and outbound messages."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TypeVar

E = TypeVar("E", bound=enum.StrEnum)


class IllegalTransition(ValueError):
    """A state change its transition table does not allow (or a state that is not one of the enum's)."""

    def __init__(self, what: str, from_state: str, to_state: str) -> None:
        super().__init__(f"{what} cannot go from {from_state!r} to {to_state!r}.")
        self.from_state = from_state
        self.to_state = to_state


def can_move(table: Mapping[E, frozenset[E]], from_state: str, to_state: str) -> bool:
    """Whether `table` allows the move; a string that is no state of the table's enum is never allowed."""
    enum_type = type(next(iter(table)))
    try:
        return enum_type(to_state) in table[enum_type(from_state)]
    except ValueError:
        return False


def check_transition(table: Mapping[E, frozenset[E]], from_state: str, to_state: E) -> E:
    """`to_state` when `table` allows moving there from `from_state`; IllegalTransition otherwise."""
    if not can_move(table, from_state, to_state):
        raise IllegalTransition(type(to_state).__name__, str(from_state), str(to_state))
    return to_state


def values_of(states: Iterable[enum.StrEnum]) -> list[str]:
    """Plain strings in a stable order, for SQL `IN (...)` filters (a set's order changes per process)."""
    return sorted(s.value for s in states)
