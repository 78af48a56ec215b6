"""A literal pre-filter for regular expressions: skip a search when no string that every match needs is there.

Most triage patterns are long alternations of words ("gas", "fire", "trapped"...) that a typical post does
not contain, and Python's re tries every alternative at every position. required_literals() reads a pattern's
parse tree and returns strings one of which every match must contain; a `str in text` test for each is
far cheaper than the search. The strings come from the pattern itself, so the rule files stay the only
description of what matches, and a pattern the reader cannot bound (a class, a case-insensitive flag) is
simply always searched.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

from civictracker.triage.regex_cache import compiled

_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT)}
_GROUPS = {sre.SUBPATTERN, getattr(sre, "ATOMIC_GROUP", sre.SUBPATTERN)}


def _better(a: frozenset[str] | None, b: frozenset[str] | None) -> frozenset[str] | None:
    """The more selective of two requirements: longer shortest string first, then fewer strings."""
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b, key=lambda s: (-min(map(len, s)), len(s)))


def _group_body(op: Any, av: Any) -> Any | None:
    """The sub-pattern of a group, or None when the group changes case sensitivity (not bounded then)."""
    if op == sre.SUBPATTERN:
        _group, add_flags, _del_flags, body = av
        return None if add_flags & re.IGNORECASE else body
    return av  # an atomic group is its body


def _sequence(items: Any) -> frozenset[str] | None:
    """What a sequence of nodes needs: the best of its literal runs and of its items' own requirements."""
    best: frozenset[str] | None = None
    run: list[str] = []
    for op, av in items:
        if op == sre.LITERAL:
            run.append(chr(av))
            continue
        if run:
            best = _better(best, frozenset(["".join(run)]))
            run = []
        best = _better(best, _node(op, av))
    if run:
        best = _better(best, frozenset(["".join(run)]))
    return best


def _node(op: Any, av: Any) -> frozenset[str] | None:
    """What one non-literal node needs (None: nothing, e.g. a class, an optional part, an assertion)."""
    if op == sre.BRANCH:
        union: set[str] = set()
        for branch in av[1]:
            need = _sequence(branch)
            if need is None:
                return None
            union |= need
        return frozenset(union)
    if op in _GROUPS:
        body = _group_body(op, av)
        return None if body is None else _sequence(body)
    if op in _REPEATS and av[0] >= 1:
        return _sequence(av[2])
    return None


def required_literals(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Strings one of which every match of the pattern contains; None when it cannot say (search always)."""
    if not isinstance(pattern.pattern, str):
        return None
    return _tree_literals(sre_parse.parse(pattern.pattern, pattern.flags), pattern.flags)


def _tree_literals(tree: Any, flags: int) -> frozenset[str] | None:
    """required_literals() of a parsed pattern with these (final) flags."""
    if flags & re.IGNORECASE:
        return None
    need = _sequence(tree)
    return need if need and "" not in need else None


_Hits = tuple[tuple[int, str], ...]  # (pattern number, required string)
_Built = tuple[int, _Hits, dict[str, _Hits]]


class _LiteralIndex:
    """The required strings of every gated pattern, found in a text in one pass over its 3-character slices.

    Gated patterns are searched on the same few texts of a post (its model_text form, minus a harmless
    phrase or a leading handle), and triage_texts() asks about a whole batch of posts rule by rule, so the
    answer for a text is kept until a few hundred others have been asked.
    """

    GRAM = 3
    # At least this many of the latest texts are remembered, at most twice as many: a batch of posts
    # (classify.TRIAGE_BATCH; ~1 text a post), and far fewer than a benchmark pass, so a text is never
    # answered from memory because the same post was triaged a while ago.
    MEMO_SIZE = 320

    def __init__(self) -> None:
        self._needs: list[frozenset[str]] = []
        self._lock = threading.Lock()
        # (patterns covered, strings shorter than GRAM, GRAM-long prefix -> (pattern, string)), swapped whole.
        self._built: _Built = (0, (), {})
        self._memo: dict[str, tuple[int, frozenset[int]]] = {}
        self._older: dict[str, tuple[int, frozenset[int]]] = {}  # the generation before _memo

    def add(self, literals: frozenset[str]) -> int:
        """Index one more pattern's required strings; its number is what contains() asks about."""
        with self._lock:
            self._needs.append(literals)
            return len(self._needs) - 1

    def contains(self, number: int, text: str) -> bool:
        """Whether one of pattern `number`'s required strings occurs in the text."""
        memo = self._memo.get(text)
        if memo is None or number >= memo[0]:
            memo = self._older.get(text) if memo is None else None
            if memo is None or number >= memo[0]:
                memo = self._find(text)
            self._remember(text, memo)
        return number in memo[1]

    def candidates(self, text: str) -> frozenset[int]:
        """The numbers of the gated patterns that may match the text (contains() for all of them at once)."""
        memo = self._memo.get(text)
        if memo is None or memo[0] < len(self._needs):
            memo = self._older.get(text) if memo is None else None
            if memo is None or memo[0] < len(self._needs):
                memo = self._find(text)
            self._remember(text, memo)
        return memo[1]

    def _remember(self, text: str, memo: tuple[int, frozenset[int]]) -> None:
        """Keep the answer in the current generation; a full one becomes the older (bounded, never cold)."""
        if len(self._memo) >= self.MEMO_SIZE:
            self._older, self._memo = self._memo, {}
        self._memo[text] = memo

    def _index(self) -> _Built:
        built = self._built
        if built[0] == len(self._needs):
            return built
        with self._lock:
            needs = list(self._needs)
        short: list[tuple[int, str]] = []
        by_gram: dict[str, list[tuple[int, str]]] = {}
        for i, literals in enumerate(needs):
            for lit in sorted(literals):
                if len(lit) < self.GRAM:
                    short.append((i, lit))
                else:
                    by_gram.setdefault(lit[: self.GRAM], []).append((i, lit))
        self._built = (len(needs), tuple(short), {gram: tuple(hits) for gram, hits in by_gram.items()})
        return self._built

    def _find(self, text: str) -> tuple[int, frozenset[int]]:
        """How many patterns were looked for, and which of them may match."""
        size, short, by_gram = self._index()
        found = {i for i, lit in short if lit in text}
        n = self.GRAM
        for gram in by_gram.keys() & {text[j : j + n] for j in range(len(text) - n + 1)}:
            for i, lit in by_gram[gram]:
                if i not in found and lit in text:
                    found.add(i)
        return size, frozenset(found)


_INDEX = _LiteralIndex()


def candidates(text: str) -> frozenset[int]:
    """The numbers (GatedPattern.number) of the gated patterns that may match the text, found in one pass:
    a loop over many patterns skips the others without asking about each."""
    return _INDEX.candidates(text)


def to_try(text: str, always: list[int], by_number: Mapping[int, int]) -> list[int]:
    """The positions in a list of patterns worth trying on the text, ascending: `always` (tried on every
    text) and those whose gate it passes (`by_number`: a GatedPattern.number to its position)."""
    picked = [i for n in candidates(text) if (i := by_number.get(n)) is not None]
    return sorted([*always, *picked]) if picked else always


class GatedPattern:
    """A compiled pattern searched only when the text contains one of the strings its matches need.

    search/sub/finditer answer exactly what the pattern's own methods answer.
    """

    __slots__ = ("_number", "pattern")

    # A pattern one of whose strings is this short ("u", "at") is in nearly every post: not worth a gate.
    MIN_LITERAL = 3

    def __init__(self, pattern: re.Pattern[str] | str) -> None:
        if isinstance(pattern, str):  # parsed once for both, or read from the cache of earlier processes
            self.pattern, literals = compiled(pattern, 0, _tree_literals)
        else:
            self.pattern, literals = pattern, required_literals(pattern)
        useful = literals is not None and min(map(len, literals)) >= self.MIN_LITERAL
        self._number = _INDEX.add(literals) if literals is not None and useful else None

    @property
    def number(self) -> int | None:
        """This pattern's number in the index (candidates() of a text holds it when it may match), None if
        it is always searched."""
        return self._number

    def may_match(self, text: str) -> bool:
        return self._number is None or _INDEX.contains(self._number, text)

    def search(self, text: str) -> re.Match[str] | None:
        number = self._number
        if number is not None:
            # contains() inlined for its common case (this runs ~50 times per post)
            memo = _INDEX._memo.get(text)
            if memo is None or number >= memo[0]:
                return self.pattern.search(text) if _INDEX.contains(number, text) else None
            if number not in memo[1]:
                return None
        return self.pattern.search(text)

    def sub(self, repl: str, text: str) -> str:
        return self.pattern.sub(repl, text) if self.may_match(text) else text

    def finditer(self, text: str) -> Iterator[re.Match[str]]:
        return self.pattern.finditer(text) if self.may_match(text) else iter(())


def patterns_by_key(
    path: Path, prepare: Callable[[str], str] | None = None
) -> list[tuple[str, GatedPattern]]:
    """(key, pattern) per key of a `key<TAB>lang<TAB>regex` file, in the file's order: each language's
    regexes (passed through `prepare`, e.g. folded like the text they search) joined in one gated pattern,
    whole words only. Lines that are blank or start with # are comments."""
    by_key: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _lang, regex = line.split("\t", 2)
            by_key.setdefault(key, []).append(f"(?:{prepare(regex) if prepare else regex})")
    return [(key, GatedPattern(r"\b(?:" + "|".join(parts) + r")\b")) for key, parts in by_key.items()]
