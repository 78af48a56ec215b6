"""What each platform and tier allows: posting caps, read limits, reply rules (docs/platforms.md)."""

from __future__ import annotations

from dataclasses import dataclass, field

MINUTES_15 = 15 * 60
HOURS_3 = 3 * 3600
HOURS_24 = 24 * 3600


@dataclass(frozen=True)
class Window:
    """At most `limit` calls in any `window_s` seconds (`scope`: whose count it is, "user" or "app")."""

    limit: int
    window_s: float
    scope: str = "user"


@dataclass(frozen=True)
class Tier:
    """One platform access level. Figures and their sources are in docs/platforms.md; keep both in step.

    `reads` maps the adapter's endpoint label to its limit; labels sharing a limit name the same bucket
    (X counts GET /2/dm_events and /2/dm_conversations/with/:id/dm_events against one DM-lookup limit).
    `reply_needs_engagement`: a reply by API is allowed only when the author of the post answered
    mentioned or quoted the account (X self-serve since Feb 2026); `mentions_others`: whether a reply may
    @mention people other than the author it answers (cluster and digest replies do).
    """

    name: str
    posts: tuple[Window, ...]
    dms: tuple[Window, ...]
    reads: dict[str, Window] = field(default_factory=dict)
    read_buckets: dict[str, str] = field(default_factory=dict)  # endpoint label -> shared bucket name
    reply_needs_engagement: bool = False
    mentions_others: bool = True


_X_READS = {
    "mentions": Window(300, MINUTES_15),
    "dm_reads": Window(15, MINUTES_15),
    "user_tweets": Window(900, MINUTES_15),
    "tweet_lookup": Window(900, MINUTES_15),
}
_X_BUCKETS = {"dm_events": "dm_reads", "dm_conversation_events": "dm_reads"}

X_TIERS: dict[str, Tier] = {
    # Self-serve (pay-per-use, and the old Basic/Pro packages): the published v2 table, plus the
    # long-standing 300 posts per 3 hours per account that X still enforces across apps.
    "self_serve": Tier(
        name="self_serve",
        posts=(Window(100, MINUTES_15), Window(300, HOURS_3), Window(10_000, HOURS_24, "app")),
        dms=(Window(15, MINUTES_15), Window(1_440, HOURS_24)),
        reads=_X_READS,
        read_buckets=_X_BUCKETS,
        reply_needs_engagement=True,
        mentions_others=False,
    ),
    # Enterprise: same published windows (contracts may raise them); replies are not restricted.
    "enterprise": Tier(
        name="enterprise",
        posts=(Window(100, MINUTES_15), Window(300, HOURS_3), Window(10_000, HOURS_24, "app")),
        dms=(Window(15, MINUTES_15), Window(1_440, HOURS_24)),
        reads=_X_READS,
        read_buckets=_X_BUCKETS,
    ),
    # No platform limits at all: the local fakes in tests and benches that lift them on purpose.
    "none": Tier(name="none", posts=(), dms=()),
}

MASTODON_TIERS: dict[str, Tier] = {
    # Mastodon's defaults (docs.joinmastodon.org/api/rate-limits): 300 statuses per 3 h per account
    # (a "direct" status is a status), and 300 API calls per 5 min per account for everything.
    "default": Tier(
        name="default",
        posts=(Window(300, HOURS_3),),
        dms=(Window(300, HOURS_3),),
        reads={"api": Window(300, 300)},
        read_buckets={
            "notifications": "api",
            "account_statuses": "api",
            "status": "api",
            "account": "api",
            "relationships": "api",
        },
    ),
    "none": Tier(name="none", posts=(), dms=()),
}


def x_tier(name: str) -> Tier:
    try:
        return X_TIERS[name]
    except KeyError:
        raise ValueError(f"unknown X tier {name!r}; one of {', '.join(sorted(X_TIERS))}") from None


def mastodon_tier(name: str) -> Tier:
    try:
        return MASTODON_TIERS[name]
    except KeyError:
        raise ValueError(
            f"unknown Mastodon tier {name!r}; one of {', '.join(sorted(MASTODON_TIERS))}"
        ) from None


def poll_interval(tier: Tier, label: str) -> float:
    """The shortest interval between reads of one endpoint that stays within its limit (0: unlimited)."""
    window = tier.reads.get(tier.read_buckets.get(label, label))
    return window.window_s / window.limit if window else 0.0
