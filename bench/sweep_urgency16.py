"""Sweep the urgency head's cued and plain thresholds over the development sets, leave-one-set-out.

Usage: .venv/bin/python bench/sweep_urgency16.py [--fallback] [--danger] [--target R] [--errors CUED PLAIN]

Each development set (never a check or holdout split: those rows are dropped as the files are read) is
triaged once as its own evaluation script reads it, recording for each request the urgency head's
probability, whether a hazard pattern fired, whether a blocker vetoes the model, and the danger family the
post names (urgency_cues.py). The urgent flag is then recomputed for every (cued, plain) pair of thresholds:
  urgent = hazard or (not vetoed and p >= (cued if family else plain)).
Leave-one-set-out: for each set, the pair chosen on the other sets (the highest pooled precision among pairs
with recall >= 0.98 on each of them, ties to the higher thresholds) is scored on the set left out. With
--fallback (recall of the model path alone: every dev set is at whole-system recall 1.0 on main), the pair
with the highest model-path recall on the others whose whole-system precision stays >= PREC pooled and on
the others' resident streams (REALISTIC). --danger also lets the risk model's danger head vote on a family.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from civictracker.triage import classify  # noqa: E402
from civictracker.triage.urgency_cues import danger_family  # noqa: E402

B, T = ROOT / "bench" / "data", ROOT / "tests" / "data"
# name, file, the split kept (None: every row), scoring style (see _label).
SETS = [
    ("tune15", B / "urgency_tune15.jsonl", None, "challenge"),
    ("probe15", B / "urgency_probe15.jsonl", None, "challenge"),
    ("probe15b", B / "urgency_probe15b.jsonl", None, "challenge"),
    ("probe15c", B / "urgency_probe15c.jsonl", None, "challenge"),
    ("chal_tune", B / "urgency_challenge.jsonl", "tune", "challenge"),
    ("emerg_dev", T / "emergency_eval.jsonl", "dev", "emergency"),
    ("team_dev", T / "intake_dev.jsonl", "dev", "intake"),
    # (the another and third hands it was run with in session 16 are training rows since session 19)
    ("ninth_dev", T / "cambridge_ninth_hand.jsonl", "dev", "intake"),
]
# The sets written as a resident stream (most posts not urgent), unlike the probes (half urgent).
REALISTIC = ("team_dev", "ninth_dev")
CUED = [0.1, 0.15, 0.2, 0.25, 0.3, 0.33, 0.35, 0.4, 0.45, 0.5]
PLAIN = [0.5, 0.55, 0.6, 0.65, 0.7, 0.8]
# --fallback: recall counts only what the model catches (cued or plain), as if no hazard pattern fired. Every
# dev set's urgent posts are caught by patterns written from these very sets (recall 1.0 on main), so this is
# the honest proxy of what the model adds on a new hand's wording; precision stays the whole system's.
FALLBACK = False
# --danger: a post naming a family is urgent when the risk model's danger head flagged it too.
DANGER_VOTE = False
TARGET = 0.98
PREC = 0.85  # --fallback: the whole system's pooled precision the chosen pair must keep


def _rows(path: Path, split: str | None) -> list[dict]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            if split is None or row.get("split", "dev") == split:  # held-out rows are dropped unread
                rows.append(row)
    return rows


_seen: dict = {}
_original = classify._is_urgent


def _recording(post, service_code, reasons):  # type: ignore[no-untyped-def]
    hazards = post.hazards
    if service_code in classify.ROUTINE_SERVICES and hazards == [classify.SAYS_SO]:
        hazards = []
    _seen.update(
        p=float(post.p_urgent_model),
        hazard=bool(hazards),
        veto=classify.vetoes_urgency(post.mtext),
        family=danger_family(post.mtext),
        mtext=post.mtext,
    )
    return _original(post, service_code, reasons)


def features(name: str, path: Path, split: str | None, style: str) -> list[dict]:
    """One record per scored row: positive?, counts as a false alarm if flagged?, and the features."""
    classify._is_urgent = _recording
    out = []
    for row in _rows(path, split):
        channel = row.get("channel", "mention")
        if style == "intake" and channel == "reply":
            continue
        kind = channel if channel in {"mention", "dm", "reply"} else "mention"
        if style in ("challenge", "emergency"):
            kind = "mention"
        _seen.clear()
        result = classify.triage_text(row["text"], channel_kind=kind)
        pos = bool(row["emergency"] if style == "emergency" else row["urgent"])
        # intake: a false alarm is a non-urgent *labelled request* flagged urgent (eval_intake_cli.py).
        fa_ok = style != "intake" or bool(row["is_request"]) or name == "team_dev"
        danger = result.risk is not None and any(r.startswith("danger model") for r in result.risk.reasons)
        out.append(
            dict(
                id=row["id"],
                text=row["text"],
                pos=pos,
                fa=fa_ok,
                req=result.is_request,
                danger=danger,
                **_seen,
            )
        )
    classify._is_urgent = _original
    return out


def flagged(r: dict, cued: float, plain: float, hazard: bool = True) -> bool:
    if not r["req"]:
        return False
    if hazard and r["hazard"]:
        return True
    if DANGER_VOTE and r["family"] and r.get("danger") and not r["veto"]:
        return True
    return not r["veto"] and r["p"] >= (cued if r["family"] else plain)


def score(recs: list[dict], cued: float, plain: float) -> tuple[int, int, int]:
    tp = sum(r["pos"] and flagged(r, cued, plain, not FALLBACK) for r in recs)
    fp = sum((not r["pos"]) and r["fa"] and flagged(r, cued, plain) for r in recs)
    return tp, sum(r["pos"] for r in recs), fp


def score_full(recs: list[dict], cued: float, plain: float) -> tuple[int, int, int]:
    """The whole system's figures (hazard patterns included), whatever the mode."""
    tp = sum(r["pos"] and flagged(r, cued, plain) for r in recs)
    fp = sum((not r["pos"]) and r["fa"] and flagged(r, cued, plain) for r in recs)
    return tp, sum(r["pos"] for r in recs), fp


def fmt(tp: int, n: int, fp: int, full: tuple[int, int, int] | None = None) -> str:
    """Recall (of the model path with --fallback) and precision (always of the whole system)."""
    ptp = full[0] if full else tp
    return f"R {tp / n if n else 1:.3f} ({tp}/{n}) P {ptp / (ptp + fp) if ptp + fp else 1:.3f} fp={fp}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", nargs=2, type=float, metavar=("CUED", "PLAIN"))
    parser.add_argument("--fallback", action="store_true", help="recall of the model path alone")
    parser.add_argument("--danger", action="store_true", help="let the danger head vote on a named family")
    parser.add_argument("--target", type=float, default=0.98, help="recall each other set must reach")
    args = parser.parse_args()
    global FALLBACK, TARGET, DANGER_VOTE
    FALLBACK, TARGET, DANGER_VOTE = args.fallback, args.target, args.danger
    data = {name: features(name, path, split, style) for name, path, split, style in SETS}
    pairs = list(itertools.product(CUED, PLAIN))
    if args.errors:
        cued, plain = args.errors
        for name, recs in data.items():
            for r in recs:
                f = flagged(r, cued, plain)
                if f != r["pos"] and (r["pos"] or r["fa"]):
                    tag = "MISS " if r["pos"] else "FALSE"
                    print(
                        f"{tag} {name} {r['id']} p={r.get('p', 0):.2f} fam={r.get('family')} "
                        f"veto={r.get('veto')} req={r['req']} | {r['text'][:150]}"
                    )
        return
    print("set".ljust(12), "before (0.5/0.5)".ljust(34), "per pair chosen leaving it out")
    pooled_before = [0, 0, 0, 0]
    pooled_after = [0, 0, 0, 0]
    for name, recs in data.items():
        others = [r for other, rs in data.items() if other != name for r in rs]
        best = None
        for cued, plain in pairs:
            tp, n, fp = score(others, cued, plain)
            full = score_full(others, cued, plain)
            precision = full[0] / (full[0] + full[2]) if full[0] + full[2] else 1.0
            if FALLBACK:
                # The model path's recall on the others, while the whole system's precision stays >= PREC
                # pooled over the others AND over the others' realistic streams (few urgent posts among many).
                real = [r for other in REALISTIC if other != name for r in data[other]]
                rf = score_full(real, cued, plain)
                real_p = rf[0] / (rf[0] + rf[2]) if rf[0] + rf[2] else 1.0
                key = (min(precision, real_p) >= PREC, tp / n, precision, cued, plain)
            else:
                ok = all(
                    score(rs, cued, plain)[0] >= TARGET * score(rs, cued, plain)[1]
                    for other, rs in data.items()
                    if other != name
                )
                key = (ok, precision, tp, cued, plain)
            if best is None or key > best[0]:
                best = (key, cued, plain)
        assert best is not None
        _, cued, plain = best
        before, after = score(recs, 0.5, 0.5), score(recs, cued, plain)
        if FALLBACK:  # recall of the model path, precision of the whole system
            fb, fa = score_full(recs, 0.5, 0.5), score_full(recs, cued, plain)
            before, after = (before[0], before[1], before[2], fb), (after[0], after[1], after[2], fa)
        for acc, s in ((pooled_before, before), (pooled_after, after)):
            for i in range(3):
                acc[i] += s[i]
            acc[3] += s[3][0] if len(s) > 3 else s[0]  # type: ignore[misc]
        print(
            name.ljust(12),
            fmt(*before).ljust(34),
            f"({cued}/{plain}) {fmt(*after)}",
            "" if best[0][0] else "(no pair met the rule on the others)",
        )

    def pooled(acc: list[int]) -> str:
        return fmt(acc[0], acc[1], acc[2], (acc[3], acc[1], acc[2]))

    print("pooled".ljust(12), pooled(pooled_before).ljust(34), pooled(pooled_after))
    print("\ncurve (pooled over every set): cued/plain -> recall, precision, min recall of a set")
    allrecs = [r for rs in data.values() for r in rs]
    for cued, plain in pairs:
        tp, n, fp = score(allrecs, cued, plain)
        worst = min(score(rs, cued, plain)[0] / max(1, score(rs, cued, plain)[1]) for rs in data.values())
        full = score_full(allrecs, cued, plain)
        print(
            f"  {cued:.2f}/{plain:.2f}  {fmt(tp, n, fp)}  min set recall {worst:.3f}  whole system "
            f"{fmt(*full)}"
        )


if __name__ == "__main__":
    main()
