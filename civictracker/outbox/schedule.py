"""Which pending outbound messages may go now under per-account posting caps (pure: no I/O, no clock).

Platforms cap posting per account (X: about 300 posts per 3 h and 200 post requests per 15 min; DMs
have their own, larger caps), so in a storm the outbox, not intake, is the bottleneck. The policy:

- Sliding windows over the account's recent send times, per lane ("post" = public replies, "dm").
  A lane may send now as many as the tightest of its caps has left.
- Order: urgent first; then messages still inside the answer target (default 60 min), oldest first;
  then those already past it, oldest first. Past-target messages still go (nothing is ever dropped)
  but do not push in-target ones past the target too, which is how plain FIFO collapses in a surge.
- When a public lane has more waiting than it can send now, one reply covers a cluster: messages
  with the same `group` (the same ticket and event, e.g. the acknowledgement of merged duplicates)
  share one post in the lead's thread that mentions up to `max_cluster` reporters.
- A public message whose reporter accepts DMs (`dm_ok`) and that has waited `dm_spill_after_s`
  while the public lane is full is answered by DM instead, on the DM lane's separate cap.

`plan()` returns the batches to send now and the earliest time another may go; `simulate()` replays
a stream of arrivals through `plan()` to measure how many reporters are answered within the target.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace

POST = "post"
DM = "dm"


@dataclass(frozen=True)
class Cap:
    """At most `limit` sends in any `window_s` seconds."""

    limit: int
    window_s: float


# X API v2 per-user posting limits (Basic/Pro tiers); Mastodon's default is 300 statuses per 3 h.
X_CAPS: dict[str, tuple[Cap, ...]] = {
    POST: (Cap(300, 3 * 3600), Cap(200, 15 * 60)),
    DM: (Cap(200, 15 * 60), Cap(1000, 24 * 3600)),
}
MASTODON_CAPS: dict[str, tuple[Cap, ...]] = {
    POST: (Cap(300, 3 * 3600),),
    DM: (Cap(300, 3 * 3600),),  # a direct status is a status: shares the account's 300 / 3 h on Mastodon
}


@dataclass(frozen=True)
class Pending:
    """One outbound message waiting to go (the outbox row, reduced to what scheduling needs)."""

    id: Hashable
    account: str  # the posting account, e.g. "x:CambridgeFix"
    kind: str  # POST (public reply) or DM
    created_at: float  # when the message was queued (the reporter's clock starts then)
    urgent: bool = False
    group: str | None = None  # same group = may share one public reply (ticket + event)
    handle: str = ""  # recipient's handle, counted against the mention budget of a cluster reply
    dm_ok: bool = False  # the reporter accepts DMs: may be answered by DM when the public lane is full
    digest_ok: bool = False  # an acknowledgement a generic "we have your reports" reply may stand in for
    lang: str = ""  # a digest is written in one language: only messages in the lead's language join it


@dataclass(frozen=True)
class Batch:
    """One platform call: `messages[0]` leads (its thread is answered); the others are mentioned in it."""

    account: str
    kind: str
    messages: tuple[Pending, ...]
    digest: bool = False  # members belong to different groups: compose the generic digest reply

    @property
    def lead(self) -> Pending:
        return self.messages[0]


@dataclass(frozen=True)
class Policy:
    """Caps and knobs; `account_caps` overrides `caps` for one (account, kind)."""

    caps: Mapping[str, Sequence[Cap]] = field(default_factory=lambda: dict(X_CAPS))
    account_caps: Mapping[tuple[str, str], Sequence[Cap]] = field(default_factory=dict)
    target_s: float = 3600.0
    max_cluster: int = 8
    mention_budget: int = 110  # characters of "@handle " a cluster reply may spend on mentions
    dm_spill_after_s: float = 600.0
    spill_to_dm: bool = True
    cluster: bool = True
    # accounts whose replies may not @mention other reporters (X self-serve): no clusters, no digests
    no_mentions: frozenset[str] = frozenset()
    pace_splits: int = 4
    digest_after_s: float | None = 1200.0  # None: never mix groups in one reply
    # Accounts whose DMs are ordinary statuses counted against the same cap as public replies
    # (Mastodon): their DM lane shares the public lane's send history, so spilling buys no capacity.
    shared_lanes: frozenset[str] = frozenset()

    def lane_key(self, account: str, kind: str) -> tuple[str, str]:
        """The history a lane's sends count against (a shared DM lane counts against the public one)."""
        return (account, POST) if kind == DM and account in self.shared_lanes else (account, kind)

    def caps_for(self, account: str, kind: str) -> Sequence[Cap]:
        """The lane's caps plus pacing caps: each cap also applies pro rata to 1/pace_splits of its window.

        Without pacing a fresh window's whole allowance goes in the first minutes of a storm, one post
        per reporter, and the lane then sits empty for the rest of the hour while clusters could have
        formed. With 100/h and 4 splits, at most 25 go in any 15 minutes: plenty in calm weather.
        """
        caps = list(self.account_caps.get((account, kind), self.caps.get(kind, ())))
        if self.pace_splits > 1:
            caps += [
                Cap(max(1, -(-c.limit // self.pace_splits)), c.window_s / self.pace_splits) for c in caps
            ]
        return caps


@dataclass(frozen=True)
class Plan:
    batches: list[Batch]
    next_at: float | None  # earliest time another message may go (None: nothing left waiting)
    waiting: int  # messages still pending after these batches


def _free(caps: Sequence[Cap], history: Sequence[float], now: float) -> int:
    if not caps:
        return 1_000_000  # an uncapped lane
    return max(0, min(cap.limit - sum(1 for t in history if t > now - cap.window_s) for cap in caps))


def _next_slot(caps: Sequence[Cap], history: Sequence[float], now: float) -> float:
    """When the lane gets its next free slot, given sends so far (including any made at `now`)."""
    at = now
    for cap in caps:
        recent = sorted(t for t in history if t > now - cap.window_s)
        if len(recent) >= cap.limit:
            # the (len - limit + 1)-th oldest send must leave the window first
            at = max(at, recent[len(recent) - cap.limit] + cap.window_s)
    return at


def free_now(
    policy: Policy, account: str, kind: str, sent: Mapping[tuple[str, str], Sequence[float]], now: float
) -> int:
    """How many sends one lane may make right now (the fast path's check before a single send)."""
    lane = policy.lane_key(account, kind)
    history = [t for (a, k), times in sent.items() if policy.lane_key(a, k) == lane for t in times]
    return _free(policy.caps_for(account, kind), history, now)


def priority(message: Pending, now: float, target_s: float) -> tuple[bool, bool, float, str]:
    """Sort key: urgent first, then in-target before past-target, then oldest, then id for stability."""
    late = now - message.created_at > target_s
    return (not message.urgent, late, message.created_at, str(message.id))


def plan(
    pending: Iterable[Pending],
    sent: Mapping[tuple[str, str], Sequence[float]],
    now: float,
    policy: Policy | None = None,
) -> Plan:
    """Decide what goes now. `sent[(account, kind)]` holds the times of that lane's recent sends."""
    policy = policy or Policy()
    lanes: dict[tuple[str, str], list[Pending]] = defaultdict(list)
    for message in pending:
        lanes[(message.account, message.kind)].append(message)
    history: dict[tuple[str, str], list[float]] = {}
    for (account, kind), times in sent.items():
        history.setdefault(policy.lane_key(account, kind), []).extend(times)
    batches: list[Batch] = []
    leftovers: dict[tuple[str, str], list[Pending]] = {}
    spilled: dict[str, list[Pending]] = defaultdict(list)
    # public lanes first: what they cannot send now may spill to the same account's DM lane
    for account, kind in sorted(lanes, key=lambda lane: lane[1] != POST):
        queue = lanes[(account, kind)] + (spilled.pop(account, []) if kind == DM else [])
        queue.sort(key=lambda m: priority(m, now, policy.target_s))
        lane_history = history.setdefault(policy.lane_key(account, kind), [])
        sent_now, rest = _fill_lane(account, kind, queue, lane_history, now, policy)
        batches += sent_now
        if kind == POST and policy.spill_to_dm:
            rest = _spill(rest, spilled, now, policy)
        leftovers[(account, kind)] = rest
    # spilled messages of accounts without a DM lane in this call still need a lane
    for account, messages in spilled.items():
        lane_history = history.setdefault(policy.lane_key(account, DM), [])
        free = _free(policy.caps_for(account, DM), lane_history, now)
        messages.sort(key=lambda m: priority(m, now, policy.target_s))
        for message in messages[:free]:
            batches.append(Batch(account=account, kind=DM, messages=(message,)))
            lane_history.append(now)
        back = [replace(m, kind=POST) for m in messages[free:]]
        leftovers[(account, POST)] = leftovers.get((account, POST), []) + back
    next_at, waiting = _next_at(leftovers, history, now, policy)
    return Plan(batches=batches, next_at=next_at, waiting=waiting)


def _fill_lane(
    account: str,
    kind: str,
    queue: list[Pending],
    lane_history: list[float],
    now: float,
    policy: Policy,
) -> tuple[list[Batch], list[Pending]]:
    """What one lane sends now, in `queue`'s order, and what is left waiting.

    Only a saturated public lane (more waiting than it may send) shares replies: a cluster of one
    ticket's update, then, for long-waiting acknowledgements, a digest across tickets.
    """
    free = _free(policy.caps_for(account, kind), lane_history, now)
    sharing = kind == POST and len(queue) > free and account not in policy.no_mentions
    taken: set[Hashable] = set()
    batches: list[Batch] = []
    for message in queue:
        if free <= 0:
            break
        if message.id in taken:
            continue
        members = [message]
        taken.add(message.id)
        if sharing and policy.cluster and message.group is not None:
            _gather(members, queue, taken, policy, _same_group)
        if sharing and _digest_ready(message, now, policy):
            _gather(
                members, queue, taken, policy, lambda other, lead: _joins_digest(other, lead, now, policy)
            )
        digest = any(m.group != message.group for m in members[1:])
        batches.append(Batch(account=account, kind=kind, messages=tuple(members), digest=digest))
        lane_history.append(now)
        free -= 1
    return batches, [m for m in queue if m.id not in taken]


def _gather(
    members: list[Pending],
    queue: list[Pending],
    taken: set[Hashable],
    policy: Policy,
    fits: Callable[[Pending, Pending], bool],
) -> None:
    """Add to `members` the waiting messages that fit with the lead, in queue order, within the cluster
    size and the mention budget left (each member past the lead spends "@handle " of the reply)."""
    budget = policy.mention_budget - sum(len(m.handle) + 2 for m in members[1:])
    for other in queue:
        if len(members) >= policy.max_cluster:
            break
        if other.id in taken or not fits(other, members[0]):
            continue
        cost = len(other.handle) + 2
        if cost > budget:
            continue
        budget -= cost
        members.append(other)
        taken.add(other.id)


def _same_group(other: Pending, lead: Pending) -> bool:
    """The same ticket and update: one cluster reply may answer both."""
    return other.group == lead.group


def _digest_ready(message: Pending, now: float, policy: Policy) -> bool:
    """An acknowledgement that has waited long enough to lead a generic digest reply."""
    wait = policy.digest_after_s
    return wait is not None and message.digest_ok and now - message.created_at >= wait


def _joins_digest(other: Pending, lead: Pending, now: float, policy: Policy) -> bool:
    """Another long-waiting acknowledgement in the lead's language (a digest is written in one)."""
    return _digest_ready(other, now, policy) and other.lang == lead.lang


def _spill(
    rest: list[Pending], spilled: dict[str, list[Pending]], now: float, policy: Policy
) -> list[Pending]:
    """Move the public messages that waited `dm_spill_after_s` and may be DMed to their account's DM
    lane (`spilled`); return those that stay in the public lane."""
    keep: list[Pending] = []
    for message in rest:
        if message.dm_ok and now - message.created_at >= policy.dm_spill_after_s:
            spilled[message.account].append(replace(message, kind=DM))
        else:
            keep.append(message)
    return keep


def _next_at(
    leftovers: Mapping[tuple[str, str], list[Pending]],
    history: Mapping[tuple[str, str], list[float]],
    now: float,
    policy: Policy,
) -> tuple[float | None, int]:
    """The earliest time another message may go (None: nothing waits), and how many wait."""
    next_at: float | None = None
    waiting = 0
    for (account, kind), rest in leftovers.items():
        if not rest:
            continue
        waiting += len(rest)
        at = _next_slot(policy.caps_for(account, kind), history.get(policy.lane_key(account, kind), []), now)
        if kind == POST and policy.spill_to_dm:
            spill_times = [m.created_at + policy.dm_spill_after_s for m in rest if m.dm_ok]
            if spill_times:
                at = min(at, max(now, min(spill_times)))
        at = max(now, at)  # capacity is there but was not used (cannot happen unless a lane is uncapped)
        next_at = at if next_at is None else min(next_at, at)
    return next_at, waiting


@dataclass(frozen=True)
class Delivery:
    """When and how one message was answered in a simulation."""

    at: float
    kind: str
    batch_size: int


def simulate(
    arrivals: Sequence[Pending],
    policy: Policy | None = None,
    *,
    step_s: float = 5.0,
    until: float | None = None,
) -> dict[Hashable, Delivery]:
    """Run arrivals through `plan()` on a fixed tick (the outbox poll) until all are answered or `until`."""
    policy = policy or Policy()
    queue = sorted(arrivals, key=lambda m: m.created_at)
    pending: list[Pending] = []
    sent: dict[tuple[str, str], list[float]] = defaultdict(list)
    delivered: dict[Hashable, Delivery] = {}
    i = 0
    now = queue[0].created_at if queue else 0.0
    horizon = until if until is not None else float("inf")
    while (i < len(queue) or pending) and now <= horizon:
        while i < len(queue) and queue[i].created_at <= now:
            pending.append(queue[i])
            i += 1
        result = plan(pending, sent, now, policy)
        done: set[Hashable] = set()
        for batch in result.batches:
            sent[(batch.account, batch.kind)].append(now)
            for message in batch.messages:
                delivered[message.id] = Delivery(at=now, kind=batch.kind, batch_size=len(batch.messages))
                done.add(message.id)
        pending = [m for m in pending if m.id not in done]
        # keep only what the longest window can still see, so a long run stays linear
        all_caps = [*policy.caps.values(), *policy.account_caps.values()]
        longest = max((c.window_s for caps in all_caps for c in caps), default=0.0)
        for lane, times in sent.items():
            sent[lane] = [t for t in times if t > now - longest]
        nxt = now + step_s
        if not pending and i < len(queue):
            nxt = max(nxt, queue[i].created_at)
        now = nxt
    return delivered
