"""The data model; importing this package registers every table on the metadata."""

from civictracker.models.crew import Crew
from civictracker.models.inbox import InboxEvent, InboxHow, InboxState
from civictracker.models.outbox import ChannelCursor, MessageKind, MessageState, OutboundMessage
from civictracker.models.report import (
    Follower,
    InboundPost,
    PostOutcome,
    PostState,
    RejectedInput,
    Reporter,
)
from civictracker.models.service import Service
from civictracker.models.ticket import (
    OPEN_STATUSES,
    PUBLIC_STATUSES,
    GeocodeStatus,
    Ticket,
    TicketEvent,
    TicketStatus,
)
from civictracker.models.transitions import IllegalTransition, can_move, check_transition
from civictracker.models.user import ApiKey, Role, User

__all__ = [
    "OPEN_STATUSES",
    "PUBLIC_STATUSES",
    "ApiKey",
    "ChannelCursor",
    "Crew",
    "Follower",
    "GeocodeStatus",
    "IllegalTransition",
    "InboundPost",
    "InboxEvent",
    "InboxHow",
    "InboxState",
    "MessageKind",
    "MessageState",
    "OutboundMessage",
    "PostOutcome",
    "PostState",
    "RejectedInput",
    "Reporter",
    "Role",
    "Service",
    "Ticket",
    "TicketEvent",
    "TicketStatus",
    "User",
    "can_move",
    "check_transition",
]
