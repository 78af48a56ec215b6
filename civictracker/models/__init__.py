"""The data model; importing this package registers every table on the metadata."""

from civictracker.models.audit import AdminAction, AdminEvent, PasswordReset
from civictracker.models.crew import Crew
from civictracker.models.inbox import InboxEvent, InboxHow, InboxState
from civictracker.models.media import MediaKind, MediaReview, PostMedia, PostMediaEvent
from civictracker.models.outbox import ChannelCursor, MessageKind, MessageState, OutboundMessage
from civictracker.models.public_cache import (
    MapCell,
    MapCellDelta,
    MapClosedCell,
    MapGrid,
    MapRecentCell,
    PublicDataVersion,
)
from civictracker.models.reply_override import ReplyOverride, ReplyScope
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
    "AdminAction",
    "AdminEvent",
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
    "MapCell",
    "MapCellDelta",
    "MapClosedCell",
    "MapGrid",
    "MapRecentCell",
    "MediaKind",
    "MediaReview",
    "MessageKind",
    "MessageState",
    "OutboundMessage",
    "PasswordReset",
    "PostMedia",
    "PostMediaEvent",
    "PostOutcome",
    "PostState",
    "PublicDataVersion",
    "RejectedInput",
    "ReplyOverride",
    "ReplyScope",
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
