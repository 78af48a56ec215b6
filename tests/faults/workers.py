"""Worker processes for the fault tests: a real Worker in a child process, started and SIGKILLed by id."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_CHILD = """
import sys
from redis import Redis
from rq import Queue
from civictracker.jobs.worker import run_worker

url, name, lease = sys.argv[1], sys.argv[2], int(sys.argv[3])
def connect():
    connection = Redis.from_url(url)
    return [Queue(name, connection=connection)], connection
run_worker(connect, lease_s=lease, max_wait_s=float(sys.argv[4]))
"""


def start_worker(
    redis_url: str, queue_name: str, *, lease_s: int = 2, max_wait_s: float = 1.0
) -> subprocess.Popen[bytes]:
    """A worker process (the product's run_worker) on `queue_name`; its output goes to a log beside it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD, redis_url, queue_name, str(lease_s), str(max_wait_s)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: rq's scheduler child goes with it
    )


def kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL (the worker and rq's scheduler child): no teardown, the job stays "started" in Redis."""
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop its process group if it still runs."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # rq's scheduler child, if it outlived the worker


def wait_for(predicate, timeout: float, step: float = 0.05) -> float | None:  # type: ignore[no-untyped-def]
    """Seconds until `predicate()` held, or None after `timeout`."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if predicate():
            return time.monotonic() - start
        time.sleep(step)
    return None


def slow_job(seconds: float) -> str:
    """A periodic job's stand-in that is surely mid-run when its worker is killed."""
    time.sleep(seconds)
    return "done"
