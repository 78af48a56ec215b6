"""Each account's lanes as the settings and the database give them: caps, recent sends, room right now."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import case, func, or_, select

from civictracker.channels.limits import Window, mastodon_tier, x_tier
from civictracker.extensions import db
from civictracker.models import MessageState, OutboundMessage
from civictracker.models.outbox import WAITING_STATES
from civictracker.models.transitions import values_of
from civictracker.outbox.compose import DM_ROUTE
from civictracker.outbox.schedule import DM, POST, Cap, Policy, free_now


def _caps(windows: tuple[Window, ...]) -> tuple[Cap, ...]:
    return tuple(Cap(w.limit, w.window_s) for w in windows)


def outbox_policy(settings: Any) -> Policy:
    """Per-account posting caps: the platform's for the account's tier (channels/limits.py) and the
    city's own from the settings, both applied; the storm knobs. The replay/log channel is uncapped."""
    xt, mt = x_tier(settings.x_tier), mastodon_tier(settings.mastodon_tier)
    x_post = (
        Cap(settings.x_posts_per_3h, 3 * 3600),
        Cap(settings.x_posts_per_15min, 15 * 60),
        *_caps(xt.posts),
    )
    x_dm = (Cap(settings.x_dms_per_24h, 24 * 3600), *_caps(xt.dms))
    masto = (Cap(settings.mastodon_posts_per_hour, 3600), *_caps(mt.posts))
    return Policy(
        caps={},
        account_caps={
            ("x", POST): x_post,
            ("x", DM): x_dm,
            ("mastodon", POST): masto,
            ("mastodon", DM): masto,
        },
        target_s=settings.outbox_target_s,
        cluster=settings.outbox_cluster,
        max_cluster=max(1, settings.outbox_max_cluster),
        spill_to_dm=settings.outbox_spill_to_dm,
        dm_spill_after_s=settings.outbox_dm_spill_after_s,
        digest_after_s=settings.outbox_digest_after_s if settings.outbox_digest_after_s > 0 else None,
        # a Mastodon "direct" status is a status: it counts against the same 300 per 3 h
        shared_lanes=frozenset({"mastodon"}),
        # a tier whose replies may not @mention other reporters gets no cluster or digest replies
        no_mentions=frozenset(
            name for name, tier in (("x", xt), ("mastodon", mt)) if not tier.mentions_others
        ),
    )


def lane_history(channel: str | None, now: dt.datetime) -> dict[tuple[str, str], list[float]]:
    """Send times per lane over the last day: one per platform call (a cluster counts once).

    A call claimed and not settled yet ("sending") counts from its claim: it may be on the platform
    already. Counted only once settled, a second sender reading the lane between the claim and the
    settle would take the same free slot, and the account would go over its cap by one.
    """
    day_ago = now - dt.timedelta(hours=24)
    sending = OutboundMessage.state == MessageState.SENDING
    stmt = select(
        OutboundMessage.channel,
        OutboundMessage.is_dm,
        OutboundMessage.batch_key,
        OutboundMessage.sent_external_id,
        case((sending, OutboundMessage.next_attempt_at), else_=OutboundMessage.sent_at),
    ).where(
        or_(
            (OutboundMessage.state == MessageState.SENT) & (OutboundMessage.sent_at >= day_ago),
            sending & (OutboundMessage.next_attempt_at >= day_ago),
        )
    )
    if channel is not None:
        stmt = stmt.where(OutboundMessage.channel == channel)
    seen: set[tuple[str, str, str]] = set()
    history: dict[tuple[str, str], list[float]] = {}
    for name, is_dm, key, external_id, sent_at in db.session.execute(stmt):
        lane = DM if is_dm or (key or "").startswith(DM_ROUTE + ":") else POST
        call = (name, lane, external_id or key or "")
        if call in seen or sent_at is None:
            continue
        seen.add(call)
        history.setdefault((name, lane), []).append(sent_at.timestamp())
    return history


def admit(policy: Policy, msg: OutboundMessage, now: dt.datetime) -> bool:
    """Whether the fast path may send this message now: its lane is uncapped, or idle with room."""
    kind = DM if msg.is_dm else POST
    if not policy.caps_for(msg.channel, kind):
        return True
    waiting = db.session.scalar(
        select(func.count())
        .select_from(OutboundMessage)
        .where(
            OutboundMessage.channel == msg.channel,
            OutboundMessage.is_dm == msg.is_dm,
            OutboundMessage.id != msg.id,
            OutboundMessage.state.in_(values_of(WAITING_STATES)),
            OutboundMessage.next_attempt_at <= now,
        )
    )
    if waiting:
        return False  # a queue is forming: the sweep decides the order, clusters and spills
    history = lane_history(msg.channel, now)
    return free_now(policy, msg.channel, kind, history, now.timestamp()) > 0
