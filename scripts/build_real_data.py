"""Build the real labelled triage data from Boston's Open311 descriptions (public domain) and the labels.

Usage: .venv/bin/python scripts/build_real_data.py [--labels DIR]

Inputs (read-only): ../shared/data/boston_open311_text/*.jsonl.gz, and the hand labels in
bench/data/boston_labels/labels_*.tsv (ID<TAB>LABEL<TAB>URGENT; see LABELLING.md beside them).
Outputs:
  civictracker/triage/data/real_boston.jsonl  the training split (shipped; the model is fitted on it)
  bench/data/real_boston_test.jsonl            the test split (never trained or tuned on)
  civictracker/triage/data/drm_negatives.jsonl real non-requests from Disaster Response Messages (CC BY 4.0),
                                               drawn from its validation file only: bench/eval_real.py
                                               evaluates on its test file
The split is fixed by a hash of the Boston case id, so it is the same on every machine and every run, and
a row never moves between splits when more labels are added. Batches from labels_13.tsv on
(FIRST_TRAIN_ONLY_BATCH) were drawn from cases outside the test split and go to training whatever their
hash, so adding them leaves bench/data/real_boston_test.jsonl byte-identical.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import random
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# ../shared/data beside the checkout; CIVICTRACKER_SHARED_DATA points elsewhere (a git worktree, say).
SHARED = Path(os.environ.get("CIVICTRACKER_SHARED_DATA", ROOT.parent / "shared" / "data"))
SOURCE = SHARED / "boston_open311_text"
LABELS = ROOT / "bench" / "data" / "boston_labels"
TRAIN_OUT = ROOT / "civictracker" / "triage" / "data" / "real_boston.jsonl"
TEST_OUT = ROOT / "bench" / "data" / "real_boston_test.jsonl"

CODES = {
    "snow_ice", "pothole", "streetlight", "traffic_signal", "trash", "illegal_dumping", "graffiti", "tree",
    "flooding", "water_sewer", "sidewalk", "abandoned_vehicle", "noise", "rodents", "power_outage", "other",
}  # fmt: skip
# Boston's own labelled folders, mapped to the Cambridge catalog (illegal parking has no code of its own).
FOLDERS = {
    "sidewalk_not_shoveled": "snow_ice",
    "abandoned_vehicle": "abandoned_vehicle",
    "illegal_parking": "other",
}
FOLDER_TRAIN, FOLDER_TEST = 700, 250
TEST_SHARE = 0.35
# Label batches numbered from here on are training-only (drawn after the test split was fixed).
FIRST_TRAIN_ONLY_BATCH = 13
DRM_DIR = SHARED / "disaster_response_messages"
DRM_OUT = ROOT / "civictracker" / "triage" / "data" / "drm_negatives.jsonl"
DRM_NEWS = 2000
# Form fields whose values are the resident's words; the rest (City Owned: No, plate state...) is form noise.
_FREE_FIELDS = re.compile(
    r"^(?:emergency condition|details|additional details/comments|description of the problem|"
    r"exact location|specific location|please provide details)$",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")


EMERGENCY_EVAL = ROOT / "tests" / "data" / "emergency_eval.jsonl"


@cache
def _emergency_eval_ids() -> frozenset[str]:
    """Boston case ids that bench/eval_emergency.py scores: they never train."""
    if not EMERGENCY_EVAL.exists():
        return frozenset()
    rows = map(json.loads, EMERGENCY_EVAL.read_text(encoding="utf-8").splitlines())
    sources = [r.get("source", "") for r in rows]
    return frozenset(s.split(":", 1)[1] for s in sources if s.startswith("boston"))


def in_test(case_id: str) -> bool:
    """The fixed split: a case is in the test split when its id hashes below TEST_SHARE, or when another
    evaluation set scores it."""
    if case_id in _emergency_eval_ids():
        return True
    digest = hashlib.sha256(f"real-boston:{case_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < TEST_SHARE


def deform(text: str) -> str:
    """Free text of a description: a form's field names dropped, the resident's own values kept."""
    text = _SPACE.sub(" ", text).strip()
    if " | " not in text and not re.match(r"^[A-Z][\w /]{3,40}: ", text):
        return text
    kept = []
    for part in text.split(" | "):
        name, sep, value = part.partition(": ")
        if not sep:
            kept.append(part)
        elif _FREE_FIELDS.match(name.strip().lstrip("[")):
            kept.append(value.strip(" []"))
    return ". ".join(v for v in kept if v).strip()


def _read(folder: str) -> dict[str, dict]:
    with gzip.open(SOURCE / f"{folder}.jsonl.gz", "rt", encoding="utf-8") as fh:
        return {row["id"]: row for row in map(json.loads, fh)}


def _row(case: dict, code: str | None, urgent: bool, labelled_by: str, folder: str) -> dict:
    is_request = code is not None
    return {
        "id": f"bos-{case['id']}",
        "text": deform(case["description"]),
        "is_request": is_request,
        "service_code": code,
        "urgent": urgent and is_request,
        "kind": "request" if is_request else "other",
        "lang": "en",
        "source": f"boston-{labelled_by}",
        "folder": folder,
    }


def batch_number(path: Path) -> int:
    """The N of labels_N.tsv."""
    return int(path.stem.rsplit("_", 1)[1])


def train_only_ids(labels_dir: Path) -> frozenset[str]:
    """Case ids of the training-only batches (labels_13.tsv on): never in the test split."""
    ids = set()
    for path in labels_dir.glob("labels_*.tsv"):
        if batch_number(path) >= FIRST_TRAIN_ONLY_BATCH:
            ids.update(
                line.split("\t", 1)[0] for line in path.read_text(encoding="utf-8").splitlines() if line
            )
    return frozenset(ids)


def hand_rows(labels_dir: Path) -> list[dict]:
    cases = {**_read("other"), **_read("unsafe_dangerous")}
    rows = []
    for path in sorted(labels_dir.glob("labels_*.tsv")):
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            case_id, label, urgent = line.split("\t")
            if label not in CODES and label != "not_request":
                raise SystemExit(f"{path.name}:{n}: unknown label {label!r}")
            case = cases[case_id]
            code = None if label == "not_request" else label
            rows.append(_row(case, code, urgent == "1", "hand", case["folder"]))
    return rows


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.casefold()))


def split_hand_rows(rows: list[dict], train_only: frozenset[str]) -> tuple[list[dict], list[dict]]:
    """Hand-labelled rows -> (train, test) by the hash split; training-only cases always train."""
    is_test = [in_test(r["id"][4:]) and r["id"][4:] not in train_only for r in rows]
    return (
        [r for r, t in zip(rows, is_test, strict=True) if not t],
        [r for r, t in zip(rows, is_test, strict=True) if t],
    )


def folder_rows(taken: set[str]) -> tuple[list[dict], list[dict]]:
    """Free-text rows of Boston's labelled folders, with Boston's label: FOLDER_TRAIN/FOLDER_TEST each."""
    train, test = [], []
    for folder, code in FOLDERS.items():
        cases = [c for c in _read(folder).values() if f"bos-{c['id']}" not in taken]
        random.Random(f"folder:{folder}").shuffle(cases)
        seen: set[str] = set()
        n_train = n_test = 0
        for case in cases:
            row = _row(case, code, False, "folder", folder)
            key = row["text"].lower()
            if len(row["text"]) < 8 or key in seen:
                continue
            seen.add(key)
            if in_test(case["id"]):
                if n_test < FOLDER_TEST:
                    test.append(row)
                    n_test += 1
            elif n_train < FOLDER_TRAIN:
                train.append(row)
                n_train += 1
            if n_train >= FOLDER_TRAIN and n_test >= FOLDER_TEST:
                break
    return train, test


def drm_non_request(row: dict[str, str]) -> str | None:
    """The kind of a Disaster Response message that is no request ("news", "chatter"), else None.

    Unrelated messages and news reports are clean non-requests; the dataset's direct messages marked
    related but not "request" often still ask for food or water, so they are left out.
    """
    if row["related"] == "0":
        return "news" if row["genre"] == "news" else "chatter"
    if row["genre"] == "news" and row["request"] == "0" and row["direct_report"] == "0":
        return "news"
    return None


def write_drm_negatives() -> None:
    import csv

    with open(DRM_DIR / "disaster_response_validation.csv", encoding="utf-8", newline="") as fh:
        rows = [(r, drm_non_request(r)) for r in csv.DictReader(fh)]
    rows = [(r, kind) for r, kind in rows if kind and 20 <= len(r["message"]) <= 300]
    news = [x for x in rows if x[1] == "news"]
    chatter = [x for x in rows if x[1] == "chatter"]
    news = random.Random(7).sample(news, min(DRM_NEWS, len(news)))
    with open(DRM_OUT, "w", encoding="utf-8") as out:
        for r, kind in sorted(news + chatter, key=lambda x: int(x[0]["id"])):
            out.write(json.dumps({"id": f"drm-{r['id']}", "text": r["message"], "is_request": False,
                                  "kind": kind, "lang": "en"}, ensure_ascii=False) + "\n")  # fmt: skip
    print(f"wrote {len(news)} news + {len(chatter)} other non-requests to {DRM_OUT.relative_to(ROOT)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    args = parser.parse_args()
    hand = [r for r in hand_rows(args.labels) if len(r["text"]) >= 3]
    folder_train, folder_test = folder_rows({r["id"] for r in hand})
    hand_train, hand_test = split_hand_rows(hand, train_only_ids(args.labels))
    test = hand_test + folder_test
    # A description typed word for word in a test case too ("Missed trash pick-up", "Blocked driveway") is
    # left out of training, so the test split scores no text the model was fitted on.
    test_texts = {_words(r["text"]) for r in test}
    train = [r for r in hand_train + folder_train if _words(r["text"]) not in test_texts]
    write_drm_negatives()
    TEST_OUT.parent.mkdir(parents=True, exist_ok=True)
    for path, rows in ((TRAIN_OUT, train), (TEST_OUT, test)):
        with open(path, "w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"wrote {len(rows)} rows to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
