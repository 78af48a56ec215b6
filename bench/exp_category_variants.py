"""Service-head variants for bench/exp_category.py (each refits only the service head of a fold)."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from pathlib import Path

import numpy as np
from exp_category import SUBCLASS_SEP, Fold, svm, variant

ROOT = Path(__file__).resolve().parents[1]


def split_other(fold: Fold, k: int, dims: int = 100, seed: int = 0) -> np.ndarray:
    """Service labels with the training `other` rows split into k clusters (k-means over their LSA)."""
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    y = fold.y.astype(object).copy()
    rows = np.flatnonzero(y == "other")
    x = fold.x[fold.req_idx][rows]
    z = normalize(TruncatedSVD(dims, random_state=seed).fit_transform(x))
    labels = KMeans(k, n_init=4, random_state=seed).fit_predict(z)
    y[rows] = [f"other{SUBCLASS_SEP}{c}" for c in labels]
    return y


def svm_kept_balance(fold: Fold, y: np.ndarray, c: float = 1.0) -> tuple:
    """svm() on sub-classes, each row weighted as "balanced" weighs its service (so other's total holds)."""
    from sklearn.svm import LinearSVC
    from sklearn.utils.class_weight import compute_sample_weight

    sw = fold.weight[fold.req_idx] * compute_sample_weight("balanced", fold.y)
    clf = LinearSVC(C=c, random_state=0, max_iter=5000).fit(fold.x[fold.req_idx], y, sample_weight=sw)
    return clf.coef_, clf.intercept_, [str(c) for c in clf.classes_]


for _k in (2, 4, 8, 16, 32):
    variant(f"split{_k}")(lambda fold, k=_k: svm(fold, split_other(fold, k)))
    variant(f"splitkb{_k}")(lambda fold, k=_k: svm_kept_balance(fold, split_other(fold, k)))


@lru_cache(maxsize=1)
def pool_texts() -> tuple[str, ...]:
    """Unlabelled Boston "Other" descriptions: no label, id outside the test split, text in no split."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    from build_real_data import deform, in_test

    labelled = set()
    for path in (ROOT / "bench" / "data" / "boston_labels").glob("labels_*.tsv"):
        labelled |= {line.split("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines() if line}
    known = set()
    for path in (
        ROOT / "bench" / "data" / "real_boston_test.jsonl",
        ROOT / "civictracker" / "triage" / "data" / "real_boston.jsonl",
    ):
        known |= {json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line}
    out = []
    with gzip.open(ROOT.parent / "shared" / "data" / "boston_open311_text" / "other.jsonl.gz", "rt") as fh:
        for line in fh:
            case = json.loads(line)
            cid = str(case["id"])
            if cid in labelled or f"bos-{cid}" in labelled or in_test(cid):
                continue
            text = deform(case["description"])
            if text in known:
                continue
            known.add(text)
            out.append(text)
    return tuple(out)


def lsa_variant(fold: Fold, dims: int, alpha: float, pool: bool, y: np.ndarray | None = None) -> tuple:
    """Sparse features plus alpha * an LSA projection (linear, so folded back into sparse weights)."""
    import scipy.sparse as sp
    from sklearn.decomposition import TruncatedSVD

    basis = fold.x
    if pool:
        from civictracker.triage.text import model_text

        basis = sp.vstack([fold.x, fold.union.transform([model_text(t) for t in pool_texts()])]).tocsr()
    svd = TruncatedSVD(dims, random_state=0, algorithm="randomized", n_iter=5).fit(basis)
    xr = fold.x[fold.req_idx]
    dense = alpha * svd.transform(xr)
    coef, intercept, classes = svm(
        fold, fold.y if y is None else y, x=sp.hstack([xr, sp.csr_matrix(dense)]).tocsr()
    )
    n = xr.shape[1]
    folded = coef[:, :n] + alpha * coef[:, n:] @ svd.components_
    return folded, intercept, classes


for _d in (100, 300):
    for _a in (0.5, 1.0, 2.0):
        variant(f"lsa{_d}a{_a}")(lambda fold, d=_d, a=_a: lsa_variant(fold, d, a, False))
        variant(f"lsapool{_d}a{_a}")(lambda fold, d=_d, a=_a: lsa_variant(fold, d, a, True))


def keyword_bonus(texts: list[str], codes: list[str]) -> np.ndarray:
    """classify._choose_service's keyword bonus of each text for each service."""
    from civictracker.triage import classify as triage
    from civictracker.triage.rules import keyword_hits
    from civictracker.triage.text import model_text

    catalog = triage._default_catalog()
    out = np.zeros((len(texts), len(codes)))
    for i, t in enumerate(texts):
        for code, kws in keyword_hits(model_text(t), catalog).items():
            if code in codes:
                out[i, codes.index(code)] = triage.KEYWORD_WEIGHT * (1 + 0.3 * (min(3, len(kws)) - 1))
    return out


def oof_probs(fold: Fold, fitter, y: np.ndarray, inner_k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold service probabilities (over the catalog codes) of the fold's hand-labelled Boston rows."""

    from civictracker.triage import classify as triage

    codes = [code for code, _ in triage._default_catalog()]
    hand = np.flatnonzero(fold.sources == "boston-hand")
    part = np.arange(len(hand)) % inner_k
    probs = np.zeros((len(hand), len(codes)))
    xr = fold.x[fold.req_idx]
    for f in range(inner_k):
        test = hand[part == f]
        train = np.setdiff1d(np.arange(len(fold.y)), test)
        coef, intercept, classes = fitter(fold, y, train)
        raw = xr[test] @ coef.T + intercept
        p = triage._softmax_rows(triage.SVM_TEMPERATURE * raw)
        for j, c in enumerate(classes):
            probs[part == f, codes.index(c.split(SUBCLASS_SEP, 1)[0])] += p[:, j]
    return probs, hand


def tune_offsets(
    probs: np.ndarray,
    bonus: np.ndarray,
    truth: np.ndarray,
    other_bias: float,
    codes: list[str],
    grid: tuple[float, ...] = tuple(np.arange(-6, 7) * 0.05),
    passes: int = 2,
) -> np.ndarray:
    """Per-service additive offsets maximising accuracy (coordinate ascent over a grid)."""
    scores = probs + bonus
    scores[:, codes.index("other")] += other_bias
    truth_idx = np.array([codes.index(t) for t in truth])
    off = np.zeros(len(codes))
    for _ in range(passes):
        for j in range(len(codes)):
            best, best_acc = off[j], -1.0
            for g in grid:
                off[j] = g
                acc = np.mean((scores + off).argmax(axis=1) == truth_idx)
                if acc > best_acc + 1e-9:
                    best, best_acc = g, acc
            off[j] = best
    return off


def svm_on(fold: Fold, y: np.ndarray, train: np.ndarray, c: float = 1.0) -> tuple:
    from sklearn.svm import LinearSVC

    clf = LinearSVC(C=c, class_weight="balanced", random_state=0, max_iter=5000)
    clf.fit(fold.x[fold.req_idx][train], y[train], sample_weight=fold.weight[fold.req_idx][train])
    return clf.coef_, clf.intercept_, [str(c) for c in clf.classes_]


def with_offsets(fold: Fold, y: np.ndarray, fitter=svm_on, other_bias: float = 0.1) -> tuple:
    """The head fitted on all the fold's rows, plus offsets tuned on inner out-of-fold predictions."""
    from civictracker.triage import classify as triage

    codes = [code for code, _ in triage._default_catalog()]
    probs, hand = oof_probs(fold, fitter, y)
    bonus = keyword_bonus([fold.texts[i] for i in hand], codes)
    off = tune_offsets(probs, bonus, fold.y[hand], other_bias, codes)
    print("  offsets", dict(zip(codes, off.round(2).tolist(), strict=True)), file=__import__("sys").stderr)
    coef, intercept, classes = fitter(fold, y, np.arange(len(y)))
    return coef, intercept, classes, lambda _fold, _rows: off


variant("offsets")(lambda fold: with_offsets(fold, fold.y))


def scaled_blocks(fold: Fold, word_scale: float, y: np.ndarray | None = None, **kw) -> tuple:
    """Fit on the word part's columns times word_scale; the scale is folded back into the weights
    (a linear head on scaled columns is a linear head on the original ones with other regularisation)."""
    import scipy.sparse as sp

    n_word = len(fold.parts[0].terms)
    scale = np.ones(fold.x.shape[1])
    scale[:n_word] = word_scale
    xr = fold.x[fold.req_idx] @ sp.diags(scale)
    coef, intercept, classes = svm(fold, fold.y if y is None else y, x=xr.tocsr(), **kw)
    return coef * scale, intercept, classes


for _s in (0.5, 0.75, 1.5, 2.0):
    variant(f"word{_s}")(lambda fold, s=_s: scaled_blocks(fold, s))
for _c in (0.3, 0.5, 2.0, 4.0):
    variant(f"C{_c}")(lambda fold, c=_c: svm(fold, fold.y, c=c))
variant("nobal")(lambda fold: svm(fold, fold.y, class_weight=None))


def reweighted(fold: Fold, by_source: dict[str, float], **kw) -> tuple:
    """svm() with each training row's weight times its source's factor (templates, folders, hand rows)."""
    from sklearn.svm import LinearSVC

    sw = fold.weight[fold.req_idx] * np.array([by_source.get(s, 1.0) for s in fold.sources])
    opts = {"C": 1.0, "class_weight": "balanced", "random_state": 0, "max_iter": 5000, **kw}
    clf = LinearSVC(**opts).fit(fold.x[fold.req_idx], fold.y, sample_weight=sw)
    return clf.coef_, clf.intercept_, [str(c) for c in clf.classes_]


for _w in (0.3, 0.6, 1.5):
    variant(f"tmpl{_w}")(lambda fold, w=_w: reweighted(fold, {"template": w, "handwritten": w, "social": w}))
for _w in (0.0, 0.5):  # relative to the 0.3 the folders already have
    variant(f"folder{_w}")(lambda fold, w=_w: reweighted(fold, {"boston-folder": w}))


_LAST: dict = {}


def _last(key: tuple, compute) -> np.ndarray:
    """compute(), kept for the last key only: a variant's mixes (and biases) read the same fold's rows."""
    if key not in _LAST:
        _LAST.clear()
        _LAST[key] = compute()
    return _LAST[key]


def knn_probs(fold: Fold, rows, k: int, codes: list[str]) -> np.ndarray:
    """Similarity-weighted vote of the k most similar training requests (cosine over the TF-IDF union)."""
    return _last(("knn", id(rows), k), lambda: _knn_probs(fold, rows, k, codes))


def _knn_probs(fold: Fold, rows, k: int, codes: list[str]) -> np.ndarray:
    xr = fold.x[fold.req_idx]
    hand = fold.sources != "template"
    sim = (rows.x @ xr.T).toarray().astype(np.float32) / 2.0  # two unit-length parts: cosine in [0, 1]
    sim[:, ~hand] = -1.0  # vote with real rows only
    top = np.argpartition(-sim, k, axis=1)[:, :k]
    out = np.zeros((sim.shape[0], len(codes)))
    ycode = np.array([codes.index(c) for c in fold.y])
    for i in range(sim.shape[0]):
        w = sim[i, top[i]] * fold.weight[fold.req_idx][top[i]]
        np.add.at(out[i], ycode[top[i]], w)
    out /= np.maximum(out.sum(axis=1, keepdims=True), 1e-9)
    return out


def knn_mix(fold: Fold, k: int, mix: float) -> tuple:
    from civictracker.triage import classify as triage

    codes = [code for code, _ in triage._default_catalog()]
    return (*svm(fold, fold.y), None, (mix, lambda rows: knn_probs(fold, rows, k, codes)))


for _k in (10, 30):
    for _m in (0.3, 0.5):
        variant(f"knn{_k}m{_m}")(lambda fold, k=_k, m=_m: knn_mix(fold, k, m))


def mlp_probs(fold: Fold, rows, hidden: int, n_feat: int, codes: list[str]) -> np.ndarray:
    """P(service) of the held-out rows by a one-hidden-layer network over the fold's chi2-best columns."""
    return _last(("mlp", id(rows), hidden, n_feat), lambda: _mlp_probs(fold, rows, hidden, n_feat, codes))


def _mlp_probs(fold: Fold, rows, hidden: int, n_feat: int, codes: list[str]) -> np.ndarray:
    from sklearn.feature_selection import SelectKBest, chi2
    from sklearn.neural_network import MLPClassifier
    from sklearn.utils.class_weight import compute_sample_weight

    xr = fold.x[fold.req_idx]
    sel = SelectKBest(chi2, k=min(n_feat, xr.shape[1])).fit(xr, fold.y)
    sw = fold.weight[fold.req_idx] * compute_sample_weight("balanced", fold.y)
    net = MLPClassifier(
        (hidden,), alpha=1e-4, batch_size=128, learning_rate_init=2e-3, max_iter=12, random_state=0
    )
    net.fit(sel.transform(xr), fold.y, sample_weight=sw / sw.mean())
    p = net.predict_proba(sel.transform(rows.x))
    out = np.zeros((p.shape[0], len(codes)))
    for j, c in enumerate(net.classes_):
        out[:, codes.index(str(c))] = p[:, j]
    return out


def mlp_mix(fold: Fold, hidden: int, n_feat: int, mix: float) -> tuple:
    from civictracker.triage import classify as triage

    codes = [code for code, _ in triage._default_catalog()]
    return (*svm(fold, fold.y), None, (mix, lambda rows: mlp_probs(fold, rows, hidden, n_feat, codes)))


for _h in (128, 512):
    for _n in (30000, 100000):
        for _m in (0.5, 1.0):
            variant(f"mlp{_h}f{_n}m{_m}")(lambda fold, h=_h, n=_n, m=_m: mlp_mix(fold, h, n, m))
