"""Fit the risk model (anger, abuse, danger heads) from its training files: build time only, uses sklearn.

`make risk-model` runs this with --build. Training data (triage/data/README.md says where each came from):
risk_posts.tsv (written for civictracker, en/es/pt/ht), risk_boston.jsonl (hand-labelled real Boston 311
text, the training share of bench/data/risk/boston_labels.tsv) and risk_drm.jsonl (Disaster Response
Messages validation rows: danger from their own search-and-rescue/death/medical labels). Never CrisisLex.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from civictracker.triage.fit import _saved_part
from civictracker.triage.risk_model import HEADS, RISK_MODEL_PATH, risk_training_inputs
from civictracker.triage.store import DATA_DIR, Head, StoredModel, save_model
from civictracker.triage.tone import risk_text

LEVELS = ("none", "angry", "abusive", "high_risk")
# DRM rows are many and carry no anger: they count less so the written and Boston rows shape the anger heads.
DRM_WEIGHT = 0.5
# Inverse regularisation of the logistic heads (5-fold CV + dev split of eval_risk.py; LABELLING.md).
C_REG = 2.0


def training_rows() -> list[dict[str, Any]]:
    """Every training row: text, label (one of LEVELS), source."""
    rows: list[dict[str, Any]] = []
    for line in (DATA_DIR / "risk_posts.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, _lang, text = line.split("\t", 2)
            rows.append({"text": text, "label": label, "source": "written"})
    for name, source in (("risk_boston.jsonl", "boston"), ("risk_drm.jsonl", "drm")):
        for line in (DATA_DIR / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                rows.append({"text": row["text"], "label": row["label"], "source": source})
                if row.get("original"):  # the message as sent (Haitian Creole, French), same label
                    rows.append({"text": row["original"], "label": row["label"], "source": source})
    assert all(r["label"] in LEVELS for r in rows)
    return rows


def fit_risk_model(rows: list[dict[str, Any]]) -> StoredModel:
    """Word 1-2 grams + char_wb 3-5 grams TF-IDF, one balanced logistic regression per head."""
    union = FeatureUnion(
        [
            (
                "word",
                TfidfVectorizer(
                    ngram_range=(1, 2),
                    sublinear_tf=True,
                    token_pattern=r"(?u)\b\w[\w']*\b",  # noqa: S106 (a regex, not a password)
                ),
            ),
            ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2, sublinear_tf=True)),
        ]
    )
    x = union.fit_transform([risk_text(r["text"]) for r in rows]).tocsr()
    weight = np.array([DRM_WEIGHT if r["source"] == "drm" else 1.0 for r in rows])
    targets = {
        "anger": [r["label"] in ("angry", "abusive") for r in rows],
        "abuse": [r["label"] == "abusive" for r in rows],
        "danger": [r["label"] == "high_risk" for r in rows],
    }
    coefs, bias, heads = [], [], []
    for column, name in enumerate(HEADS):
        clf = LogisticRegression(C=C_REG, solver="liblinear", class_weight="balanced", max_iter=2000)
        clf.fit(x, targets[name], sample_weight=weight)
        coefs.append(clf.coef_[0])
        bias.append(clf.intercept_[0])
        heads.append(Head(name, column, [False, True]))
    parts = [_saved_part(name, vec) for name, vec in union.transformer_list]
    weights = np.vstack(coefs).T.astype(np.float32)
    return StoredModel(parts, heads, weights, np.array(bias, dtype=np.float64), header={})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", action="store_true", help="fit and write triage/data/risk_model.npz")
    args = parser.parse_args()
    rows = training_rows()
    model = fit_risk_model(rows)
    if args.build:
        save_model(model, RISK_MODEL_PATH, n_examples=len(rows), files=risk_training_inputs())
        print(f"wrote {RISK_MODEL_PATH} from {len(rows)} rows")
    else:
        print(f"fitted on {len(rows)} rows (nothing written; --build writes the file)")


if __name__ == "__main__":
    main()
