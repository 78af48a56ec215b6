"""py3langid's model cached uncompressed: the cached identifier answers exactly as the library's own."""

from __future__ import annotations

from pathlib import Path

from civictracker.triage.lang import AREA_LANGS
from civictracker.triage.langid_cache import load_identifier

TEXTS = [
    "bonjour, il y a un nid de poule énorme devant chez moi",
    "der Bürgersteig ist seit Tagen nicht geräumt",
    "la basura no la han recogido en toda la semana",
    "o poste de luz está apagado há três dias",
    "lampadè a etenn depi twa jou",
    "huge pothole on Hampshire St",
    "🙂🙂",
]


def test_cached_identifier_answers_as_the_library(tmp_path: Path) -> None:
    langs = list(AREA_LANGS)
    library = load_identifier(langs, None)
    first = load_identifier(langs, tmp_path)  # builds the cache file
    (cached_file,) = tmp_path.glob("py3langid_*.npz")
    cached = load_identifier(langs, tmp_path)  # reads it
    for text in TEXTS:
        expected = library.classify(text)
        assert first.classify(text) == expected
        assert cached.classify(text) == expected, text
    assert cached_file.stat().st_size > 0


def test_unreadable_cache_is_rebuilt(tmp_path: Path) -> None:
    langs = list(AREA_LANGS)
    load_identifier(langs, tmp_path)
    (cached_file,) = tmp_path.glob("py3langid_*.npz")
    cached_file.write_bytes(b"not an npz")
    identifier = load_identifier(langs, tmp_path)
    assert identifier.classify(TEXTS[0]) == load_identifier(langs, None).classify(TEXTS[0])
    assert cached_file.stat().st_size > 100


def test_the_automaton_is_mapped_not_read(tmp_path: Path) -> None:
    langs = list(AREA_LANGS)
    load_identifier(langs, tmp_path)
    (table,) = tmp_path.glob("py3langid_*.nextmove.npy")
    cached = load_identifier(langs, tmp_path)
    assert isinstance(cached.tk_nextmove, memoryview) and cached.tk_nextmove.readonly
    assert len(cached.tk_nextmove) * cached.tk_nextmove.itemsize > 10_000_000
    assert table.stat().st_size > 10_000_000


def test_a_missing_or_damaged_automaton_is_rebuilt(tmp_path: Path) -> None:
    langs = list(AREA_LANGS)
    expected = [load_identifier(langs, None).classify(text) for text in TEXTS]
    load_identifier(langs, tmp_path)
    (table,) = tmp_path.glob("py3langid_*.nextmove.npy")
    for damage in (table.unlink, lambda: table.write_bytes(table.read_bytes()[:5000])):
        damage()
        identifier = load_identifier(langs, tmp_path)
        assert [identifier.classify(text) for text in TEXTS] == expected
        assert table.stat().st_size > 10_000_000  # written again, whole
