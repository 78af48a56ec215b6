"""py3langid's identifier, restricted to some languages, cached uncompressed so a process loads it at once.

The library ships its model as 4.5 MB of LZMA that decompresses to 68 MB: about 0.6 s of CPU in every
process that needs a second opinion on a post's language, more than triaging 1,000 posts. The first
process writes the arrays it ends up using (the score table cut to the languages asked for, the byte
automaton) to a cache folder as a plain .npz, and the automaton's 39 MB table as a .npy that later processes
map rather than read; they load it in milliseconds and build the same identifier, so classify() answers
exactly as the library's own loader would. The file name carries the library's version, its model file's
size and time, and the languages, so an upgrade builds a new one.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import zipfile
from array import array
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)


def _library_model() -> tuple[Any, Path]:
    from py3langid import langid

    path = Path(langid.MODEL_FILE)
    return langid, path if path.is_absolute() else langid.MODEL_DIR / path


def _cache_path(cache_dir: Path, model_file: Path, langs: list[str]) -> Path:
    import py3langid  # its __version__: importlib.metadata would cost ~30 ms of start-up

    stat = model_file.stat()
    # "2": the byte automaton in a file of its own (mapped, not read)
    key = f"2|{py3langid.__version__}|{stat.st_size}|{stat.st_mtime_ns}|{','.join(langs)}"
    return cache_dir / f"py3langid_{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def _restricted(langid: Any, langs: list[str]) -> Any:
    """The library's identifier from its own file, restricted to `langs` (the slow path)."""
    identifier = langid.LanguageIdentifier.from_model_file(langid.MODEL_FILE, norm_probs=True)
    identifier.set_languages(langs)
    return identifier


def _automaton_path(path: Path) -> Path:
    return path.with_suffix(".nextmove.npy")


def _save(identifier: Any, path: Path) -> None:
    """Write the arrays the restricted identifier uses, atomically (a reader never sees half a file): the
    automaton's 39 MB table first, in a file of its own, then the rest, whose presence says both are whole."""
    nextmove = np.frombuffer(identifier.tk_nextmove, dtype=_dtype(identifier.tk_nextmove))
    _write(_automaton_path(path), lambda fh: np.save(fh, nextmove, allow_pickle=False))
    arrays = {
        "ptc": np.ascontiguousarray(identifier.nb_ptc),
        "pc": np.asarray(identifier.nb_pc),
        "classes": np.array(identifier.nb_classes),
        "row": np.frombuffer(identifier.tk_row, dtype=_dtype(identifier.tk_row)),
        "output": np.asarray(identifier.tk_output, dtype=np.int64),
    }
    _write(path, lambda fh: np.savez(fh, allow_pickle=False, **arrays))


def _write(path: Path, write: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.chmod(tmp, 0o644)  # as readable as the library's own file, by any user that runs triage
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _dtype(arr: Any) -> np.dtype:
    return np.dtype(f"u{arr.itemsize}")


def _load(langid: Any, path: Path, langs: list[str]) -> Any:
    """The identifier from a cache file: the restricted arrays, with the same languages set on them."""
    with np.load(path, allow_pickle=False) as data:
        row = _as_array(data["row"])
        identifier = langid.LanguageIdentifier(
            data["ptc"],
            data["pc"],
            data["classes"].tolist(),
            _mapped(_automaton_path(path)),
            data["output"].tolist(),
            norm_probs=True,
            tk_row=row,
        )
    identifier.set_languages(langs)
    return identifier


def _mapped(path: Path) -> memoryview:
    """The automaton's table, mapped from its file: a post's walk reads a few pages of its 39 MB (reading
    it all took ~0.25 s of CPU at every start). Indexed like the stdlib array the library builds, the same
    unsigned values."""
    table = np.load(path, mmap_mode="r", allow_pickle=False)
    if table.ndim != 1 or table.dtype.kind != "u" or not table.dtype.isnative:
        raise ValueError(f"{path.name}: not a table of native unsigned integers")
    return memoryview(table)


def _as_array(arr: np.ndarray) -> array:
    """An unsigned numpy array as the stdlib array py3langid walks byte by byte (one copy)."""
    out = array({2: "H", 4: "I", 8: "L"}[arr.dtype.itemsize])
    out.frombytes(np.ascontiguousarray(arr).data.cast("B"))
    return out


def load_identifier(langs: list[str], cache_dir: Path | None) -> Any:
    """py3langid's LanguageIdentifier over `langs` (normalised probabilities), from the cache when it can."""
    langid, model_file = _library_model()
    if cache_dir is None:
        return _restricted(langid, langs)
    path = _cache_path(cache_dir, model_file, langs)
    if path.is_file():
        try:
            return _load(langid, path, langs)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("py3langid cache %s unreadable (%s); rebuilding it", path, exc)
    identifier = _restricted(langid, langs)
    try:
        _save(identifier, path)
    except OSError as exc:  # a read-only instance folder: still correct, only slower to start
        log.warning("cannot cache py3langid's model in %s: %s", cache_dir, exc)
    return identifier
