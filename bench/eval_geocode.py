"""Evaluate the offline geocoder: official intersections in 5 styles, the master address list, the dev set."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.shared_data import SHARED_DATA  # noqa: E402
from civictracker.geo import geocode_text, load_gazetteer  # noqa: E402
from civictracker.geo.geocode import distance_m  # noqa: E402
from civictracker.geo.lexicon import default_lexicon  # noqa: E402

STREET_TYPES = default_lexicon().street_types

PACK = ROOT / "civictracker" / "cities" / "cambridge_ma"
OFFICIAL = SHARED_DATA / "cambridge_ma_gazetteer" / "intersections.csv"
DEV = ROOT / "tests" / "data" / "geocode_dev.jsonl"
REALSTYLE = ROOT / "bench" / "data"  # realstyle_geocode_{dev,test}.jsonl, made by make_realstyle_geocode.py
TYPE_WORDS = {k.lower() for k in STREET_TYPES} | {"st n"}


def _drop_type(name: str) -> str:
    words = name.split()
    if len(words) >= 2 and words[-1].lower() in TYPE_WORDS:
        words = words[:-1]
    return " ".join(words)


def styles(name: str) -> dict[str, str]:
    """The official name written the ways residents write it."""
    parts = [p.strip() for p in name.split(" & ")]
    return {
        "as_named": name,
        "lower": name.lower(),
        "no_types": " & ".join(_drop_type(p) for p in parts),
        "a_and_b": " and ".join(parts),
        "corner_of_b_and_a": "corner of " + " and ".join(reversed(parts)),
    }


def eval_intersections(gz: object, show: int, only_style: str | None = None) -> None:
    rows = [r for r in csv.DictReader(OFFICIAL.open()) if r["intersection"].strip()]
    by_name: dict[str, list[tuple[float, float]]] = defaultdict(list)
    # Texts that several official names turn into ("Garden St & Garden Ter" and "Garden Ln & Garden St"
    # both read "Garden & Garden" without types): no geocoder can place every one of them.
    by_text: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in rows:
        by_name[r["intersection"]].append((float(r["lon"]), float(r["lat"])))
        for style, text in styles(r["intersection"]).items():
            by_text[(style, text.lower())].add(r["intersection"])
    ok: Counter[str] = Counter()
    ok_strict: Counter[str] = Counter()
    ok_any: Counter[str] = Counter()
    n_amb: Counter[str] = Counter()
    infeasible = 0
    fails: list[tuple[str, str, str]] = []
    for r in rows:
        name = r["intersection"]
        own = (float(r["lon"]), float(r["lat"]))
        parts = name.split(" & ")
        known = sum(1 for p in parts if gz.lookup_name(p))  # type: ignore[attr-defined]
        if known < 2 and " and " not in name:
            infeasible += 1
        for style, text in styles(name).items():
            readings = by_text[(style, text.lower())]
            n_amb[style] += len(readings) > 1
            res = geocode_text(gz, text)  # type: ignore[arg-type]
            if res.lat is None or res.lon is None:
                fails.append((style, text, f"not found: {res.reason} [official: {name}]"))
                continue
            pt = (res.lon, res.lat)
            d_any = min(distance_m(pt, p) for p in by_name[name])
            if d_any <= 30:
                ok[style] += 1
            else:
                amb = " (text shared by another official name)" if len(readings) > 1 else ""
                fails.append((style, text, f"{d_any:.0f} m off ({res.matched}) [official: {name}]{amb}"))
            if distance_m(pt, own) <= 30:
                ok_strict[style] += 1
            if min(distance_m(pt, p) for nm in readings for p in by_name[nm]) <= 30:
                ok_any[style] += 1
    n = len(rows)
    print(
        f"== Official named intersections: {n} rows ({len(by_name)} distinct names); "
        f"{infeasible} name streets absent from the centerlines ('<Null>', North Point Blvd, ...)"
    )
    print("   correct = within 30 m of an official node bearing that name (divided roads and rotaries carry")
    print("   the same name on several nodes); 'strict' = within 30 m of this row's own node")
    tot = tot_s = 0
    for style in styles("A & B"):
        tot += ok[style]
        tot_s += ok_strict[style]
        print(f"   {style:<20} {ok[style] / n:7.2%}  ({ok[style]}/{n})   strict {ok_strict[style] / n:7.2%}")
    print(f"   {'ALL STYLES':<20} {tot / (5 * n):7.2%}  ({tot}/{5 * n})   strict {tot_s / (5 * n):7.2%}")
    feasible = n - infeasible
    print(
        f"   on the {feasible} rows whose streets exist in the centerlines: "
        f"{tot / (5 * feasible):7.2%} (failures above still counted)"
    )
    print("   ambiguous texts: rows whose text is identical to another official name's text in that style;")
    print("   'any reading' = within 30 m of a node of any official name written that way")
    for style in styles("A & B"):
        print(
            f"   {style:<20} ambiguous rows {n_amb[style]:4d}   any reading {ok_any[style] / n:7.2%}  "
            f"({ok_any[style]}/{n})"
        )
    for f in [f for f in fails if only_style in (None, f[0])][:show]:
        print("   FAIL", *f)


def eval_points(gz: object, points: Path, show: int) -> None:
    """Right street and distance to the official doorway point, for a file of official address points."""
    from civictracker.geo.importers import read_addresses_csv

    recs = [r for r in read_addresses_csv(points) if r.lon is not None and r.lat is not None]
    seen: set[str] = set()
    n = right = w30 = w60 = 0
    by_prec: Counter[str] = Counter()
    fails = []
    for r in recs:
        text = r.full or f"{r.number}{r.suffix} {r.street}"
        if text in seen:  # one address may carry several points (entries); score it once, nearest point
            continue
        seen.add(text)
        pts = [(x.lon, x.lat) for x in recs if (x.full or f"{x.number}{x.suffix} {x.street}") == text]
        want = gz.lookup_name(r.street)  # type: ignore[attr-defined]
        res = geocode_text(gz, text)  # type: ignore[arg-type]
        n += 1
        if not (res.found and want and res.street == want[0]):
            fails.append((text, f"got {res.street} ({res.reason})"))
            continue
        right += 1
        d = min(distance_m((res.lon, res.lat), p) for p in pts)  # type: ignore[arg-type]
        by_prec[res.precision or "?"] += 1
        w30 += d <= 30
        w60 += d <= 60
        if d > 60:
            fails.append((text, f"{d:.0f} m from the official point ({res.precision})"))
    print(f"== Official address points ({points.name}): {n} addresses")
    print(
        f"   right street {right / max(1, n):.2%}; right street and within 30 m of the official point "
        f"{w30 / max(1, n):.2%} ({w30}), within 60 m {w60 / max(1, n):.2%} ({w60}); precisions {dict(by_prec)}"
    )
    for f in fails[:show]:
        print("   FAIL", *f)


def eval_addresses(gz: object, show: int) -> None:
    path = PACK / "addresses.csv"
    rows = list(csv.DictReader(path.open(newline="", encoding="utf-8-sig")))
    good = good_covered = n_covered = located_right_street = 0
    right_by_prec: Counter[str] = Counter()
    why: Counter[str] = Counter()
    fails = []
    t0 = time.perf_counter()
    for r in rows:
        num = int(r["street_number"])
        text = r["full_address"] or f"{num}{r['street_number_suffix']} {r['street_name']} {r['street_type']}"
        covered = False
        want = gz.lookup_name(f"{r['street_name']} {r['street_type']} {r['street_direction']}")  # type: ignore
        res = geocode_text(gz, text)  # type: ignore[arg-type]
        if not want:
            why["street not in centerlines"] += 1
            fails.append((text, "street not in centerlines"))
            continue
        for si in gz.streets[want[0]]:  # type: ignore[attr-defined]
            s = gz.segments[si]  # type: ignore[attr-defined]
            for a, b in ((s.l_from, s.l_to), (s.r_from, s.r_to)):
                covered = covered or (a is not None and b is not None and min(a, b) <= num <= max(a, b))
        n_covered += covered
        located_right_street += bool(res.found and res.street == want[0])
        right_by_prec[res.precision or "?"] += bool(res.found and res.street == want[0])
        if not res.found:
            why["not found: " + (res.reason or "")[:40] if covered else "not found: number in no range"] += 1
            fails.append((text, res.reason))
            continue
        if res.street != want[0]:
            why["wrong street"] += 1
            fails.append((text, f"got {res.street}"))
            continue
        seg = gz.segments[gz.seg_by_id[res.segment_id]] if res.segment_id else None  # type: ignore
        inside = seg is not None and any(
            a is not None and b is not None and min(a, b) <= num <= max(a, b)
            for a, b in ((seg.l_from, seg.l_to), (seg.r_from, seg.r_to))
        )
        if inside:
            good += 1
            good_covered += covered
        else:
            why[f"number outside matched segment range ({res.precision})"] += 1
            fails.append((text, f"{res.precision} {res.reason}"))
    dt = time.perf_counter() - t0
    n = len(rows)
    print(
        f"== Master address list: {n} rows: {good / n:.2%} ({good}) on the right street with the number inside "
        f"the matched segment's range  [{n / dt:,.0f} addresses/s]"
    )
    print(
        f"   the official ranges cover only {n_covered} ({n_covered / n:.2%}) of these numbers (ceiling); on those: "
        f"{good_covered / max(1, n_covered):.2%} ({good_covered})"
    )
    print(
        f"   located on the right street (incl. the nearest-range fallbacks, precision 'segment' within 20 "
        f"numbers, 'street' beyond): {located_right_street / n:.2%}  by precision {dict(right_by_prec)}"
    )
    if not any(r.get("lon") for r in rows[:100]):
        print(
            "   distance to the official point: not measurable, the pack's address list has no coordinates "
            "(run with --points FILE on the official ADDRESS_MasterAddressList.csv)"
        )
    for k, v in why.most_common(12):
        print(f"   {v:6d}  {k}")
    for f in fails[:show]:
        print("   FAIL", *f)


def eval_dev(gz: object, show: int) -> None:
    if not DEV.exists():
        print(f"== dev set: {DEV} missing")
        return
    items = [json.loads(line) for line in DEV.open(encoding="utf-8") if line.strip()]
    per: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    fails = []
    for it in items:
        geotag = tuple(it["geotag"]) if it.get("geotag") else None
        res = geocode_text(gz, it["text"], geotag=geotag)  # type: ignore[arg-type]
        if it.get("lat") is None:
            ok = not res.found
            detail = f"expected none, got {res.matched} ({res.precision})"
        else:
            ok = res.found and distance_m((res.lon, res.lat), (it["lon"], it["lat"])) <= it["tol_m"]  # type: ignore
            d = distance_m((res.lon, res.lat), (it["lon"], it["lat"])) if res.found else None  # type: ignore
            where = f"{d:.0f} m" if d is not None else "not found"
            detail = f"{where} (tol {it['tol_m']}) -> {res.matched}: {res.reason}"
        split = it.get("split", "dev")
        per[split][0] += ok
        per[split][1] += 1
        per_kind[it.get("kind", "?")][0] += ok
        per_kind[it.get("kind", "?")][1] += 1
        if not ok and split != "holdout":  # held-out failures are counted, never listed (no tuning to them)
            fails.append((split, it["id"], it["text"], detail))
    print(f"== Informal phrases ({DEV.relative_to(ROOT)}):")
    for split, (k, n) in sorted(per.items()):
        print(f"   {split:<8} {k / n:7.2%}  ({k}/{n}) within tolerance (negatives: correctly not found)")
    print("   by kind: " + ", ".join(f"{kind} {k}/{n}" for kind, (k, n) in sorted(per_kind.items())))
    for f in fails[:show]:
        print("   FAIL", *f)


def eval_realstyle(gz: object, show: int) -> None:
    """Real Boston 311 sentences carrying Cambridge places: share of pins within 100 m and 250 m."""
    print("== Real-style Cambridge reports (bench/data/realstyle_geocode_*.jsonl; only dev failures listed):")
    for split in ("dev", "test"):
        path = REALSTYLE / f"realstyle_geocode_{split}.jsonl"
        if not path.exists():
            print(f"   {path.name} missing: run bench/make_realstyle_geocode.py")
            continue
        items = [json.loads(line) for line in path.open(encoding="utf-8") if line.strip()]
        per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        fails = []
        for it in items:
            res = geocode_text(gz, it["text"])  # type: ignore[arg-type]
            d = distance_m((res.lon, res.lat), (it["lon"], it["lat"])) if res.found else None  # type: ignore
            row = per_kind[it["kind"]]
            row[0] += 1
            row[1] += d is not None
            row[2] += d is not None and d <= 100
            row[3] += d is not None and d <= 250
            if split == "dev" and (d is None or d > 250):
                where = "not found" if d is None else f"{d:.0f} m"
                fails.append(
                    (it["id"], it["kind"], where, f"-> {res.matched} ({res.reason})", it["text"][:160])
                )
        tot = [sum(r[i] for r in per_kind.values()) for i in range(4)]
        print(
            f"   {split:<5} n={tot[0]}  found {tot[1] / tot[0]:6.1%}  within 100 m {tot[2] / tot[0]:6.1%}  "
            f"within 250 m {tot[3] / tot[0]:6.1%}"
        )
        for kind, r in sorted(per_kind.items()):
            print(f"         {kind:<20} n={r[0]:4d}  100 m {r[2] / r[0]:6.1%}  250 m {r[3] / r[0]:6.1%}")
        for f in fails[:show]:
            print("   FAIL", *f)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", choices=["intersections", "addresses", "dev", "realstyle"], default=None)
    ap.add_argument("--show", type=int, default=25, help="failures to print per part")
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument(
        "--points", type=Path, default=None, help="official address points CSV (StNm, StName, lon, lat)"
    )
    ap.add_argument("--style", choices=list(styles("A & B")), default=None, help="list one style's failures")
    args = ap.parse_args()
    t0 = time.perf_counter()
    gz = load_gazetteer(PACK, args.cache)
    print(
        f"gazetteer: {len(gz.segments)} segments, {len(gz.streets)} streets, {len(gz.junctions)} street pairs "
        f"meeting, {len(gz.places)} places; loaded in {time.perf_counter() - t0:.2f}s"
    )
    if args.only in (None, "intersections"):
        eval_intersections(gz, args.show, args.style)
    if args.only in (None, "addresses"):
        eval_addresses(gz, args.show)
    if args.only in (None, "dev"):
        eval_dev(gz, args.show)
    if args.only in (None, "realstyle"):
        eval_realstyle(gz, args.show)
    if args.points is not None:
        eval_points(gz, args.points, args.show)


if __name__ == "__main__":
    main()
