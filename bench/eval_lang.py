"""Compare language identifiers on the language dev set: accuracy by source and microseconds per post.

Usage: .venv/bin/python bench/eval_lang.py [--errors NAME] [--split dev|test] [--only NAME,...]

The set: tests/data/lang_dev.jsonl (hand-written posts in several hands, Haitian Creole originals of the
Disaster Response Messages, other languages, posts with no words) plus the dev split of
tests/data/intake_dev.jsonl (its holdout is never read here). A label in en/es/pt/ht/und must be matched
exactly; any other label (fr, de, zh...) is right when the detector answers anything but en/es/pt/ht: the city
has no templates for it, so what matters is that no reply goes out in a wrong template language.

Libraries are optional: a candidate whose package is not installed is listed as skipped. Every candidate
gets the same front end (no letters once URLs and handles are removed -> 'und'), so they differ only in
how they read words.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from civictracker.triage.lang import AREA_LANGS, detect_language, identify_language  # noqa: E402
from civictracker.triage.text import clean  # noqa: E402

LANG_SET = ROOT / "tests" / "data" / "lang_dev.jsonl"
INTAKE = ROOT / "tests" / "data" / "intake_dev.jsonl"
OURS = {"en", "es", "pt", "ht"}
# Languages a restricted library is told about: ours plus the neighbours a Cambridge post may be in.
RESTRICTED = ["en", "es", "pt", "ht", "fr", "de", "it"]
_LETTERS = re.compile(r"[^\W\d_]{2,}")


def load_rows(split: str) -> list[dict]:
    rows = [json.loads(x) for x in LANG_SET.read_text(encoding="utf-8").splitlines() if x.strip()]
    rows = [r for r in rows if r["split"] == split]
    if split == "dev":
        for line in INTAKE.read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            if r.get("split", "dev") == "dev":
                rows.append({"id": r["id"], "text": r["text"], "lang": r["lang"], "source": "intake"})
    return rows


def correct(want: str, got: str) -> bool:
    if want in OURS or want == "und":
        return got == want
    return got not in OURS


def _front(detect: Callable[[str], str]) -> Callable[[str], str]:
    """The shared front end: no words -> 'und', otherwise the detector on the cleaned text."""

    def run(text: str) -> str:
        s = clean(text).replace("@USER", " ").replace("URL", " ")
        if not _LETTERS.search(s):
            return "und"
        return detect(s)

    return run


def _second_opinion(library: Callable[[str], str]) -> Callable[[str], str]:
    """The lexicon, except that a library names the language when few words are in the lexicon's lists.

    The library may only move a post out of our four languages (its guesses among them are worse than
    the lexicon's on short posts), and never from Haitian Creole to French, which it confuses.
    """

    def run(s: str) -> str:
        guess = identify_language(s, second_opinion=False)
        if guess.known_share >= 0.5 or len(s.split()) < 3:
            return guess.lang
        other = library(s)
        if other in OURS or other == "und" or (other == "fr" and guess.lang == "ht"):
            return guess.lang
        return other

    return run


def candidates() -> dict[str, Callable[[str], str] | str]:
    """Name -> detector, or name -> why it is skipped."""

    def lexicon(s: str) -> str:
        return identify_language(s, second_opinion=False).lang

    out: dict[str, Callable[[str], str] | str] = {
        "shipped: lexicon + py3langid": detect_language,
        "lexicon only": lexicon,
    }
    try:
        from py3langid.langid import MODEL_FILE, LanguageIdentifier

        full = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
        restricted = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
        restricted.set_languages(RESTRICTED)
        out["py3langid (97 langs)"] = _front(lambda s: full.classify(s)[0])
        out["py3langid (7 langs)"] = _front(lambda s: restricted.classify(s)[0])
        area = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=False)
        area.set_languages(list(AREA_LANGS))
        out["py3langid (29 area langs)"] = _front(lambda s: area.classify(s)[0])
        out["py3langid (7) + lexicon for ht"] = _front(
            lambda s: "ht" if lexicon(s) == "ht" else restricted.classify(s)[0]
        )
        out["lexicon, py3langid (97) if few known (naive)"] = _front(
            _second_opinion(lambda s: full.classify(s)[0])
        )
    except ImportError as exc:
        out["py3langid"] = f"skipped: {exc}"
    try:
        from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

        langs = [
            Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in RESTRICTED if c != "ht"
        ]
        high = LanguageDetectorBuilder.from_languages(*langs).build()
        low = LanguageDetectorBuilder.from_languages(*langs).with_low_accuracy_mode().build()

        def lingua(detector: object) -> Callable[[str], str]:
            def run(s: str) -> str:
                lang = detector.detect_language_of(s)  # type: ignore[attr-defined]
                return lang.iso_code_639_1.name.lower() if lang is not None else "und"

            return run

        out["lingua (6 langs, no ht)"] = _front(lingua(high))
        out["lingua low-accuracy (6)"] = _front(lingua(low))
        lingua_high = lingua(high)
        out["lingua (6) + lexicon for ht"] = _front(lambda s: "ht" if lexicon(s) == "ht" else lingua_high(s))
    except ImportError as exc:
        out["lingua"] = f"skipped: {exc}"
    try:
        import pycld2

        def cld2(s: str) -> str:
            reliable, _, details = pycld2.detect(s)
            code = details[0][1]
            return code if reliable and code != "un" else "und"

        out["pycld2"] = _front(cld2)
        out["lexicon, pycld2 if few known (naive)"] = _front(_second_opinion(cld2))
    except ImportError as exc:
        out["pycld2"] = f"skipped: {exc}"
    out["fasttext-langdetect"] = "skipped: ships no model, downloads lid.176 at run time"
    return out


def evaluate(detect: Callable[[str], str], rows: list[dict]) -> tuple[dict[str, tuple[int, int]], list[str]]:
    by_source: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    errors = []
    for r in rows:
        got = detect(r["text"])
        ok = correct(r["lang"], got)
        source = r["source"].split(":")[0]
        for key in (source, f"lang={r['lang'] if r['lang'] in OURS | {'und'} else 'other'}", "all"):
            by_source[key][0] += ok
            by_source[key][1] += 1
        if not ok:
            errors.append(f"want {r['lang']} got {got}: {r['text'][:120]}")
    return {k: (v[0], v[1]) for k, v in by_source.items()}, errors


def microseconds_per_post(detect: Callable[[str], str], texts: list[str], rounds: int = 5) -> float:
    """CPU microseconds per post, best of three runs (other processes share the cores)."""
    for t in texts[:20]:
        detect(t)
    best = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        for _ in range(rounds):
            for t in texts:
                detect(t)
        best = min(best, time.process_time() - t0)
    return best / (rounds * len(texts)) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev", choices=("dev", "test"))
    parser.add_argument(
        "--errors", metavar="NAME", help="list the mistakes of the candidate whose name starts so"
    )
    parser.add_argument("--only", help="comma-separated name prefixes of candidates to run")
    args = parser.parse_args()
    if args.errors and args.split != "dev":
        sys.exit("errors are listed for the dev split only")
    rows = load_rows(args.split)
    keys = ["all", "intake", "handwritten", "drm", "lang=en", "lang=es", "lang=pt", "lang=ht", "lang=und",
            "lang=other"]  # fmt: skip
    print(f"split={args.split}  rows={len(rows)}")
    print(f"{'candidate':32s} " + " ".join(f"{k:>12s}" for k in keys) + f" {'us/post':>8s}")
    for name, detect in candidates().items():
        if args.only and not any(name.startswith(p) for p in args.only.split(",")):
            continue
        if isinstance(detect, str):
            print(f"{name:32s} {detect}")
            continue
        figures, errors = evaluate(detect, rows)
        cells = []
        for k in keys:
            ok, n = figures.get(k, (0, 0))
            cells.append(f"{ok / n:.3f} ({n:3d})" if n else f"{'-':>12s}")
        speed = microseconds_per_post(detect, [r["text"] for r in rows])
        print(f"{name:32s} " + " ".join(f"{c:>12s}" for c in cells) + f" {speed:8.1f}")
        if args.errors and name.startswith(args.errors):
            for line in errors:
                print("    ", line)


if __name__ == "__main__":
    main()
