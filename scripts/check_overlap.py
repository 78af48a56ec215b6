"""List training posts that copy or nearly copy an evaluation post (exit 1 when any is found).

Run after adding written training rows: `PYTHONPATH=. .venv/bin/python scripts/check_overlap.py`.
Exact copies (three words or more) are compared after folding case, accents, @mentions, punctuation and
spacing; near copies (three words or more) by rapidfuzz's ratio over the folded text (default 85 of
100) for the written sources only (written posts, the retired Cambridge hands, replies): real Boston rows
are split by case id (`scripts/build_real_data.py`), and the templates are checked exactly.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from rapidfuzz import fuzz, process

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from civictracker.triage.dataset import HAND_SOURCE, reply_examples, training_examples  # noqa: E402
from civictracker.triage.text import fold as fold_accents  # noqa: E402

# Every labelled set a figure is reported on (dev sets too: a copy there would inflate its figure).
EVAL_SETS = (
    *sorted((ROOT / "tests" / "data").glob("*.jsonl")),
    *sorted((ROOT / "bench" / "data").glob("*.jsonl")),
)
WRITTEN_SOURCES = {"social", "handwritten", HAND_SOURCE}
_WORD = re.compile(r"\w+")
_MENTION = re.compile(r"@\w+")


def fold(text: str) -> str:
    """Lower case, accents and @mentions dropped, words joined by single spaces."""
    return " ".join(_WORD.findall(fold_accents(_MENTION.sub(" ", text.casefold()))))


def eval_texts() -> dict[str, str]:
    """Folded evaluation text -> "file:id" of its first occurrence."""
    out: dict[str, str] = {}
    for path in EVAL_SETS:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            text = row.get("text")
            if isinstance(text, str) and text.strip():
                out.setdefault(fold(text), f"{path.name}:{row.get('id')}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cutoff", type=float, default=85.0, help="near-copy ratio (0-100)")
    args = parser.parse_args(argv)
    evals = eval_texts()
    examples = training_examples()
    exact = [
        (e.source, e.text, evals[f]) for e in examples if (f := fold(e.text)) in evals and f.count(" ") >= 2
    ]
    texts = [e.text for e in examples if e.source in WRITTEN_SOURCES] + [r.text for r in reply_examples()]
    # Two-word texts ("icy sidewalk", "still broken") are how anyone says it, not a copy.
    written = sorted({f: t for t in texts if (f := fold(t)).count(" ") >= 2}.items())
    keys = list(evals)
    near = []
    if written:
        scores = process.cdist(
            [f for f, _ in written],
            keys,
            scorer=fuzz.ratio,
            score_cutoff=args.cutoff,
            workers=-1,
            dtype="uint8",
        )
        for i, j in zip(*scores.nonzero(), strict=True):
            near.append((int(scores[i, j]), written[i][1], evals[keys[j]], keys[j]))
    for source, text, where in exact:
        print(f"EXACT  {source:12} {where:45} {text[:100]}")
    for score, text, where, other in sorted(near, reverse=True):
        print(f"NEAR {score:3} {where:45} {text[:100]}\n         {'':45} {other[:100]}")
    print(
        f"{len(examples)} training posts, {len(evals)} evaluation texts: {len(exact)} exact, {len(near)} near"
    )
    return 1 if exact or near else 0


if __name__ == "__main__":
    raise SystemExit(main())
