"""Experiments on the service head alone, k-fold over the real training split (the test split is never scored).

Usage:
  PYTHONPATH=. .venv/bin/python bench/exp_category.py VARIANT [VARIANT ...] [--bias B ...] [--temp T ...]
      [--kw K ...] [--dump PREFIX]      # variants: base, split8, offsets, lsapool300a1.0, knn10m0.3, ...
  PYTHONPATH=. .venv/bin/python bench/exp_category.py x --request-weights 1.0 2.5   # the request head instead

The folds are bench/eval_real.py --cv's (same hash, same held-out texts). Per fold the feature union and the
request, urgency and kind heads are fitted once, as fit.fit_stored_model() fits them; each VARIANT
(exp_category_variants.py) refits only the service head, and the service of each held-out row follows from its
scores by classify._choose_service's arithmetic (keywords, other bias, hazard services). Prints hand-labelled
category accuracy and the folders' rows. The pool variants read the test split's texts only to keep them out
of the unlabelled pool (LABELLING.md's rule); no label of it is read.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from eval_real import fold_of, read_jsonl  # noqa: E402

from civictracker.triage import classify as triage  # noqa: E402
from civictracker.triage import fit  # noqa: E402
from civictracker.triage.dataset import DATA_DIR, Example, training_examples  # noqa: E402
from civictracker.triage.reply_rules import EVIDENCE, REPLY_INTENTS  # noqa: E402
from civictracker.triage.rules import HAZARD_KINDS  # noqa: E402
from civictracker.triage.store import Head, StoredModel  # noqa: E402

# A service head may be fitted on sub-classes ("other/3"); they score as their service, probabilities summed.
SUBCLASS_SEP = "/"


class Fold:
    """One fold: its training examples, their feature matrix, the other heads, the held-out rows."""

    def __init__(self, kept: tuple[Example, ...], held: list[dict]) -> None:
        self.kept, self.held = kept, held
        self.union, self.x = fit.fitted_union([e.text for e in kept])
        self.parts = [fit._saved_part(name, vec) for name, vec in self.union.transformer_list]
        is_req = np.array([e.is_request for e in kept])
        self.req_idx = np.flatnonzero(is_req)
        non_idx = [i for i in np.flatnonzero(~is_req).tolist() if not kept[i].source.startswith("boston")]
        self.weight = np.array([fit.SOURCE_WEIGHT.get(e.source, 1.0) for e in kept])
        rw = np.array([fit.REQUEST_SOURCE_WEIGHT.get(e.source, 1.0) for e in kept])
        self.request = fit.build_classifier(fit.REQUEST_C).fit(self.x, is_req, sample_weight=rw)
        ri = self.req_idx
        self.urgent = fit.build_classifier(fit.URGENT_C).fit(
            self.x[ri], [kept[i].urgent for i in ri], sample_weight=self.weight[ri]
        )
        self.kind = fit.build_multiclass().fit(self.x[non_idx], [kept[i].kind for i in non_idx])
        self.y = np.array([kept[i].service_code for i in ri])
        self.sources = np.array([kept[i].source for i in ri])
        self.texts = [kept[i].text for i in ri]

    def model(self, coef: np.ndarray, intercept: np.ndarray, classes: list[str]) -> triage.TriageModel:
        fitted = [
            ("request", self.request.coef_, self.request.intercept_, [False, True]),
            ("urgent", self.urgent.coef_, self.urgent.intercept_, [False, True]),
            ("category", coef, intercept, classes),
            ("kind", self.kind.coef_, self.kind.intercept_, [str(c) for c in self.kind.classes_]),
        ]
        # The reply and hazard heads play no part in a post's request or service: zero weights stand in.
        n = self.request.coef_.shape[1]
        side = [("reply", list(REPLY_INTENTS)), ("hazard", ["none", *HAZARD_KINDS])]
        fitted += [(name, np.zeros((len(cls), n)), np.zeros(len(cls)), cls) for name, cls in side]
        combine = {"coef": np.zeros((len(REPLY_INTENTS), len(REPLY_INTENTS) * 2 + len(EVIDENCE))).tolist()}
        heads, column = [], 0
        for name, _, _, cls in fitted:
            classes = [c.item() if hasattr(c, "item") else c for c in cls]
            heads.append(
                Head(
                    name,
                    column,
                    classes,
                    combine | {"intercept": [0.0] * len(cls)} if name == "reply" else None,
                )
            )
            column += heads[-1].n_columns
        weights = np.vstack([c for _, c, _, _ in fitted]).T.astype(np.float32)
        bias = np.concatenate([b for _, _, b, _ in fitted]).astype(np.float64)
        return triage.TriageModel(StoredModel(self.parts, heads, weights, bias, header={}))


Variant = Callable[[Fold], tuple[np.ndarray, np.ndarray, list[str]]]
VARIANTS: dict[str, Variant] = {}


def variant(name: str) -> Callable[[Variant], Variant]:
    def register(f: Variant) -> Variant:
        VARIANTS[name] = f
        return f

    return register


def svm(fold: Fold, y: np.ndarray, c: float = fit.CATEGORY_C, x: Any = None, **kw: Any) -> tuple:
    from sklearn.svm import LinearSVC

    x = fold.x[fold.req_idx] if x is None else x
    opts = {"C": c, "class_weight": "balanced", "random_state": 0, "max_iter": 5000, **kw}
    clf = LinearSVC(**opts).fit(x, y, sample_weight=fold.weight[fold.req_idx])
    return clf.coef_, clf.intercept_, [str(c) for c in clf.classes_]


@variant("base")
def base(fold: Fold) -> tuple:
    return svm(fold, fold.y)


class Held:
    """A fold's held-out rows as the triage decision sees them, apart from the service head's scores.

    The request decision, the catalog keywords found and the hazard kinds do not depend on the service head,
    so they are read once (through triage_texts with the fold's base model); a variant's service then follows
    from its scores by the same arithmetic as classify._choose_service (check: the "base" variant gives the
    same services as triage_texts).
    """

    def __init__(self, fold: Fold, codes: list[str]) -> None:
        from civictracker.triage.text import model_text

        held = fold.held
        self.codes = codes
        mtexts = [model_text(r["text"]) for r in held]
        self.x = fold.union.transform(mtexts).tocsr()
        base = fold.model(*svm(fold, fold.y))
        posts = triage._read_posts(base, mtexts, triage._default_catalog())
        answers = triage.triage_texts([(r["text"], "mention") for r in held], model=base)
        self.is_request = np.array([a.is_request for a in answers])
        self.kinds = [p.found_kinds for p in posts]
        # hazard_service reads the text too: a hole with no cover named keeps the road's service.
        self.mtexts = mtexts
        self.bonus = np.zeros((len(held), len(codes)))
        for i, p in enumerate(posts):
            for j, code in enumerate(codes):
                n_hits = len(p.hits.get(code, []))
                if n_hits:
                    self.bonus[i, j] = triage.KEYWORD_WEIGHT * (1 + 0.3 * (min(3, n_hits) - 1))
        self.base_answers = [a.service_code if a.is_request else None for a in answers]

    def probs(
        self, coef: np.ndarray, intercept: np.ndarray, classes: list[str], temp: float | None = None
    ) -> np.ndarray:
        """P(service) per row over self.codes: the softmax of the scores, sub-classes summed."""
        raw = self.x @ coef.astype(np.float32).astype(np.float64).T + intercept
        p = triage._softmax_rows((temp or triage.SVM_TEMPERATURE) * raw)
        out = np.zeros((p.shape[0], len(self.codes)))
        for j, c in enumerate(classes):
            out[:, self.codes.index(c.split(SUBCLASS_SEP, 1)[0])] += p[:, j]
        return out

    def services(
        self, probs: np.ndarray, other_bias: float, offsets: np.ndarray | None = None, kw: float = 1.0
    ) -> list:
        from civictracker.triage.rules import hazard_service

        scores = probs + kw * self.bonus
        scores[:, self.codes.index("other")] += other_bias
        if offsets is not None:
            scores = scores + offsets
        best = scores.argmax(axis=1)
        out: list[str | None] = []
        for i, j in enumerate(best):
            if not self.is_request[i]:
                out.append(None)
                continue
            code = self.codes[j] if scores[i, j] > 0.0 else "other"
            out.append(hazard_service(self.kinds[i], code, self.codes, self.mtexts[i]))
        return out


def run(
    names: list[str], k: int, biases: list[float], dump: str = "", temps: tuple = (3.0,), kws: tuple = (1.0,)
) -> None:
    real = read_jsonl(DATA_DIR / "real_boston.jsonl")
    drm = read_jsonl(DATA_DIR / "drm_negatives.jsonl")
    all_examples = training_examples()
    codes = [code for code, _ in triage._default_catalog()]
    results: dict[str, dict[str, Any]] = {}
    for fold_no in range(k):
        t0 = time.process_time()
        held = [r for r in real if fold_of(r["id"], k) == fold_no]
        # eval_real also holds out the fold's Disaster Response rows (they teach the request head).
        held_texts = {r["text"] for r in held} | {r["text"] for r in drm if fold_of(r["id"], k) == fold_no}
        kept = tuple(
            e
            for e in all_examples
            if not ((e.source.startswith("boston") or e.source == "drm") and e.text in held_texts)
        )
        fold = Fold(kept, held)
        rows = Held(fold, codes)
        print(f"fold {fold_no}: base heads {time.process_time() - t0:.1f} s CPU", file=sys.stderr)
        for name in names:
            t1 = time.process_time()
            out = VARIANTS[name](fold)
            offsets = out[3](fold, rows) if len(out) > 3 and out[3] is not None else None
            for temp, kw, bias in itertools.product(temps, kws, biases):
                probs = rows.probs(*out[:3], temp=temp)
                if len(out) > 4:  # a non-linear part's probabilities mixed in: (mix, probs of the rows)
                    probs = (1 - out[4][0]) * probs + out[4][0] * out[4][1](rows)
                tag = f"{name}@{bias}" + (
                    f" T{temp} kw{kw}" if (temp, kw) != (triage.SVM_TEMPERATURE, 1.0) else ""
                )
                got = results.setdefault(tag, {})
                answers = rows.services(probs, bias, offsets, kw=kw)
                if name == "base" and bias == triage.OTHER_BIAS and answers != rows.base_answers:
                    diff = sum(a != b for a, b in zip(answers, rows.base_answers, strict=True))
                    print(f"  simulated decision differs from triage_texts on {diff} rows", file=sys.stderr)
                for r, a in zip(held, answers, strict=True):
                    got[r["id"]] = a
            print(f"  {name}: {time.process_time() - t1:.1f} s CPU", file=sys.stderr)
    hand = [r for r in real if r["source"] == "boston-hand" and r["is_request"]]
    folder = [r for r in real if r["source"] == "boston-folder"]
    for name, got in results.items():
        acc = np.mean([got[r["id"]] == r["service_code"] for r in hand])
        facc = np.mean([got[r["id"]] == r["service_code"] for r in folder])
        o_acc = np.mean([got[r["id"]] == "other" for r in hand if r["service_code"] == "other"])
        s_acc = np.mean([got[r["id"]] == r["service_code"] for r in hand if r["service_code"] != "other"])
        print(f"{name:32s} hand category {acc:.4f}  (other {o_acc:.3f}, specific {s_acc:.3f})  "
              f"folders {facc:.3f}")  # fmt: skip
        if dump:
            with open(f"{dump}.{name}.tsv", "w", encoding="utf-8") as fh:
                for r in hand:
                    if got[r["id"]] != r["service_code"]:
                        fh.write(f"{r['service_code']}\t{got[r['id']]}\t{r['text']}\n")


def run_request(hand_weights: list[float], k: int) -> None:
    """The request head with the hand-labelled Boston rows weighted W (the service head as shipped): real
    request recall and category, and the fold's held-out Disaster Response non-requests judged requests."""
    from sklearn.linear_model import LogisticRegression

    real = read_jsonl(DATA_DIR / "real_boston.jsonl")
    drm = read_jsonl(DATA_DIR / "drm_negatives.jsonl")
    all_examples = training_examples()
    got: dict[float, dict[str, Any]] = {w: {} for w in hand_weights}
    for fold_no in range(k):
        held = [r for r in real if fold_of(r["id"], k) == fold_no]
        held_drm = [r for r in drm if fold_of(r["id"], k) == fold_no]
        held_texts = {r["text"] for r in held + held_drm}
        kept = tuple(
            e
            for e in all_examples
            if not ((e.source.startswith("boston") or e.source == "drm") and e.text in held_texts)
        )
        fold = Fold(kept, held)
        service = svm(fold, fold.y)
        is_req = np.array([e.is_request for e in kept])
        for w in hand_weights:
            rw = np.array(
                [fit.REQUEST_SOURCE_WEIGHT.get(e.source, 1.0) * (w if e.source == "boston-hand" else 1.0)
                 for e in kept]
            )  # fmt: skip
            fold.request = LogisticRegression(
                C=fit.REQUEST_C, solver="liblinear", class_weight="balanced", max_iter=2000
            ).fit(fold.x, is_req, sample_weight=rw)
            model = fold.model(*service)
            answers = triage.triage_texts([(r["text"], "mention") for r in held + held_drm], model=model)
            for r, a in zip(held + held_drm, answers, strict=True):
                got[w][r["id"]] = (a.is_request, a.service_code)
        print(f"fold {fold_no} done", file=sys.stderr)
    hand = [r for r in real if r["source"] == "boston-hand" and r["is_request"]]
    hand_non = [r for r in real if r["source"] == "boston-hand" and not r["is_request"]]
    for w, g in got.items():
        recall = np.mean([g[r["id"]][0] for r in hand])
        cat = np.mean([g[r["id"]][0] and g[r["id"]][1] == r["service_code"] for r in hand])
        drm_rate = np.mean([g[r["id"]][0] for r in drm])
        non = np.mean([g[r["id"]][0] for r in hand_non])
        print(f"hand weight {w}: request recall {recall:.4f}  category {cat:.4f}  "
              f"DRM non-requests judged requests {drm_rate:.4f}  hand not_request judged {non:.3f}")  # fmt: skip


def main() -> None:
    sys.modules.setdefault("exp_category", sys.modules[__name__])  # one registry when run as a script
    import exp_category_variants  # noqa: F401 (registers more variants)

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("variants", nargs="+")
    parser.add_argument("--k", type=int, default=5)
    parser.add_argument(
        "--temp", type=float, nargs="+", default=[triage.SVM_TEMPERATURE], help="SVM_TEMPERATURE"
    )
    parser.add_argument("--kw", type=float, nargs="+", default=[1.0], help="keyword bonus times this")
    parser.add_argument(
        "--dump", default="", help="write each variant's hand-labelled misses to DUMP.NAME.tsv"
    )
    parser.add_argument(
        "--bias", type=float, nargs="+", default=[triage.OTHER_BIAS], help="OTHER_BIAS values"
    )
    parser.add_argument("--request-weights", type=float, nargs="*", help="instead: the request head's W")
    args = parser.parse_args()
    if args.request_weights:
        run_request(args.request_weights, args.k)
        return
    run(args.variants, args.k, args.bias, args.dump, tuple(args.temp), tuple(args.kw))


if __name__ == "__main__":
    main()
