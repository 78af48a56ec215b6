"""Benchmark: `flask civictracker triage --jsonl` on 1,000 posts from a cold process, and warm triage posts/s.

Usage: .venv/bin/python bench/bench_triage_cli.py [--runs 3] [--posts 1000] [--seconds 3] [--instance DIR]

Cold: wall time of whole CLI processes (interpreter start, app start-up, model load, 1,000 posts, output),
after one untimed run that builds the instance's one-time caches (gazetteer). Targets: <= 3 s cold,
>= 3,000 posts/s warm. Posts are the dev set (tests/data/intake_dev.jsonl) repeated with small variations
so later passes are not verbatim repeats. Warm: triage_texts() over the posts (batches of 256, as the CLI
and the intake pipeline read them) and triage_text() post by post (the web and single-post jobs), both
per CPU-second and per wall-clock second.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEV = ROOT / "tests" / "data" / "intake_dev.jsonl"
FLASK = Path(sys.executable).with_name("flask")
VARIATIONS = ("{}", "{} #cambridgema", "@CambridgeMA {}", "{} pls", "{}!!")


def posts(n: int) -> list[dict]:
    rows = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line.strip()]
    out = []
    for i in range(n):
        row = rows[i % len(rows)]
        text = VARIATIONS[(i // len(rows)) % len(VARIATIONS)].format(row["text"])
        out.append({"id": f"b{i}", "text": text, "channel": row["channel"]})
    return out


def cold_runs(batch: list[dict], runs: int, instance: Path) -> tuple[float, list[float], list[float]]:
    """Wall seconds of the first (cache-building) run, then wall and CPU seconds of each cold run after it.

    CPU time (user + system of the CLI process) is what the run costs on an idle core: other helpers'
    jobs on a shared machine stretch the wall time, not the CPU time.
    """
    stdin = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in batch).encode()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CIVICTRACKER_INSTANCE_PATH": str(instance)}
    cmd = [str(FLASK), "--app", "wsgi", "civictracker", "triage", "--jsonl"]
    times, cpus = [], []
    for _ in range(runs + 1):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(cmd, input=stdin, cwd=ROOT, env=env, capture_output=True, check=True)
        times.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        answers = done.stdout.decode().splitlines()
        assert len(answers) == len(batch) and all('"error"' not in a for a in answers), done.stderr[-2000:]
    return times[0], times[1:], cpus[1:]


def warm_rate(batch: list[dict], seconds: float, together: bool) -> tuple[float, float]:
    """Posts per second of wall time and of this process's CPU time, model loaded: triage_texts() of the
    whole batch (as the CLI and the intake pipeline read posts) if `together`, else triage_text() of each
    post (the web and single-post jobs)."""
    from civictracker.triage.classify import get_model, triage_text, triage_texts

    get_model()
    pairs = [(p["text"], p["channel"]) for p in batch]
    triage_texts(pairs[:50])
    n = 0
    wall, cpu = time.perf_counter(), time.process_time()
    while time.perf_counter() - wall < seconds:
        if together:
            triage_texts(pairs)
        else:
            for text, channel in pairs:
                triage_text(text, channel_kind=channel)
        n += len(batch)
    return n / (time.perf_counter() - wall), n / (time.process_time() - cpu)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--posts", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--instance", type=Path, help="instance folder (default: a new temporary one)")
    args = ap.parse_args()
    batch = posts(args.posts)
    with tempfile.TemporaryDirectory() as tmp:
        first, cold, cpu_s = cold_runs(batch, args.runs, args.instance or Path(tmp))
    print(
        f"triage --jsonl on {len(batch)} posts, cold process: median {statistics.median(cold):.2f} s wall "
        f"({statistics.median(cpu_s):.2f} s CPU), best {min(cold):.2f} s wall over {len(cold)} runs "
        f"(target <= 3 s); first run, building caches: {first:.2f} s"
    )
    for together, name in ((True, "triage_texts (batches)"), (False, "triage_text (one by one)")):
        wall, cpu = warm_rate(batch, args.seconds, together)
        print(
            f"{name} warm: {cpu:.0f} posts/s per CPU-second ({wall:.0f} posts/s wall clock; target >= 3,000)"
        )


if __name__ == "__main__":
    main()
