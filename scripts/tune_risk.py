"""Choose the risk model's danger threshold (and weights) out of fold: training rows and the dev split only.

Usage: PYTHONPATH=. .venv/bin/python scripts/tune_risk.py [--folds 5] [--c C]
       [--boston-ordinary W] [--social-ordinary W]

Fits risk_fit's model k times (stratified by source and label, seed 0) and reads each training row's
danger probability from the fit that did not see it; the dev split of bench/eval_risk.py is read by the
model fitted on every row. A post is high risk when a hard rule fires or the probability reaches the
threshold, as in risk.py. Prints, per threshold, high-risk recall per source, the share of ordinary rows
flagged, and the pooled precision. Never reads the test or fresh splits.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.eval_risk import load  # noqa: E402
from civictracker.triage import risk_fit  # noqa: E402
from civictracker.triage.risk_model import HEADS  # noqa: E402
from civictracker.triage.risk_rules import hard_reasons, high_risk_reasons  # noqa: E402
from civictracker.triage.text import model_text  # noqa: E402
from civictracker.triage.tone import risk_text  # noqa: E402

THRESHOLDS = [round(t, 2) for t in np.arange(0.10, 0.42, 0.02)]
# The rule risk.DANGER_THRESHOLD is chosen by: the lowest threshold (the most recall) at which no more of the
# ordinary rows is flagged than half of what the session-13 model flags on them (it never trained on them:
# 18.6% of the Boston ones, 26.9% of the social ones). A recall-only rule (pooled recall >= 0.98) chose 0.16
# and flagged 22% of ordinary Boston rows out of fold and 24% of the real Boston "Other" stream: no precision.
ORDINARY_CAPS = {"boston-ordinary": 0.093, "social-ordinary": 0.135}


def _hard(texts: list[str]) -> np.ndarray:
    return np.array([bool(hard_reasons(high_risk_reasons(model_text(t)))) for t in texts])


def _danger(train: list[dict[str, Any]], texts: list[str]) -> np.ndarray:
    union, x = risk_fit.featurize(train)
    coefs, bias = risk_fit.fit_heads(x, train, risk_fit.danger_blind(union))
    col = HEADS.index("danger")
    raw = union.transform([risk_text(t) for t in texts]) @ coefs[col] + bias[col]
    return 1.0 / (1.0 + np.exp(-np.asarray(raw).ravel()))


def out_of_fold(rows: list[dict[str, Any]], folds: int) -> np.ndarray:
    """Danger probability of each row from the fold fit that did not see it (stratified, seed 0)."""
    strata = [f"{r['source']}:{r['label']}" for r in rows]
    probs = np.zeros(len(rows))
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=0).split(rows, strata):
        train = [rows[i] for i in train_idx]
        probs[test_idx] = _danger(train, [rows[i]["text"] for i in test_idx])
    return probs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--boston-ordinary", type=float, default=risk_fit.ORDINARY_WEIGHTS["boston-ordinary"])
    parser.add_argument("--social-ordinary", type=float, default=risk_fit.ORDINARY_WEIGHTS["social-ordinary"])
    parser.add_argument("--c", type=float, default=risk_fit.C_REG)
    args = parser.parse_args()
    risk_fit.C_REG = args.c
    risk_fit.ORDINARY_WEIGHTS.update(
        {"boston-ordinary": args.boston_ordinary, "social-ordinary": args.social_ordinary}
    )
    rows = risk_fit.training_rows()
    rows = [r for r in rows if risk_fit.ORDINARY_WEIGHTS.get(r["source"], 1.0) > 0]
    # (source, gold high risk?, probability, hard rule?) of every training row and dev post
    scored: list[tuple[str, bool, float, bool]] = []
    texts = [r["text"] for r in rows]
    for r, p, h in zip(rows, out_of_fold(rows, args.folds), _hard(texts), strict=True):
        scored.append((r["source"], r["label"] == "high_risk", float(p), bool(h)))
    dev = [(f"dev-{name}", text, gold) for name, pairs in load("dev").items() for text, gold in pairs]
    dev_texts = [t for _s, t, _g in dev]
    for (src, _t, gold), p, h in zip(dev, _danger(rows, dev_texts), _hard(dev_texts), strict=True):
        scored.append((src, gold == "high_risk", float(p), bool(h)))
    sources = sorted({s for s, *_ in scored})
    print(f"ordinary weights {risk_fit.ORDINARY_WEIGHTS}, C {args.c}, {len(rows)} rows, {args.folds} folds")
    print("thr   " + "  ".join(f"{s[:14]:>14s}" for s in sources) + "   pooled R/P (written, boston, dev)")
    chosen = None
    for t in THRESHOLDS:
        cells, tp, fp, fn = [], 0, 0, 0
        within_caps = True
        by: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])  # tp fn fp tn
        for src, gold, p, h in scored:
            flag = h or p >= t
            by[src][(0 if flag else 1) if gold else (2 if flag else 3)] += 1
        for s in sources:
            a, b, c, d = by[s]
            cells.append((f"R{a / (a + b):.3f} " if a + b else "") + (f"F{c / (c + d):.3f}" if c + d else ""))
            if not s.endswith("-ordinary") and s != "drm":  # DRM's own labels are noisy: shown, not pooled
                tp, fn, fp = tp + a, fn + b, fp + c
            if s in ORDINARY_CAPS and c / (c + d) > ORDINARY_CAPS[s]:
                within_caps = False
        pooled = f"{tp / (tp + fn):.3f}/{tp / (tp + fp):.3f}"
        print(f"{t:.2f}  " + "  ".join(f"{c:>14s}" for c in cells) + f"   {pooled}")
        if within_caps and chosen is None:
            chosen = t
    rule = f"lowest with ordinary rows flagged <= {ORDINARY_CAPS}"
    print(f"danger threshold by the rule ({rule}): {chosen}")


if __name__ == "__main__":
    main()
