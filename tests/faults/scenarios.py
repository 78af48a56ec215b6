"""Fault scenarios shared by tests/faults and bench/faults.py: platform outages in compressed time.

Time is compressed the way the outbox tests do it (`_age`): every recorded time of the outbox moves back
by one poll interval, then the real sweep runs. A 60-minute outage is 720 sweeps, not an hour.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

from sqlalchemy import func, select

from civictracker.extensions import db
from civictracker.models import InboundPost, OutboundMessage
from civictracker.outbox import sweep as outbox
from civictracker.runtime import runtime_of
from tests.intake.test_outbox_clusters import PLACES, Env, _age

WAITING = {"pending", "failed", "sending"}


@dataclasses.dataclass
class Figures:
    case: str
    posts_lost: int
    replies_doubled: int
    replies_dead: int
    catch_up_s: float | None  # simulated seconds from the platform's return until nothing waits

    def row(self) -> str:
        catch = "never" if self.catch_up_s is None else f"{self.catch_up_s:.0f}"
        return f"{self.case:<34} {self.posts_lost:>5} {self.replies_doubled:>8} {self.replies_dead:>5} {catch:>9}"


HEADER = f"{'case':<34} {'lost':>5} {'doubled':>8} {'dead':>5} {'catch-up s':>9}"


def _states() -> Counter[str]:
    db.session.expire_all()
    return Counter(m.state for m in db.session.scalars(select(OutboundMessage)))


def platform_outage(
    env: Env, *, minutes: float, step_s: float = 5.0, residents: int = 10, mode: str = "down"
) -> Figures:
    """X is down for `minutes` (mode "down": every call 503; "timeout": posts are made but the answer is
    lost, as after a timeout), `residents` report during it, then it comes back. Sweeps every `step_s`."""
    settings = dataclasses.replace(env.settings, x_posts_per_15min=300, outbox_cluster=False)
    runtime_of(env.app).settings = settings  # uncapped enough: the outage, not the caps, is measured
    if mode == "down":
        env.fx.down_for = 10**9
    else:
        env.fx.lose_post_responses = 10**9
    steps = int(minutes * 60 / step_s)
    report_at: dict[int, list[int]] = {}  # during the first half of the outage
    for i in range(residents):
        report_at.setdefault(int(i * steps / (2 * residents)), []).append(i)
    for step in range(steps):
        for i in report_at.get(step, []):
            env.report(f"res{i}", f"pothole at {10 + i} {PLACES[i % len(PLACES)].split(' ', 1)[1]}")
        _age(step_s / 60)
        outbox.sweep_outbox()
    env.fx.down_for, env.fx.lose_post_responses = 0, 0
    catch_up: float | None = None
    for step in range(1, 2000):
        _age(step_s / 60)
        outbox.sweep_outbox()
        if not WAITING & set(+_states()):
            catch_up = step * step_s
            break
    replies = Counter(p["in_reply_to"] for p in env.fx.posts if p["kind"] == "tweet")
    states = _states()
    return Figures(
        case=f"X {mode} {minutes:g} min",
        posts_lost=residents - int(db.session.scalar(select(func.count()).select_from(InboundPost)) or 0),
        replies_doubled=sum(n - 1 for n in replies.values() if n > 1),
        replies_dead=states["dead"],
        catch_up_s=catch_up,
    )


def print_table(rows: list[Any]) -> None:
    print(HEADER)
    for row in rows:
        print(row.row())
