"""A platform write outage longer than the old attempt budget: nothing dead, nothing doubled, quick catch-up."""

from __future__ import annotations

from tests.faults.scenarios import platform_outage
from tests.intake import test_outbox_clusters as storm
from tests.intake.test_outbox_clusters import Env

env = storm.env  # the storm fixture: each backend, the real X adapter on the local fake


def test_a_25_minute_write_outage_kills_no_reply(env: Env) -> None:
    # 8 attempts on the old 5 s..1 h backoff were spent in ~21 minutes (3.7 with the doubled retries)
    figures = platform_outage(env, minutes=25, step_s=30, residents=6, mode="down")
    assert figures.replies_dead == 0, figures
    assert figures.replies_doubled == 0, figures
    assert figures.posts_lost == 0, figures
    # the probe finds the platform back within a sweep; the rest follow in the next
    assert figures.catch_up_s is not None and figures.catch_up_s <= 2 * 30, figures


def test_lost_answers_during_an_outage_double_nothing(env: Env) -> None:
    figures = platform_outage(env, minutes=10, step_s=30, residents=4, mode="timeout")
    assert (figures.replies_dead, figures.replies_doubled) == (0, 0), figures
