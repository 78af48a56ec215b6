"""Danger-head variants judged across the development batches (6, 8 and 9) and the ordinary streams.

Usage: PYTHONPATH=. .venv/bin/python scripts/cross_risk.py [--variant b7 ord ordlo] [--gate] [--grid]
    [--pair C H] [--c C]

Each variant fits the danger head only (risk_fit's features and logistic regression; anger and abuse do not
change the high-risk flag) from the shipped training files plus optional extras, then scores: batch 6
(`--split fresh`), batch 8 (`--split fresh2`), batch 9 (`--split fresh3`), the old dev split, the real Boston
311 triage test stream and the storm-day replay (what bench/eval_risk_stream.py reads, with triage's hazards
and kind as intake passes them). A post is high risk when a hard rule fires or the danger probability reaches
the threshold, as in risk.py. The threshold is chosen on two batches (recall >= --target on each, fewest
flags) and checked on the third, in all three directions; with --gate a pair of thresholds (posts naming a
danger category of risk_cues.py / the others). Variants: b7 adds batch 7, ord / ordlo risk14's ordinary posts
(danger head only, weight 1 and 3 / 0.3), drmfire the DRM rows labelled fire or missing people as high risk.
Never reads the old test split.
"""

from __future__ import annotations

import argparse
import json
import pickle
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.eval_real import read_jsonl  # noqa: E402
from bench.eval_risk import load  # noqa: E402
from civictracker.triage import classify, risk_fit  # noqa: E402
from civictracker.triage.risk import RiskInput  # noqa: E402
from civictracker.triage.risk_cues import danger_category  # noqa: E402
from civictracker.triage.risk_rules import hard_reasons, high_risk_reasons, soft_markers  # noqa: E402
from civictracker.triage.text import model_text  # noqa: E402
from civictracker.triage.tone import marked_text, tone_markers  # noqa: E402

TARGET = 0.97
THRESHOLDS = [round(t, 2) for t in np.arange(0.02, 0.61, 0.01)]
CACHE = Path(tempfile.gettempdir()) / "cross_risk_streams.pkl"
# Branch risk14-model's batch-7 rows and ordinary posts, read from its commit (never shipped on main).
RISK14 = "db7a125"


def _risk14_lines(name: str) -> list[str]:
    out = subprocess.run(
        ["git", "show", f"{RISK14}:civictracker/triage/data/{name}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.splitlines()


def stream_inputs() -> dict[str, list[tuple[RiskInput, bool]]]:
    """What triage passes to the risk signal for each stream post (cached: the triage model is fixed)."""
    if CACHE.is_file():
        return pickle.loads(CACHE.read_bytes())  # our own cache of this script's earlier run
    seen: list[RiskInput] = []
    original = classify.risk_level

    def spy(text: str, mtext: str, **kw: Any) -> Any:
        seen.append(RiskInput(text, mtext, kw["lang"], kw.get("hazards"), kw.get("kind")))
        return original(text, mtext, **kw)

    classify.risk_level = spy  # type: ignore[assignment]
    out: dict[str, list[tuple[RiskInput, bool]]] = defaultdict(list)
    for r in read_jsonl(ROOT / "bench/data/real_boston_test.jsonl"):
        if r.get("source") == "boston-hand":
            classify.triage_text(r["text"], channel_kind="mention")
            out[f"boston:{r['folder']}"].append((seen[-1], bool(r.get("urgent"))))
    for r in read_jsonl(ROOT / "bench/data/storm_day.jsonl"):
        classify.triage_text(r["text"], channel_kind="dm" if r.get("kind") == "dm" else "mention")
        out[f"storm:{r['expect']}"].append((seen[-1], False))
    classify.risk_level = original  # type: ignore[assignment]
    CACHE.write_bytes(pickle.dumps(dict(out)))
    return dict(out)


def eval_inputs() -> dict[str, list[tuple[RiskInput, bool]]]:
    sets: dict[str, list[tuple[RiskInput, bool]]] = {}
    for split, name in (("fresh", "b6"), ("fresh2", "b8"), ("fresh3", "b9"), ("dev", "dev")):
        for source, pairs in load(split).items():
            sets[f"{name}:{source}"] = [
                (RiskInput(t, model_text(t), "en"), gold == "high_risk") for t, gold in pairs
            ]
    return sets


def prepared(inputs: list[tuple[RiskInput, bool]]) -> tuple[list[str], np.ndarray, ...]:
    """Marked texts, hard-rule, spam, gold and danger-category flags of each post (as risk.py reads them)."""
    texts, hard, spam, gold, cued = [], [], [], [], []
    for p, g in inputs:
        cued.append(danger_category(p.mtext) is not None)
        rules = high_risk_reasons(p.mtext, p.hazards)
        texts.append(marked_text(p.mtext, tone_markers(p.text, p.mtext) + soft_markers(rules)))
        hard.append(bool(hard_reasons(rules)))
        spam.append(p.kind == "spam")
        gold.append(g)
    return texts, np.array(hard), np.array(spam), np.array(gold), np.array(cued)


def extra_rows(variant: set[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    if "b7" in variant:  # batch 7: the rows risk14 appended to risk_boston.jsonl
        for line in _risk14_lines("risk_boston.jsonl")[695:]:
            r = json.loads(line)
            rows.append({"text": r["text"], "label": r["label"], "source": "boston"})
    if "ord" in variant or "ordlo" in variant:
        w = {"boston-ordinary": 1.0, "social-ordinary": 3.0} if "ord" in variant else {}
        for line in _risk14_lines("risk_ordinary.jsonl"):
            r = json.loads(line)
            rows.append(
                {"text": r["text"], "label": "none", "source": r["source"], "w": w.get(r["source"], 0.3)}
            )
    return rows


def drm_relabelled(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> list[dict[str, Any]]:
    """The rows, DRM ones (and originals) that their validation labels give one of `columns` as high risk."""
    import csv

    from bench.shared_data import SHARED_DATA

    path = SHARED_DATA / "disaster_response_messages" / "disaster_response_validation.csv"
    with open(path, encoding="utf-8") as fh:
        hit = {
            t
            for r in csv.DictReader(fh)
            if any(r[c] == "1" for c in columns)
            for t in (r["message"], r["original"])
        }
    return [{**r, "label": "high_risk"} if r["source"] == "drm" and r["text"] in hit else r for r in rows]


def fit_danger(rows: list[dict[str, Any]], c: float) -> Any:
    """The union and danger head (coef, bias) fitted as risk_fit does; ordinary rows do not shape features."""
    from civictracker.triage.tone import risk_text

    texts = [risk_text(r["text"]) for r in rows]
    union = _union()
    union.fit([t for t, r in zip(texts, rows, strict=True) if "w" not in r])
    x = union.transform(texts).tocsr()
    weight = np.array([r.get("w", risk_fit.DRM_WEIGHT if r["source"] == "drm" else 1.0) for r in rows])
    y = np.array([r["label"] == "high_risk" for r in rows])
    clf = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=2000)
    clf.fit(x, y, sample_weight=weight)
    return union, clf.coef_[0], float(clf.intercept_[0])


def _union() -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    return FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, token_pattern=r"(?u)\b\w[\w']*\b"),
            ),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True)),
        ]
    )


def recall_prec(hard, p, spam, gold, cued, t: float, hi: float | None = None) -> tuple:  # type: ignore[no-untyped-def]
    """Recall, precision and share flagged: hard rule, or p >= t with a danger cue (any post if hi is None)
    or p >= hi without one."""
    ok = p >= t if hi is None else np.where(cued, p >= t, p >= hi)
    flag = hard | (ok & ~spam)
    tp, fp, fn = (flag & gold).sum(), (flag & ~gold).sum(), (~flag & gold).sum()
    return tp / max(tp + fn, 1), tp / max(tp + fp, 1), flag.mean()


def ablate(sets: dict[str, list[tuple[RiskInput, bool]]], scored: dict[str, tuple]) -> None:
    """Batches 6, 8 and 9 and the Boston Other stream at risk.py's pair with each danger category left out."""
    from civictracker.triage import risk, risk_cues

    every = risk_cues._patterns()
    pair = (risk.DANGER_THRESHOLD_CUED, risk.DANGER_THRESHOLD)
    for left_out in [None, *(c for c, _p in every)]:
        keep = [(c, p) for c, p in every if c != left_out]
        cells = []
        for key in ("b6", "b8", "b9", "boston:other"):
            names = [k for k in scored if k.startswith(key + ":") or k == key]
            parts = []
            for k in names:
                text = [risk_cues.HARMLESS.sub(" ", p.mtext) for p, _g in sets[k]]
                cued = np.array([any(pat.search(t) for _c, pat in keep) for t in text])
                parts.append((*scored[k][:4], cued))
            pooled = [np.concatenate([p[i] for p in parts]) for i in range(5)]
            r, p, f = recall_prec(*pooled, *pair)
            cells.append(
                f"{key} {100 * f:.1f}% flagged" if key.startswith("boston") else f"{key} {p:.3f}/{r:.3f}"
            )
        print(f"without {left_out or '(none)':11s} " + "  ".join(cells))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--variant", nargs="*", default=[])
    parser.add_argument("--c", type=float, default=risk_fit.C_REG)
    parser.add_argument("--thresholds", action="store_true", help="print every threshold's row")
    parser.add_argument("--grid", action="store_true", help="print a grid of threshold pairs")
    parser.add_argument("--ablate", action="store_true", help="each danger category left out, shipped pair")
    parser.add_argument("--gate", action="store_true", help="two thresholds: cued posts / the others")
    parser.add_argument("--pair", type=float, nargs=2, help="also print this pair's row (cued, other)")
    parser.add_argument("--target", type=float, default=TARGET, help="recall the choosing batches must reach")
    args = parser.parse_args()
    variant = set(args.variant)
    rows = risk_fit.training_rows() + extra_rows(variant)
    if "drmfire" in variant:  # DRM rows its own labels call fire or missing people: high risk too
        rows = drm_relabelled(rows, ("fire", "missing_people"))
    union, coef, bias = fit_danger(rows, args.c)
    sets = {**eval_inputs(), **stream_inputs()}
    scored = {}
    for name, inputs in sets.items():
        texts, hard, spam, gold, cued = prepared(inputs)
        raw = sparse.csr_matrix(union.transform(texts)) @ coef + bias
        scored[name] = (hard, 1 / (1 + np.exp(-np.asarray(raw).ravel())), spam, gold, cued)

    def pooled(prefix: str) -> tuple:
        parts = [v for k, v in scored.items() if k.startswith(prefix)]
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(5))

    batches = ("b6", "b8", "b9")
    pools = {k: pooled(k + ":") for k in (*batches, "dev")}
    pools["all"] = tuple(np.concatenate([pools[b][i] for b in batches]) for i in range(5))  # pooled
    pools.update({f"{b}:{s}": scored[f"{b}:{s}"] for b in batches for s in ("crisislex", "boston")})
    for k in (*batches, "boston:other", "storm:chatter", "storm:complaint"):
        v = pools.get(k) or scored[k]
        gold_cued = v[4][v[3]].mean() if v[3].any() else 0.0
        print(f"share naming a danger category, {k}: all {v[4].mean():.2f}, gold high risk {gold_cued:.3f}")

    def row(t: float, hi: float | None = None) -> str:
        cells = [
            f"{k} {r:.3f}/{p:.3f}"
            for k, (r, p, _f) in ((k, recall_prec(*v, t, hi)) for k, v in pools.items())
        ]
        other = recall_prec(*scored["boston:other"], t, hi)[2]
        unsafe = recall_prec(*scored["boston:dangerous"], t, hi)[2]
        storm = {
            k.split(":")[1]: recall_prec(*v, t, hi)[2] for k, v in scored.items() if k.startswith("storm:")
        }
        st = " ".join(f"{k[:5]} {100 * v:.0f}" for k, v in sorted(storm.items()))
        head = f"t={t:.2f}" + (f"/{hi:.2f}" if hi is not None else "")
        return (
            head
            + "  "
            + "  ".join(cells)
            + f"  | Other {100 * other:.1f}% UD {100 * unsafe:.1f}% | storm {st}"
        )

    print(f"variant {sorted(variant)} C {args.c}: {len(rows)} rows")
    if args.thresholds:
        for t in THRESHOLDS:
            print(row(t))
    if args.grid:
        for t in THRESHOLDS[8:21]:  # 0.10 .. 0.22
            for h in THRESHOLDS[33:59]:  # 0.35 .. 0.60
                print(row(t, h))
    if args.ablate:
        ablate(sets, scored)
    pairs = [(t, None) for t in THRESHOLDS]
    if args.gate:
        pairs = [(t, h) for t in THRESHOLDS for h in THRESHOLDS if h >= t]
    if args.pair:
        print("pair given: " + row(*args.pair))
    for check in batches:
        pick = [b for b in batches if b != check]
        both = tuple(np.concatenate([pools[pick[0]][i], pools[pick[1]][i]]) for i in range(5))
        ok = [
            (recall_prec(*both, t, h)[2], -t, t, h)
            for t, h in pairs
            if all(recall_prec(*pools[b], t, h)[0] >= args.target for b in pick)
        ]
        _f, _n, t, h = min(ok) if ok else (0, 0, THRESHOLDS[0], None)
        print(
            f"choose on {'+'.join(pick)} (recall >= {args.target} each, fewest flags) -> {t}/{h}, "
            + f"check on {check}: "
            + row(t, h)
        )


if __name__ == "__main__":
    main()
