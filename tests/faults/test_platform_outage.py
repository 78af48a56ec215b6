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
    # The target: caught up within 2 poll intervals plus the cap's pacing. The probe finds the
    # platform back within a sweep and the rest follow (60 s before the channels branch's per-endpoint
    # budgets; 90 s since). The storm env paces X at one post per 3.75 minutes (225 s).
    assert figures.catch_up_s is not None and figures.catch_up_s <= 2 * 30 + 225, figures


def test_lost_answers_during_an_outage_double_nothing(env: Env) -> None:
    figures = platform_outage(env, minutes=10, step_s=30, residents=4, mode="timeout")
    assert (figures.replies_dead, figures.replies_doubled) == (0, 0), figures
