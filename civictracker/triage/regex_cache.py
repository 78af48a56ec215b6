"""Compiled rule patterns kept between processes, as Python keeps bytecode: tenths of a second a cold start.

The rule files compile ~750 regular expressions at start, and Python's pattern parser is pure Python: on a
slow machine that is about a tenth of a cold `triage --jsonl` call. CPython cannot pickle a compiled pattern,
but it is made from plain data (the opcodes `re._compiler` emits, its flags and group names), which marshal
can keep. A process reads the file once; a pattern it does not find is compiled as re.compile() would
(parsed once, also for the prefilter's required strings) and the file is rewritten at exit. The file name
carries the interpreter's cache tag and the engine's version, so another Python never reads it; its
checksum is verified; anything wrong is a miss, never an error. `re.compile(p) == cached(p)` holds: a
pattern compares equal to another with the same string, flags and code.
"""

from __future__ import annotations

import _sre
import atexit
import hashlib
import logging
import marshal
import os
import re
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from re import _compiler as sre_compile  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

log = logging.getLogger(__name__)

# One file per interpreter (cache tag) and engine (its magic number and code unit): the opcodes change with
# them. Beside the package's bytecode, which it is akin to; set-up writes it as it writes the bytecode.
_TAG = f"{sys.implementation.cache_tag}-sre{_sre.MAGIC}-{_sre.CODESIZE}"
CACHE_PATH = Path(__file__).resolve().parent / "__pycache__" / f"patterns.{_TAG}.marshal"
# More entries than the rule files hold many times over: the rules changed often since the file was written;
# the next write keeps only what this process used.
MAX_ENTRIES = 5000

Literals = frozenset[str] | None
Need = Callable[[Any, int], Literals]  # the prefilter's reading of a parse tree (and the pattern's flags)
_Key = tuple[str, int]
# flags, code, groups, group names both ways, and the prefilter's strings: None when not asked for, () when
# the prefilter found none.
_Entry = tuple[int, list[int], int, dict[str, int], tuple[str | None, ...], tuple[str, ...] | None]

_lock = threading.Lock()
_stored: dict[_Key, _Entry] | None = None  # read from the file on first use
_used: dict[_Key, _Entry] = {}
_missed = False


def _read(path: Path) -> dict[_Key, _Entry]:
    try:
        blob = path.read_bytes()
    except OSError:
        return {}
    digest, body = blob[:32], blob[32:]
    if hashlib.sha256(body).digest() != digest:
        return {}
    try:
        # The same trust as the bytecode beside it, which Python reads with marshal too.
        entries = marshal.loads(body)  # noqa: S302
    except (EOFError, ValueError, TypeError):
        return {}
    return entries if isinstance(entries, dict) else {}


def _entry_of(pattern: str, flags: int, need: Need | None) -> _Entry:
    """What re._compiler.compile() makes of the pattern, and the prefilter's strings, from one parse."""
    tree = sre_parse.parse(pattern, flags)
    # Read before code generation, which may rewrite parts of the tree.
    literals = need(tree, flags | tree.state.flags) if need is not None else None
    code = sre_compile._code(tree, flags)
    groupindex = dict(tree.state.groupdict)
    indexgroup: list[str | None] = [None] * tree.state.groups
    for name, number in groupindex.items():
        indexgroup[number] = name
    return (
        int(flags | tree.state.flags),
        [int(op) for op in code],  # the opcodes are int subclasses, which marshal does not keep
        tree.state.groups - 1,
        {str(name): int(number) for name, number in groupindex.items()},
        tuple(indexgroup),
        None if need is None else tuple(sorted(literals or ())),
    )


def _pattern_of(pattern: str, entry: _Entry) -> re.Pattern[str]:
    flags, code, groups, groupindex, indexgroup, _literals = entry
    return _sre.compile(pattern, flags, code, groups, groupindex, indexgroup)  # type: ignore[no-any-return]


def _literals(entry: _Entry) -> Literals:
    return frozenset(entry[5]) if entry[5] else None


def compiled(pattern: str, flags: int = 0, need: Need | None = None) -> tuple[re.Pattern[str], Literals]:
    """The compiled pattern and, when `need` is given, the strings one of which its matches contain."""
    global _stored, _missed  # noqa: PLW0603 (the process-wide cache, read once)
    flags = int(flags)  # a re.RegexFlag is an int subclass, which marshal does not keep
    key = (pattern, flags)
    with _lock:
        if _stored is None:
            _stored = _read(CACHE_PATH)
        entry = _stored.get(key)
    # An entry stored without the prefilter's strings does not serve a caller that needs them.
    if entry is not None and (need is None or entry[5] is not None):
        try:
            made = _pattern_of(pattern, entry)
        except (RuntimeError, TypeError, ValueError, OverflowError):  # a damaged entry: compile afresh
            entry = None
        else:
            with _lock:
                _used.setdefault(key, entry)
            return made, _literals(entry)
    try:
        entry = _entry_of(pattern, flags, need)
        made = _pattern_of(pattern, entry)
    except (AttributeError, TypeError):  # another Python's engine internals: compile as usual, keep nothing
        made = re.compile(pattern, flags)
        return made, need(sre_parse.parse(pattern, flags), made.flags) if need is not None else None
    with _lock:
        _used[key] = entry
        _missed = True
    return made, _literals(entry)


def compile_pattern(pattern: str, flags: int = 0) -> re.Pattern[str]:
    """re.compile(pattern, flags), from the cache when an earlier process compiled it."""
    return compiled(pattern, flags)[0]


def save(path: Path | None = None) -> bool:
    """Write this process's patterns (and the file's, unless it grew too large) when it compiled any anew."""
    path = path or CACHE_PATH
    with _lock:
        if not _missed:
            return False
        entries = dict(_read(path))
        if len(entries) + len(_used) > MAX_ENTRIES:
            entries = {}
        entries.update(_used)
    body = marshal.dumps(entries)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(hashlib.sha256(body).digest() + body)
        os.chmod(tmp, 0o644)  # readable by every user of the install, as the bytecode is
        os.replace(tmp, path)  # readers see the old file or the new one, never half of one
        tmp = None
    except OSError as exc:  # a read-only install: every process compiles, as without the cache
        log.debug("pattern cache not written to %s: %s", path, exc)
        return False
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
    return True


atexit.register(save)
