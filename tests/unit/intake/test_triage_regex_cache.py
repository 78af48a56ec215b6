"""The pattern cache gives what re.compile() gives, and a damaged or foreign file is only a miss."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civictracker.triage import prefilter, regex_cache


@pytest.fixture
def cache_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty cache at a temporary path, this process's memory of patterns set aside meanwhile."""
    path = tmp_path / "patterns.marshal"
    monkeypatch.setattr(regex_cache, "CACHE_PATH", path)
    monkeypatch.setattr(regex_cache, "_stored", None)
    monkeypatch.setattr(regex_cache, "_used", {})
    monkeypatch.setattr(regex_cache, "_missed", False)
    return path


def _forget(monkeypatch: pytest.MonkeyPatch) -> None:
    """As a new process: read the file again."""
    monkeypatch.setattr(regex_cache, "_stored", None)
    monkeypatch.setattr(regex_cache, "_used", {})
    monkeypatch.setattr(regex_cache, "_missed", False)


PATTERNS = [
    (r"\b(?:gas|smell of gas|fire)\b", 0),
    (r"(?P<street>\w+) (?:st|ave)\b", 0),
    (r"[ơưăđạảấầẩẫậ]", 0),
    (r"(?i)downed (?:wire|line)s?", 0),
    (r"tree(?= down)", re.IGNORECASE),
    (r"(?<!\w)(?:pothole|sinkhole)s?(?!\w)", re.MULTILINE),
]


@pytest.mark.parametrize(("pattern", "flags"), PATTERNS)
def test_a_cached_pattern_equals_re_compile_after_a_new_process_reads_it(
    pattern: str, flags: int, cache_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh, literals = regex_cache.compiled(pattern, flags, prefilter._tree_literals)
    assert regex_cache.save() and cache_file.exists()
    _forget(monkeypatch)
    cached, cached_literals = regex_cache.compiled(pattern, flags, prefilter._tree_literals)
    plain = re.compile(pattern, flags)
    assert fresh == plain and cached == plain  # same string, flags and engine code
    assert (cached.groupindex, cached.groups) == (plain.groupindex, plain.groups)
    assert literals == cached_literals == prefilter.required_literals(plain)
    assert not regex_cache._missed  # read from the file, not compiled


def test_every_hazard_pattern_read_from_the_cache_is_the_compiled_one(
    cache_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from civictracker.triage import rules

    sources = [hazard.pattern.pattern.pattern for hazard in rules._HAZARDS]
    assert len(sources) > 100
    for source in sources:
        regex_cache.compiled(source, 0, prefilter._tree_literals)
    assert regex_cache.save()
    _forget(monkeypatch)
    for source in sources:
        cached, literals = regex_cache.compiled(source, 0, prefilter._tree_literals)
        assert cached == re.compile(source)
        assert literals == prefilter.required_literals(re.compile(source))
    assert not regex_cache._missed


def test_a_pattern_asked_with_the_prefilter_is_not_served_by_an_entry_without_it(
    cache_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    regex_cache.compile_pattern(r"\bsparking wires?\b")
    regex_cache.save()
    _forget(monkeypatch)
    _pattern, literals = regex_cache.compiled(r"\bsparking wires?\b", 0, prefilter._tree_literals)
    assert literals == frozenset({"sparking wire"})
    assert regex_cache._missed


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: blob[:-7],  # cut short
        lambda blob: blob[:40] + bytes([blob[40] ^ 0xFF]) + blob[41:],  # a flipped byte
        lambda blob: b"",
        lambda blob: b"\x00" * 32 + b"not marshal",
    ],
)
def test_a_damaged_file_is_a_miss_never_an_error(
    damage: object, cache_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    regex_cache.compile_pattern(r"\bgas (?:leak|smell)\b")
    regex_cache.save()
    cache_file.write_bytes(damage(cache_file.read_bytes()))  # type: ignore[operator]
    _forget(monkeypatch)
    assert regex_cache.compile_pattern(r"\bgas (?:leak|smell)\b") == re.compile(r"\bgas (?:leak|smell)\b")
    assert regex_cache._missed
    assert regex_cache.save()  # rewritten whole


def test_an_entry_the_engine_refuses_is_compiled_afresh(
    cache_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = (r"\bflooding\b", 0)
    regex_cache.compile_pattern(key[0])
    flags, code, groups, groupindex, indexgroup, literals = regex_cache._used[key]
    monkeypatch.setattr(
        regex_cache, "_stored", {key: (flags, [999_999, *code], groups, groupindex, indexgroup, literals)}
    )
    monkeypatch.setattr(regex_cache, "_missed", False)
    assert regex_cache.compile_pattern(key[0]) == re.compile(key[0])
    assert regex_cache._missed


def test_nothing_new_writes_nothing_and_a_read_only_place_is_no_error(
    tmp_path: Path, cache_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert not regex_cache.save()  # nothing compiled anew
    regex_cache.compile_pattern(r"\bice\b")
    blocked = tmp_path / "a-file" / "patterns.marshal"
    (tmp_path / "a-file").write_text("not a folder")
    assert not regex_cache.save(blocked)
    assert regex_cache.save(cache_file)


def test_the_file_name_names_the_interpreter_and_the_engine() -> None:
    import _sre
    import sys

    name = regex_cache.CACHE_PATH.name
    assert sys.implementation.cache_tag in name and str(_sre.MAGIC) in name
    assert regex_cache.CACHE_PATH.parent.name == "__pycache__"  # ignored by git, as the bytecode
