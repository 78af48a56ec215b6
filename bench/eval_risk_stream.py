"""How often escalation fires on an ordinary stream of posts: a high-risk flag on everything is no signal.

Usage: PYTHONPATH=. .venv/bin/python bench/eval_risk_stream.py

bench/eval_risk.py scores the escalation signal on sets rich in danger and anger (most of their posts are
chosen for it), so its precision says little about a day of ordinary posts. Two ordinary streams here:
- Real: the triage test split of hand-labelled Boston 311 descriptions (bench/data/real_boston_test.jsonl;
  written by residents, drawn at random from the "Other" folder plus the "Unsafe Dangerous" rows, labelled
  `urgent` when the text reports an immediate danger to people: LABELLING.md in bench/data/boston_labels/).
  Its `urgent` label is the nearest thing to high risk a 311 stream has (threats and self-harm are rare in
  it), so the figure is the share flagged high risk and its precision and recall against `urgent`, apart for
  the random "Other" rows (the natural mix) and the "Unsafe Dangerous" folder.
- Written: the storm-day replay (bench/data/storm_day.jsonl) by gold kind: chatter, praise, spam and
  questions should almost never be high risk.
Neither set may be used to tune the risk thresholds or rules (they are tuned on eval_risk.py's dev split).
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.eval_real import read_jsonl  # noqa: E402
from civictracker.triage.classify import triage_text  # noqa: E402

BOSTON_TEST = ROOT / "bench" / "data" / "real_boston_test.jsonl"
STORM_DAY = ROOT / "bench" / "data" / "storm_day.jsonl"


def level_of(text: str, channel_kind: str = "mention") -> str:
    """The escalation level triage gives the post, as intake stores it."""
    risk = triage_text(text, channel_kind=channel_kind).risk
    return risk.level if risk is not None else "none"


def boston_figures() -> None:
    rows = [r for r in read_jsonl(BOSTON_TEST) if r.get("source") == "boston-hand"]
    print(
        f"Real Boston 311 descriptions ({BOSTON_TEST.name}, hand-labelled rows), high risk against `urgent`:"
    )
    for folder in sorted({r["folder"] for r in rows}):
        part = [r for r in rows if r["folder"] == folder]
        levels = [level_of(r["text"]) for r in part]
        flagged = [lv == "high_risk" for lv in levels]
        urgent = [bool(r.get("urgent")) for r in part]
        both = sum(f and u for f, u in zip(flagged, urgent, strict=True))
        n_flag, n_urgent = sum(flagged), sum(urgent)
        counts = Counter(levels)
        print(
            f"  {folder:18} n={len(part):5}  flagged high risk {n_flag:4} = {100 * n_flag / len(part):5.1f}%"
            f"  (urgent {n_urgent:3} = {100 * n_urgent / len(part):4.1f}%)"
            f"  precision {both / n_flag if n_flag else 0:.2f}  recall {both / n_urgent if n_urgent else 0:.2f}"
            f"  angry {counts['angry']}  abusive {counts['abusive']}"
        )


def storm_figures() -> None:
    cells: dict[str, Counter[str]] = defaultdict(Counter)
    for row in read_jsonl(STORM_DAY):
        cells[row["expect"]][level_of(row["text"], "dm" if row.get("kind") == "dm" else "mention")] += 1
    print(f"Storm day ({STORM_DAY.name}), escalation level by gold kind:")
    levels = ("high_risk", "abusive", "angry", "none")
    print(f"  {'gold kind':10}" + "".join(f"{lv:>11}" for lv in levels) + f"{'high risk':>11}")
    for kind in sorted(cells):
        row, total = cells[kind], sum(cells[kind].values())
        share = f"{100 * row['high_risk'] / total:.1f}%"
        print(f"  {kind:10}" + "".join(f"{row[lv]:>11}" for lv in levels) + f"{share:>11}")


def main() -> None:
    boston_figures()
    storm_figures()


if __name__ == "__main__":
    main()
