"""Domain errors the services raise; views, jobs and the CLI turn them into clear messages."""

from __future__ import annotations


class DomainError(Exception):
    """A request the domain refuses, with a message a user can act on."""


class InvalidTransition(DomainError):
    def __init__(self, from_status: str, to_status: str) -> None:
        super().__init__(f"A ticket cannot go from {from_status!r} to {to_status!r}.")
        self.from_status = from_status
        self.to_status = to_status


class NotFound(DomainError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class ValidationFailed(DomainError):
    """Input that breaks a rule: the message names the field and the rule."""
