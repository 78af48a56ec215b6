"""Fit the risk model (anger, abuse, danger heads) from its training files: build time only, uses sklearn.

`make risk-model` runs this with --build. Training data (triage/data/README.md says where each came from):
risk_posts.tsv (written for civictracker, en/es/pt/ht), risk_boston.jsonl (hand-labelled real Boston 311
text: the training share of bench/data/risk/boston_labels.tsv and batch 7), risk_drm.jsonl (Disaster
Response Messages validation rows: danger from their own search-and-rescue/death/medical labels) and, for the
danger head only, risk_ordinary.jsonl (ordinary posts: scripts/build_risk_ordinary.py). The danger head may
not read function words (data/function_words.txt), which otherwise carried danger weight only because the
crisis posts are written in the first person and the 311 ones are not. Never CrisisLex.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

from civictracker.triage.fit import _saved_part
from civictracker.triage.risk_model import HEADS, RISK_MODEL_PATH, risk_training_inputs
from civictracker.triage.store import DATA_DIR, Head, StoredModel, save_model
from civictracker.triage.tone import KINDS, risk_text

LEVELS = ("none", "angry", "abusive", "high_risk")
# DRM rows are many and carry no anger: they count less so the written and Boston rows shape the anger heads.
DRM_WEIGHT = 0.5
# Inverse regularisation of the logistic heads (5-fold CV + dev split of eval_risk.py; LABELLING.md).
C_REG = 2.0
# Ordinary posts (risk_ordinary.jsonl) train the danger head only, each counting this much per source: the
# pair of (0.1, 0.1), (0.3, 1), (1, 3), (1, 6), (3, 3) with the best out-of-fold recall at the threshold
# rule of scripts/tune_risk.py.
ORDINARY_WEIGHTS = {"boston-ordinary": 1.0, "social-ordinary": 3.0}


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
    for line in (DATA_DIR / "risk_ordinary.jsonl").read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        rows.append({"text": row["text"], "label": "none", "source": row["source"], "heads": ("danger",)})
    assert all(r["label"] in LEVELS for r in rows)
    return rows


def function_words() -> set[str]:
    """Function words the danger head must not read as danger (data/function_words.txt, every language)."""
    lines = (DATA_DIR / "function_words.txt").read_text(encoding="utf-8").splitlines()
    return {w for line in lines if not line.startswith("#") for w in line.split()}


def row_weights(rows: list[dict[str, Any]]) -> np.ndarray:
    """Each row's weight beside the DRM one: ordinary rows count ORDINARY_WEIGHTS of their source."""
    return np.array([ORDINARY_WEIGHTS.get(r["source"], 1.0) for r in rows])


def feature_union() -> FeatureUnion:
    """Word 1-2 grams + char_wb 3-5 grams TF-IDF (unfitted)."""
    return FeatureUnion(
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


def featurize(rows: list[dict[str, Any]]) -> tuple[FeatureUnion, Any]:
    """The fitted feature union and every row's features. The vocabulary and idf come from the labelled
    rows only: the many ordinary rows would otherwise reshape the features the anger and abuse heads read."""
    texts = [risk_text(r["text"]) for r in rows]
    union = feature_union().fit([t for t, r in zip(texts, rows, strict=True) if "heads" not in r])
    return union, union.transform(texts).tocsr()


def fit_risk_model(rows: list[dict[str, Any]]) -> StoredModel:
    """Word 1-2 grams + char_wb 3-5 grams TF-IDF, one balanced logistic regression per head."""
    union, x = featurize(rows)
    coefs, bias = fit_heads(x, rows, danger_blind(union))
    heads = [Head(name, column, [False, True]) for column, name in enumerate(HEADS)]
    parts = [_saved_part(name, vec) for name, vec in union.transformer_list]
    weights = np.vstack(coefs).T.astype(np.float32)
    return StoredModel(parts, heads, weights, np.array(bias, dtype=np.float64), header={})


def head_targets(rows: list[dict[str, Any]]) -> dict[str, list[bool]]:
    """The yes/no target of each head for each row (a row outside a head's `heads` is not trained there)."""
    return {
        "anger": [r["label"] in ("angry", "abusive") for r in rows],
        "abuse": [r["label"] == "abusive" for r in rows],
        "danger": [r["label"] == "high_risk" for r in rows],
    }


# Tone markers (tone.py): the danger head may not read them. Swearing, shouting and anger say how a post
# sounds, not whether anyone is in danger ("damn a meteor hit", "holy shit" are none in README.md), yet the
# crisis posts swear more than the 311 ones, so the head had learned "zzprofanity" as danger.
TONE_MARKS = ("zzshout", "zzbang", "zzaimed", *(f"zz{kind}" for kind in KINDS))


def danger_blind(union: FeatureUnion) -> np.ndarray:
    """Columns the danger head may not read: word n-grams made only of function words ("we", "in the") or
    holding a tone marker, and the character n-grams found only inside tone markers."""
    words = union.transformer_list[0][1].get_feature_names_out()
    chars = union.transformer_list[1][1].get_feature_names_out()
    stop, tone = function_words(), set(TONE_MARKS)
    padded = [f" {mark} " for mark in TONE_MARKS]
    n_cols = sum(len(vec.vocabulary_) for _n, vec in union.transformer_list)
    blind = np.zeros(n_cols, dtype=bool)
    blind[: len(words)] = [
        all(tok in stop for tok in term.split()) or any(tok in tone for tok in term.split()) for term in words
    ]
    blind[len(words) : len(words) + len(chars)] = [
        "zz" in gram and any(gram in mark for mark in padded) for gram in chars
    ]
    return blind


def fit_heads(
    x: Any, rows: list[dict[str, Any]], blind: np.ndarray | None = None
) -> tuple[list[np.ndarray], list[float]]:
    """One balanced logistic regression per head over the feature rows `x` of `rows`: weights and biases.

    `blind` columns are zeroed for the danger head, so their weight there is exactly 0."""
    weight = np.array([DRM_WEIGHT if r["source"] == "drm" else 1.0 for r in rows]) * row_weights(rows)
    targets = head_targets(rows)
    coefs, bias = [], []
    for name in HEADS:
        keep = np.array([name in r.get("heads", HEADS) for r in rows])
        xs = x[keep]
        if name == "danger" and blind is not None and blind.any():
            xs = xs @ sparse.diags((~blind).astype(np.float64))
        clf = LogisticRegression(C=C_REG, solver="liblinear", class_weight="balanced", max_iter=2000)
        clf.fit(xs, np.array(targets[name])[keep], sample_weight=weight[keep])
        coefs.append(clf.coef_[0])
        bias.append(float(clf.intercept_[0]))
    return coefs, bias


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
