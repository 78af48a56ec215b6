"""The persisted triage model: a pickle-free file format, its checksums, and save/load (no scikit-learn).

Two files in civictracker/triage/data/, written only by `make triage-model`
(`python scripts/train_triage.py --build`):

- triage_model.npz: compressed numpy arrays, read with allow_pickle=False. Per vectorizer part NAME:
  NAME.terms (the vocabulary in column order, UTF-8, concatenated), NAME.term_lengths (characters per term)
  and NAME.idf; then weights (n_features x n_columns, float32: the columns of every head side by side) and
  bias (n_columns).
- triage_model.json: the header. Format version; the Python, numpy and scikit-learn versions that built it;
  the sha256 of the training inputs, of the payload and of the parts/heads description (spec_sha256); each
  part's analyzer and TF-IDF parameters (parts are laid out in order: the first part's columns first);
  each head's name, first column and class list (a binary head has one column scoring its second class).

Staleness. The training-inputs checksum covers the bytes of the data files the examples are read from
(dataset.TRAINING_FILES), plus the code that turns them into a model (dataset.py, fit.py, text.py, and
reply_rules.py, whose verdicts the reply head's combiner is fitted on). Hashing bytes costs about a
millisecond per MB at load; expanding the examples would cost as much as half a fit. A stale model is
still used (a process never trains) but logs a warning naming the build command, and
tests/unit/intake/test_triage_model_store.py fails, so CI catches a forgotten rebuild. A missing file, or a
payload or header whose checksum does not match, is an error naming the build command.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

log = logging.getLogger(__name__)

FORMAT = "civictracker-triage-model"
FORMAT_VERSION = 1
TRIAGE_DIR = Path(__file__).resolve().parent
DATA_DIR = TRIAGE_DIR / "data"
MODEL_PATH = DATA_DIR / "triage_model.npz"
BUILD_COMMAND = "make triage-model (or: python scripts/train_triage.py --build)"
# Code whose output is the model: the example expansion, the fit, and the text clean-up the model reads.
TRAINING_CODE = ("dataset.py", "fit.py", "text.py", "reply_rules.py")


class TriageModelError(RuntimeError):
    """The model file is missing, unreadable or does not match its checksum."""


@dataclass(frozen=True)
class Part:
    """One TF-IDF vectorizer of the feature union: how it reads text and what its columns are."""

    name: str
    analyzer: dict[str, Any]  # ngrams.build_analyzer parameters
    tfidf: dict[str, Any]  # binary, norm, use_idf, sublinear_tf
    terms: list[str]  # the vocabulary in column order
    idf: np.ndarray  # float64, one per term


@dataclass(frozen=True)
class Head:
    """One classifier: its columns in the weight matrix and the class each column scores.

    A binary head has one column scoring its second class (sklearn's convention), so classes has 2 entries.
    """

    name: str
    column: int
    classes: list[Any]
    # How the head's scores are weighed with other evidence (the reply head: a logistic regression over
    # its scores and the rules' verdict, fitted at build time): {"inputs", "coef", "intercept"}.
    combine: dict[str, Any] | None = None

    @property
    def n_columns(self) -> int:
        return 1 if len(self.classes) == 2 else len(self.classes)


@dataclass(frozen=True)
class StoredModel:
    """Everything the run-time model needs: parts (in column order), heads, weights and bias."""

    parts: list[Part]
    heads: list[Head]
    weights: np.ndarray  # (sum of the parts' vocabulary sizes, number of head columns)
    bias: np.ndarray
    header: dict[str, Any]  # what the file said about itself (empty for a model fitted in this process)

    def head(self, name: str) -> Head:
        return next(h for h in self.heads if h.name == name)


def training_inputs(data_dir: Path = DATA_DIR, code_dir: Path = TRIAGE_DIR) -> dict[str, str]:
    """sha256 of each training input file, by its path relative to the triage package."""
    from civictracker.triage.dataset import TRAINING_FILES

    files = [data_dir / name for name in TRAINING_FILES if (data_dir / name).is_file()]
    files += [code_dir / name for name in TRAINING_CODE]
    # Line endings are normalised: the examples are read as text, so a CRLF checkout is the same data.
    return {
        p.relative_to(code_dir).as_posix(): hashlib.sha256(p.read_bytes().replace(b"\r\n", b"\n")).hexdigest()
        for p in files
    }


def inputs_sha256(files: dict[str, str]) -> str:
    """One checksum over the per-file checksums (names included: a renamed file is a change)."""
    lines = "".join(f"{name}\t{digest}\n" for name, digest in sorted(files.items()))
    return hashlib.sha256(lines.encode()).hexdigest()


def _header_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _spec_sha256(parts: list[dict[str, Any]], heads: list[dict[str, Any]]) -> str:
    """Checksum of the header's model description (class lists, analyzer parameters, column layout)."""
    canonical = json.dumps({"parts": parts, "heads": heads}, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _payload(model: StoredModel) -> bytes:
    arrays: dict[str, np.ndarray] = {}
    for part in model.parts:
        if any(not isinstance(t, str) for t in part.terms):
            raise ValueError(f"part {part.name}: vocabulary terms must be strings")
        arrays[f"{part.name}.terms"] = np.frombuffer("".join(part.terms).encode("utf-8"), dtype=np.uint8)
        arrays[f"{part.name}.term_lengths"] = np.array([len(t) for t in part.terms], dtype=np.int32)
        arrays[f"{part.name}.idf"] = np.asarray(part.idf, dtype=np.float64)
    arrays["weights"] = np.asarray(model.weights, dtype=np.float32)
    arrays["bias"] = np.asarray(model.bias, dtype=np.float64)
    buffer = io.BytesIO()
    # Stored, not deflated: inflating 45 MB cost ~0.1 s of every cold process here (git compresses it anyway).
    np.savez(buffer, allow_pickle=False, **arrays)
    return buffer.getvalue()


def cpu_signature() -> str:
    """A short fingerprint of this CPU's instruction-set flags: a fit on another CPU stops elsewhere.

    The same data and versions fitted on two AMD EPYC machines of different flags moved raw scores by up
    to 0.1 (the solvers' vector kernels round differently and their stopping points follow), so a check
    that the shipped file equals a fresh fit is only exact on the CPU that built it."""
    flags = ""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("flags"):
                flags = " ".join(sorted(line.split(":", 1)[1].split()))
                break
    except OSError:
        import platform

        flags = platform.processor() or platform.machine()
    return hashlib.sha256(flags.encode()).hexdigest()[:16]


def save_model(
    model: StoredModel, path: Path = MODEL_PATH, *, n_examples: int, files: dict[str, str]
) -> dict:
    """Write the payload and its header; return the header."""
    import sklearn

    payload = _payload(model)
    parts = [
        {"name": p.name, "n_features": len(p.terms), "analyzer": p.analyzer, "tfidf": p.tfidf}
        for p in model.parts
    ]
    heads = [
        {"name": h.name, "column": h.column, "classes": h.classes}
        | ({"combine": h.combine} if h.combine else {})
        for h in model.heads
    ]
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "built_with": {
            "python": sys.version.split()[0],
            "numpy": np.__version__,
            "scikit-learn": sklearn.__version__,
            "cpu": cpu_signature(),
        },
        "training_inputs": {"sha256": inputs_sha256(files), "n_examples": n_examples, "files": files},
        "payload": {"file": path.name, "bytes": len(payload), "sha256": hashlib.sha256(payload).hexdigest()},
        "spec_sha256": _spec_sha256(parts, heads),
        "weights_dtype": "float32",
        "parts": parts,
        "heads": heads,
    }
    path.write_bytes(payload)
    _header_path(path).write_text(json.dumps(header, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return header


def stale_reasons(header: dict[str, Any], files: dict[str, str] | None = None) -> list[str]:
    """Why a model file no longer matches this code and data (empty when it is current)."""
    reasons = []
    if header.get("format_version") != FORMAT_VERSION:
        reasons.append(f"format version {header.get('format_version')} != {FORMAT_VERSION}")
    built = header.get("training_inputs", {}).get("files", {})
    current = training_inputs() if files is None else files
    if inputs_sha256(current) != header.get("training_inputs", {}).get("sha256"):
        changed = sorted(n for n in set(built) | set(current) if built.get(n) != current.get(n))
        reasons.append("training inputs changed: " + ", ".join(changed))
    return reasons


def _fail(path: Path, problem: str) -> TriageModelError:
    return TriageModelError(f"triage model {path}: {problem}. Build it with: {BUILD_COMMAND}")


def read_header(path: Path = MODEL_PATH) -> dict[str, Any]:
    try:
        header = json.loads(_header_path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise _fail(_header_path(path), "missing") from None
    except (OSError, ValueError) as exc:
        raise _fail(_header_path(path), f"unreadable header ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _fail(_header_path(path), f"not a {FORMAT} header")
    return header


_T = TypeVar("_T")


def loaded_once(load: Callable[[], _T]) -> Callable[[], _T]:
    """load() on the first call and the same object ever after: a process-wide model read from its file once
    (threads asking together wait for the one load under a lock; never trained here)."""
    lock = threading.Lock()
    loaded: list[_T] = []

    @wraps(load)
    def get() -> _T:
        if not loaded:
            with lock:
                if not loaded:
                    loaded.append(load())
        return loaded[0]

    return get


def load_model(path: Path = MODEL_PATH, *, check_inputs: bool = True) -> StoredModel:
    """Read and verify the model file; warn (never retrain) when it is stale."""
    header = read_header(path)
    if check_inputs:
        try:
            reasons = stale_reasons(header)
        except OSError as exc:  # e.g. an install without the training files: the model still works
            reasons = [f"cannot read the training inputs to compare: {exc}"]
        for reason in reasons:
            log.warning("triage model %s is stale (%s); rebuild it with: %s", path, reason, BUILD_COMMAND)
    try:
        payload = path.read_bytes()
    except FileNotFoundError:
        raise _fail(path, "missing") from None
    if hashlib.sha256(payload).hexdigest() != header.get("payload", {}).get("sha256"):
        raise _fail(path, "checksum mismatch (corrupt or edited payload)")
    if _spec_sha256(header.get("parts", []), header.get("heads", [])) != header.get("spec_sha256"):
        raise _fail(_header_path(path), "checksum mismatch (edited parts or heads)")
    try:
        with np.load(io.BytesIO(payload), allow_pickle=False) as arrays:
            parts = []
            for spec in header["parts"]:
                name = spec["name"]
                text = arrays[f"{name}.terms"].tobytes().decode("utf-8")
                ends = np.cumsum(arrays[f"{name}.term_lengths"]).tolist()
                terms = [text[a:b] for a, b in zip([0, *ends[:-1]], ends, strict=True)]
                idf = arrays[f"{name}.idf"]
                if idf.shape != (len(terms),):
                    raise ValueError(f"part {name}: {len(terms)} terms but {idf.shape} idf values")
                parts.append(Part(name, dict(spec["analyzer"]), dict(spec["tfidf"]), terms, idf))
            heads = [
                Head(h["name"], int(h["column"]), list(h["classes"]), h.get("combine"))
                for h in header["heads"]
            ]
            weights, bias = arrays["weights"], arrays["bias"]
    except (KeyError, ValueError, TypeError, OSError) as exc:
        raise _fail(path, f"unreadable model ({exc!r})") from None
    n_features = sum(len(p.terms) for p in parts)
    starts = np.cumsum([0] + [h.n_columns for h in heads]).tolist()
    if [h.column for h in heads] != starts[:-1]:
        raise _fail(path, "heads do not tile the weight columns in order")
    if weights.shape != (n_features, starts[-1]) or bias.shape != (starts[-1],):
        raise _fail(
            path, f"weights {weights.shape} do not match {n_features} features x {starts[-1]} columns"
        )
    return StoredModel(parts, heads, weights, bias, header)
