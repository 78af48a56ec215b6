"""Benchmark: gazetteer load time from cache, and extract + geocode phrases per second on one core,
warm and with a cold fuzzy-word cache (`.venv/bin/python bench/bench_geocode.py [--seconds S]`)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from civictracker.geo import geocode_text, load_gazetteer  # noqa: E402
from civictracker.geo.pack_loader import build_from_pack  # noqa: E402

PACK = ROOT / "civictracker" / "cities" / "cambridge_ma"
DEV = ROOT / "tests" / "data" / "geocode_dev.jsonl"


def _empty_fuzzy_caches(gz: object) -> None:
    """As in a worker just started: no fuzzy-word answers, no vocabulary lists built."""
    for name in ("_fuzzy_cache", "_fuzzy_vocab", "_fuzzy_by_size"):
        gz.__dict__.pop(name, None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        t0 = time.perf_counter()
        build_from_pack(PACK)
        build_s = time.perf_counter() - t0
        load_gazetteer(PACK, cache)  # writes the cache
        loads = []
        for _ in range(5):
            t0 = time.perf_counter()
            gz = load_gazetteer(PACK, cache)
            loads.append(time.perf_counter() - t0)
    print(
        f"gazetteer build from pack files: {build_s:.2f} s; load from cache: median {sorted(loads)[2] * 1000:.0f} ms"
    )
    texts = [json.loads(line)["text"] for line in DEV.open(encoding="utf-8") if line.strip()]
    # Distinct phrases (the fuzzy-word cache is warm after the first pass, as in a running service).
    variants = [f"{t} {i}" if i % 3 == 0 else t for i, t in enumerate(texts * 20)]
    for t in texts:
        geocode_text(gz, t)
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < args.seconds:
        for t in variants:
            geocode_text(gz, t)
        n += len(variants)
    dt = time.perf_counter() - t0
    print(f"extract + geocode: {n / dt:,.0f} phrases/s on one core ({n} phrases of the dev set, {dt:.1f} s)")
    # Cold: the fuzzy-word cache emptied first (a worker just started, or phrases it never saw). The unseen
    # word is alphabetic, so it goes through the fuzzy matcher (a word with digits never does).
    _empty_fuzzy_caches(gz)
    t0 = time.perf_counter()
    for t in texts:
        geocode_text(gz, t)
    dt = time.perf_counter() - t0
    print(f"cold fuzzy cache, the dev set once: {len(texts) / dt:,.0f} phrases/s  target >= 5,000")
    _empty_fuzzy_caches(gz)
    cold = [f"{t} {_unseen(i)}" for i, t in enumerate(texts)]
    t0 = time.perf_counter()
    for t in cold:
        geocode_text(gz, t)
    dt = time.perf_counter() - t0
    print(
        f"cold fuzzy cache, an unseen (fuzzy-matched) word in every phrase: {len(cold) / dt:,.0f} phrases/s"
    )
    t0 = time.perf_counter()
    for t in cold:
        geocode_text(gz, t)
    dt = time.perf_counter() - t0
    print(f"  the same phrases again (warm cache): {len(cold) / dt:,.0f} phrases/s")


def _unseen(i: int) -> str:
    """A made-up word, alphabetic and different for each i (so each is a cache miss)."""
    letters = "bcdfghjklmnpqrstvwxz"
    word = ""
    while True:
        i, r = divmod(i, len(letters))
        word += letters[r]
        if not i:
            break
    return f"zq{word}ovar"


if __name__ == "__main__":
    main()
