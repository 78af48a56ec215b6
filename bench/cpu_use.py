"""CPU use of a multi-process bench run from /proc: workers, their PostgreSQL backends, the rest."""

from __future__ import annotations

import os
import subprocess

from sqlalchemy import create_engine, text


def _cpu_ticks(pid: int) -> int:
    """utime + stime of one process, in clock ticks (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])  # (fields 14 and 15 of proc(5), counted after the name)


def _pids_named(*names: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm", encoding="ascii") as fh:
                    if fh.read().strip() in names:
                        pids.append(int(entry))
            except OSError:
                continue
    return pids


def backends_of(admin_url: str, database: str) -> list[int]:
    """The pids of the PostgreSQL backends connected to `database` (the workers' and this process's)."""
    engine = create_engine(admin_url)
    try:
        with engine.connect() as conn:
            return list(
                conn.execute(
                    text("SELECT pid FROM pg_stat_activity WHERE datname = :name"), {"name": database}
                ).scalars()
            )
    finally:
        engine.dispose()


def cpu_use(workers: list[subprocess.Popen], backends: set[int]) -> dict[int | str, int]:
    """CPU ticks so far: each worker, each backend of the bench's database (by pid), every other postgres
    process (background writers, and other databases' backends: another user's work on a shared machine),
    redis and this process (the feeder)."""
    others = [pid for pid in _pids_named("postgres") if pid not in backends]
    return {
        **{f"w{w.pid}": _cpu_ticks(w.pid) for w in workers},
        **{pid: _cpu_ticks(pid) for pid in backends},
        "other postgres": sum(_cpu_ticks(pid) for pid in others),
        "redis": sum(_cpu_ticks(pid) for pid in _pids_named("redis-server")),
        "bench": _cpu_ticks(os.getpid()),
    }


def print_cpu(before: dict[int | str, int], after: dict[int | str, int], wall: float, n: int) -> None:
    """Cores kept busy over the run: workers, their database backends, the rest (what is left for more
    workers on this machine). A backend that connected during the run counts from 0."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {k: (after[k] - before.get(k, 0)) / tick for k in after}
    groups = {
        "workers": sum(v for k, v in used.items() if isinstance(k, str) and k.startswith("w")),
        "their postgres backends": sum(v for k, v in used.items() if isinstance(k, int)),
        "other postgres": used["other postgres"],
        "redis": used["redis"],
        "bench feeder": used["bench"],
    }
    parts = ", ".join(f"{k} {v:.2f} s ({v / wall:.2f} cores)" for k, v in groups.items())
    own = sum(groups.values()) - groups["other postgres"]
    print(
        f"[postgis] CPU over the run: {parts}; without other postgres: {own:.2f} s = {own / wall:.2f} of "
        f"{os.cpu_count()} cores, {own / n * 1000:.2f} ms CPU per post "
        f"(workers {groups['workers'] / n * 1000:.2f}, backends {groups['their postgres backends'] / n * 1000:.2f})"
    )
