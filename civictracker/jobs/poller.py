"""The embedded default's poll loop: fetch every channel and send due replies, in a background thread."""

from __future__ import annotations

import logging
import threading

from flask import Flask

from civictracker.runtime import settings_of

log = logging.getLogger(__name__)


def poll_once(app: Flask) -> dict[str, int]:
    """One round: every configured channel, then the outbox. Errors are logged, the loop goes on."""
    from civictracker.jobs import posts as jobs
    from civictracker.outbox import sweep as outbox

    counts: dict[str, int] = {}
    with app.app_context():
        for name in settings_of(app).channel_names:
            try:
                counts[name] = jobs.poll_channel(name)
            except Exception:  # a channel that is down must not stop the others
                log.exception("polling %s failed; will retry next round", name)
        try:
            counts["sent"] = outbox.sweep_outbox()
        except Exception:
            log.exception("outbox sweep failed; will retry next round")
    return counts


def start_poll_loop(app: Flask, stop: threading.Event) -> threading.Thread:

    interval = max(0.2, settings_of(app).poll_interval)

    def run() -> None:
        while not stop.is_set():
            poll_once(app)
            stop.wait(interval)

    thread = threading.Thread(target=run, name="civictracker-poll", daemon=True)
    thread.start()
    return thread
