"""The public map's search box (/api/search): answer times, cold and warm, on the city pack's real places.

Run: .venv/bin/python bench/bench_search.py [--per-kind 200] [--seed 7] [--backend sqlite|postgis]
The queries are drawn from the city pack itself: official addresses (addresses.csv, "14 Aberdeen Ave"),
intersections of the street data written "A and B" and "A & B", streets alone, places (places_poi.csv)
and report numbers ("#12" and "12"). Every request goes through Flask's test client (routing, the
offline geocoder, the ticket lookup, JSON; no network). Per kind:
  cold      the first request for that text in this process (no answer cached; gazetteer loaded)
  uncached  the same text again with the built answers cleared (geocoder and database pages warm)
  cached    the same text again: the answer the process keeps per data version
"found": some match; "right": the first match is what was asked (the corner within 30 m of where the
street data has it, the address's number, the street itself, a place, the report).
"gazetteer load" is what the very first search of a process pays once (read from the instance cache).
Target (issue 15): every search answers in <= 50 ms. Figures are noisy on a shared machine.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def _number(text: str) -> str:
    m = re.match(r"\d+", text)
    return m.group(0) if m else ""


def right(gz, kind: str, text: str, match: dict | None) -> bool:  # type: ignore[no-untyped-def]
    """Whether the first match is the thing asked for: the corner within 30 m, the address, the street."""
    from civictracker.geo.geocode import distance_m

    if match is None:
        return False
    if kind == "intersection":
        a, b = text.replace(" & ", " and ").split(" and ")
        corners = gz.intersections_of(a, b)
        return match["kind"] == "intersection" and any(
            distance_m(tuple(match["point"]), (j.lon, j.lat)) <= 30 for j in corners
        )
    if kind == "address":
        # "11-A Mt Auburn St" is written "11A Mt Auburn St": the house number's digits decide.
        return match["kind"] == "address" and _number(match["label"]) == _number(text)
    if kind == "street":
        return match["kind"] == "street" and match["label"] == text
    if kind == "place":
        return match["kind"] in ("place", "area")
    return match["kind"] == "ticket" and match["url"].endswith("/" + text.lstrip("#"))


def queries(pack: Path, gz, per_kind: int, ticket_ids: list[int], seed: int) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    with (pack / "addresses.csv").open(encoding="utf-8") as f:
        addresses = sorted({row["full_address"] for row in csv.DictReader(f) if row.get("full_address")})
    pairs = sorted(k for k in gz.junctions if len(k) == 2 and k[0] != k[1])
    places = sorted({p.name for p in gz.places})  # points of interest, landmarks, neighbourhoods
    streets = sorted(gz.streets)
    picked_pairs = rng.sample(pairs, min(per_kind, len(pairs)))
    return {
        "address": rng.sample(addresses, min(per_kind, len(addresses))),
        "intersection": [f"{a} and {b}" if i % 2 else f"{a} & {b}" for i, (a, b) in enumerate(picked_pairs)],
        "street": rng.sample(streets, min(per_kind, len(streets))),
        "place": rng.sample(places, min(per_kind, len(places))),
        "ticket": [f"#{t}" if i % 2 else str(t) for i, t in enumerate(ticket_ids)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backend", choices=["sqlite", "postgis"], default="sqlite")
    args = parser.parse_args()

    import civictracker.web.http_cache as http_cache
    from civictracker.extensions import db
    from civictracker.runtime import city_of, runtime_of
    from tests import factories
    from tests.conftest import drop_app, make_app

    tmp = Path(tempfile.mkdtemp(prefix="bench-search-"))
    app, pg_db = make_app(args.backend, tmp)
    try:
        with app.app_context():
            ids = [factories.ticket(db.session, address=f"{i} Hampshire St").id for i in range(1, 41)]
            db.session.commit()
            t0 = time.perf_counter()
            gz = runtime_of(app).gazetteer()
            load_ms = (time.perf_counter() - t0) * 1000
            sets = queries(city_of(app).path, gz, args.per_kind, ids, args.seed)
        client = app.test_client()
        print(
            f"search bench ({args.backend}): gazetteer built in {load_ms:.0f} ms (once per process and instance; later starts read its cache)"
        )
        print(
            f"{'kind':13} {'n':>4} {'found':>6} {'right':>6} {'cold p50/p95':>14} {'uncached p50/p95':>17} {'cached p50/p95':>15}"
        )
        worst = 0.0
        everything: dict[str, list[float]] = {"cold": [], "uncached": [], "cached": []}
        for kind, texts in sets.items():
            times: dict[str, list[float]] = {"cold": [], "uncached": [], "cached": []}
            found = good = 0
            for text in texts:
                for phase in ("cold", "uncached", "cached"):
                    if phase == "uncached":
                        with http_cache.ANSWERS_LOCK:
                            http_cache.ANSWERS.clear()
                    t0 = time.perf_counter()
                    resp = client.get("/api/search", query_string={"q": text})
                    times[phase].append((time.perf_counter() - t0) * 1000)
                    assert resp.status_code == 200, (text, resp.status_code, resp.get_data(as_text=True))
                    if phase == "cold":
                        matches = resp.get_json()["matches"]
                        found += bool(matches)
                        good += right(gz, kind, text, matches[0] if matches else None)
            for phase, values in times.items():
                everything[phase].extend(values)
            worst = max(worst, *times["cold"], *times["uncached"])
            print(
                f"{kind:13} {len(texts):4d} {found / max(1, len(texts)):6.0%} {good / max(1, len(texts)):6.0%} "
                f"{statistics.median(times['cold']):6.2f}/{pct(times['cold'], 0.95):6.2f} "
                f"{statistics.median(times['uncached']):8.2f}/{pct(times['uncached'], 0.95):7.2f} "
                f"{statistics.median(times['cached']):7.2f}/{pct(times['cached'], 0.95):6.2f}"
            )
        print(
            f"{'all':13} {len(everything['cold']):4d} {'':13} "
            f"{statistics.median(everything['cold']):6.2f}/{pct(everything['cold'], 0.95):6.2f} "
            f"{statistics.median(everything['uncached']):8.2f}/{pct(everything['uncached'], 0.95):7.2f} "
            f"{statistics.median(everything['cached']):7.2f}/{pct(everything['cached'], 0.95):6.2f}"
        )
        verdict = "ok" if pct(everything["cold"], 0.95) <= 50 else "MISSED (p95 <= 50 ms)"
        print(
            f"slowest single search {worst:.1f} ms; cold p95 {pct(everything['cold'], 0.95):.1f} ms: {verdict}"
        )
    finally:
        drop_app(app, pg_db)


if __name__ == "__main__":
    main()
