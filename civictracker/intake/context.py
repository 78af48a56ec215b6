"""What the pipeline's steps share: the app's part (PipelineEnv), the page's cache, the post at hand."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from civictracker.database import IdAllocator
from civictracker.geo.gazetteer import Gazetteer
from civictracker.geo.remote import RemoteGeocoder
from civictracker.intake.analysis import Analysis
from civictracker.models import InboundPost, OutboundMessage, PostState, Reporter, Service, Ticket
from civictracker.models.report import POST_TRANSITIONS
from civictracker.models.transitions import check_transition
from civictracker.services.dedupe import DedupeRules
from civictracker.services.following import FollowerCache
from civictracker.services.inbox_rules import apply_inbox_decision, decide_inbox
from civictracker.services.notify import ReplyContext


@dataclass(frozen=True)
class PipelineEnv:
    """What the pipeline needs from the app, passed explicitly (no request or app globals)."""

    gazetteer: Gazetteer
    replies: ReplyContext
    services: list[dict[str, Any]]
    remote: RemoteGeocoder | None = None  # the city's remote fallback (CIVICTRACKER_GEOCODER_REMOTE)
    dedupe_radius_m: float = 150.0
    dedupe_window_days: int = 30
    blocked: frozenset[str] = field(default_factory=frozenset)
    reply_to_non_requests: bool = False

    @property
    def dedupe(self) -> DedupeRules:
        return DedupeRules(radius_m=self.dedupe_radius_m, window_days=self.dedupe_window_days)

    @property
    def widest_dedupe_radius_m(self) -> float:
        """The largest radius any service of the city merges reports within."""
        own = [float(s.get("dedupe_radius_m") or 0) for s in self.services]
        return max([self.dedupe_radius_m, *own])


@dataclass
class PostRun:
    """What processing one post created in this transaction, so the steps after it need no lookups."""

    tickets: set[int] = field(default_factory=set)  # ids of the tickets it created
    messages: list[OutboundMessage] = field(default_factory=list)  # replies it queued (or found queued)


@dataclass
class PageCache:
    """What the posts of one page (one job, one transaction) share: read once, not once per post.

    A new one per job (a catalog change or a rolled-back reporter is never reused), passed to each step."""

    services: dict[str, Service] | None = None  # active services by code
    reporters: dict[tuple[str, str], Reporter] = field(default_factory=dict)  # created by this page
    followers: FollowerCache = field(default_factory=dict)  # created or read by this page
    # Ticket ids handed out before the INSERT (the page job holds the write lock): a new ticket then waits
    # for the page's next flush. None: each new ticket is flushed at once, for its id.
    ticket_ids: IdAllocator | None = None
    new_tickets: list[Ticket] = field(default_factory=list)  # created by this page, in order
    # The page's posts by (channel, external id): a reply finds a post of its page without a flush.
    posts: dict[tuple[str, str], InboundPost] = field(default_factory=dict)
    # Each post's analysis made before the page took its locks (it needs no database), by post id.
    analyses: dict[int, Analysis] = field(default_factory=dict)
    # Existing tickets this page locked (PostgreSQL) and read afresh: see ticketing.lock_ticket.
    locked_tickets: set[int] = field(default_factory=set)
    # The record of the post being (or last) processed; a fresh one per post, so a long-lived page does
    # not keep every post's rows alive.
    run: PostRun = field(default_factory=PostRun)


@dataclass
class PostContext:
    """One post being processed, with everything its steps need: passed as one."""

    session: Session
    post: InboundPost
    reporter: Reporter
    env: PipelineEnv
    page: PageCache
    now: dt.datetime
    stages: dict[str, Any] = field(default_factory=dict)  # what each step found, kept on the post

    @property
    def run(self) -> PostRun:
        return self.page.run

    def finish(
        self, state: PostState, outcome: str, reason: str, ticket: Ticket | None = None
    ) -> InboundPost:
        """The post's outcome: its state, why, and the ticket it ended on."""
        post = self.post
        post.state = check_transition(POST_TRANSITIONS, post.state, state)
        post.outcome = outcome
        post.reason = reason
        post.error = None if state != PostState.FAILED else reason
        post.processed_at = self.now
        if ticket is not None:
            post.ticket_id = ticket.id
        # The inbox: a person, the system, or the ticket answers it (services/inbox_rules.py).
        triage = self.stages.get("triage")
        decision = decide_inbox(
            outcome, failed=state == PostState.FAILED, is_dm=post.is_dm, triage=triage if triage else None
        )
        apply_inbox_decision(post, decision, self.now)
        return post
