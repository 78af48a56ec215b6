"""The data model; importing this package registers every table on the metadata."""

from civictracker.models.crew import Crew
from civictracker.models.outbox import ChannelCursor, OutboundMessage
from civictracker.models.report import Follower, InboundPost, Reporter
from civictracker.models.service import Service
from civictracker.models.ticket import OPEN_STATUSES, PUBLIC_STATUSES, Ticket, TicketEvent, TicketStatus
from civictracker.models.user import ApiKey, Role, User

__all__ = [
    "OPEN_STATUSES",
    "PUBLIC_STATUSES",
    "ApiKey",
    "ChannelCursor",
    "Crew",
    "Follower",
    "InboundPost",
    "OutboundMessage",
    "Reporter",
    "Role",
    "Service",
    "Ticket",
    "TicketEvent",
    "TicketStatus",
    "User",
]
