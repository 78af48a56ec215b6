"""Build the shipped triage model, check it is current, report CV figures (inputs: build_real_data.py).

Usage:
  .venv/bin/python scripts/train_triage.py --build         # fit, write data/triage_model.npz + .json
  .venv/bin/python scripts/train_triage.py --check         # exit 1 if the shipped model is stale
  .venv/bin/python scripts/train_triage.py                 # fit in memory, print sizes, timing, CV figures

`--build` (also `make triage-model`) is the only place the model is fitted; processes load the file it
writes (civictracker/triage/store.py: numpy arrays and a JSON header, no pickles). Run it after
any change to the training data, triage/dataset.py, fit.py or text.py; loading a stale file
logs a warning and the tests fail.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build() -> None:
    """Fit the model from the shipped training data and write it into the package (the only fit)."""
    import numpy as np

    from civictracker.triage.classify import model_text
    from civictracker.triage.dataset import training_examples
    from civictracker.triage.fit import fit_stored_model
    from civictracker.triage.model import TriageModel
    from civictracker.triage.store import MODEL_PATH, save_model, training_inputs

    t0, c0 = time.perf_counter(), time.process_time()
    examples = training_examples()
    files = training_inputs()
    stored = fit_stored_model(examples)
    header = save_model(stored, MODEL_PATH, n_examples=len(examples), files=files)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"fitted {len(examples)} examples in {elapsed:.2f} s wall, {cpu:.2f} s CPU")
    for path in (MODEL_PATH, MODEL_PATH.with_suffix(".json")):
        print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size / 1e6:.2f} MB)")
    print(f"  training inputs sha256 {header['training_inputs']['sha256'][:16]}...  "
          f"payload sha256 {header['payload']['sha256'][:16]}...")  # fmt: skip
    # What storing the weights as float32 costs: the largest score change over the training texts.
    exact = TriageModel(fit_stored_model(examples, weights_dtype=np.float64))
    model = TriageModel(stored)
    worst = 0.0
    for e in examples:
        text = model_text(e.text)
        worst = max(worst, float(np.abs(model.scores(text)[1] - exact.scores(text)[1]).max()))
    print(f"  features {model.n_features}, head columns {model.weights.shape[1]}; float32 weights move "
          f"raw scores by at most {worst:.1e}")  # fmt: skip


def check() -> int:
    """Exit status 1 when the shipped model file is missing, corrupt or stale."""
    from civictracker.triage.store import BUILD_COMMAND, MODEL_PATH, load_model, stale_reasons

    stored = load_model(MODEL_PATH, check_inputs=False)
    reasons = stale_reasons(stored.header)
    for reason in reasons:
        print(f"stale: {reason}")
    print(f"{MODEL_PATH.relative_to(ROOT)}: " + (f"STALE, run {BUILD_COMMAND}" if reasons else "current"))
    return 1 if reasons else 0


def report() -> None:
    """Cross-validated figures of the fit (the shipped model is not involved)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline

    from civictracker.triage.classify import model_text
    from civictracker.triage.dataset import training_examples
    from civictracker.triage.fit import build_classifier, build_vectorizer, fit_stored_model

    t0, c0 = time.perf_counter(), time.process_time()
    examples = training_examples()
    stored = fit_stored_model(examples)
    elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"examples: {len(examples)}  by source {dict(Counter(e.source for e in examples))}")
    print(f"  requests {sum(e.is_request for e in examples)}, urgent {sum(e.urgent for e in examples)}, "
          f"langs {dict(Counter(e.lang for e in examples))}")  # fmt: skip
    print(
        f"features: {stored.weights.shape[0]}  fit time (expand + fit): {elapsed:.2f} s wall, {cpu:.2f} s CPU"
    )
    texts = [model_text(e.text) for e in examples]
    y = [e.is_request for e in examples]
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    pipe = make_pipeline(build_vectorizer(), build_classifier())
    scores = cross_val_score(pipe, texts, y, cv=cv, scoring="f1")
    print(f"request-or-not 5-fold CV F1 on training data (templated, optimistic): {scores.mean():.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="fit and write the shipped model file")
    parser.add_argument("--check", action="store_true", help="exit 1 if the shipped model file is stale")
    args = parser.parse_args()
    if args.check:
        sys.exit(check())
    if args.build:
        build()
        return
    report()


if __name__ == "__main__":
    main()
