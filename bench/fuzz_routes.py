"""Fuzz every public route and form with Hypothesis; print inputs tried and 500s per database.

Run: .venv/bin/python bench/fuzz_routes.py [--backend sqlite|postgis|both] [--examples 10000] [--seed 0]
Each backend gets a scratch database (tests/fuzz/routes.py fuzz_app: tickets, a crew, inbox posts, users
and an API key to aim at). Unlike the suite's test it keeps going after a 500, counts them and prints
the first few requests that caused one. Target (issue #16): 0 of >= 10,000 on each database.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from tests.fuzz.routes import calls, fuzz_app, send


def run(backend: str, examples: int, rng_seed: int) -> tuple[int, int, dict[int, int], list[str]]:
    statuses: collections.Counter[int] = collections.Counter()
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, fuzz_app(backend, Path(tmp)) as (_, clients):

        @seed(rng_seed)
        @settings(
            max_examples=examples,
            database=None,
            deadline=None,
            phases=[Phase.generate],  # count every input; no shrinking (the suite's test shrinks)
            suppress_health_check=list(HealthCheck),
        )
        @given(st.data())
        def one_request(data: st.DataObject) -> None:
            call = data.draw(calls(clients.api_key))
            status = send(clients, call)
            statuses[status] += 1
            if status >= 500 and len(failures) < 10:
                failures.append(f"{status} {call.describe()[:400]!r}")

        one_request()
    tried = sum(statuses.values())
    return tried, sum(n for s, n in statuses.items() if s >= 500), dict(sorted(statuses.items())), failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgis", "both"], default="both")
    parser.add_argument("--examples", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    backends = ["sqlite", "postgis"] if args.backend == "both" else [args.backend]
    for backend in backends:
        start = time.perf_counter()
        tried, errors, statuses, failures = run(backend, args.examples, args.seed)
        elapsed = time.perf_counter() - start
        print(f"{backend}: {tried} inputs tried, {errors} answered 5xx ({elapsed:.0f} s)")
        print(f"  statuses: {statuses}")
        for failure in failures:
            print(f"  {failure}")


if __name__ == "__main__":
    main()
