"""The triage training set: shipped templates expanded with a fixed seed, hand-written and real examples."""

from __future__ import annotations

import json
import random
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).with_name("data")
# The data files the examples are read from (their bytes are the model's training-inputs checksum).
TRAINING_FILES = (
    "templates.json",
    "handwritten.txt",
    "social_posts.jsonl",
    "drm_negatives.jsonl",
    "real_boston.jsonl",
    "reply_posts.jsonl",
    "cambridge_hands.jsonl",
)
SEED = 20240611
HAND_SOURCE = "cambridge-hand"  # the retired Cambridge hands' posts (fit.SOURCE_WEIGHT weighs them)

# How many filled-in variants each template yields. More variants of the English request templates
# because English dominates a Cambridge account's mentions; the others mostly teach vocabulary.
_VARIANTS = {"requests": 4, "urgent": 4, "nonrequests": 6}
_SLOT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Example:
    """One labelled training post."""

    text: str
    is_request: bool
    service_code: str | None  # for requests
    urgent: bool
    kind: str  # "request" or the kind of non-request
    lang: str
    # "template" | "handwritten" | "social" | "social-hazard" | "drm" | "boston-hand" | "boston-folder" |
    # "cambridge-hand"
    source: str
    # The emergency kinds of an urgent post, the one whose safety line comes first first (rules.HAZARD_KINDS;
    # empty: none, or not urgent). None where nobody wrote them down: those rows do not teach the hazard head.
    hazards: tuple[str, ...] | None = None


def _fill(template: str, slots: dict[str, list[str]], rng: random.Random) -> str:
    used: dict[str, str] = {}

    def pick(match: re.Match[str]) -> str:
        name = match.group(1)
        base = name.rstrip("23")  # {street2}, {street3} draw from "street", distinct from {street}
        pool = slots.get(base, [name])
        choice = rng.choice(pool)
        for _ in range(5):
            if choice not in used.values():
                break
            choice = rng.choice(pool)
        used[name] = choice
        return choice

    return _SLOT.sub(pick, template)


def _decorate(text: str, spec: dict, rng: random.Random, lang: str, *, request: bool = True) -> str:
    """Give a filled template the surface of a real post: mention prefix, tail, casing, spacing."""
    if lang == "en" or rng.random() < 0.5:
        text = rng.choice(spec["prefix"]) + text
    if rng.random() < 0.6:
        # Non-requests never get "please fix"-style tails: those words are request evidence.
        text = text + rng.choice(spec["suffix" if request else "nr_suffix"])
    roll = rng.random()
    if roll < 0.3:
        text = text.lower()
    elif roll < 0.4:
        text = text[:1].upper() + text[1:]
    elif roll < 0.45:
        text = text.upper()
    text = re.sub(r"\s+", " ", text).strip()
    return text.replace(" ,", ",").replace(" .", ".")


def _expand(spec: dict) -> list[Example]:
    rng = random.Random(SEED)
    slots = dict(spec["slots"], name=spec["names"])
    out: list[Example] = []
    for section in ("requests", "urgent"):
        for lang, by_service in spec[section].items():
            loc_forms = spec["loc"][lang]
            for code, templates in by_service.items():
                for template in templates:
                    for _ in range(_VARIANTS[section]):
                        loc = _fill(rng.choice(loc_forms), slots, rng)
                        body = _fill(template.replace("{loc}", loc), slots, rng)
                        text = _decorate(body, spec, rng, lang)
                        out.append(
                            Example(text, True, code, section == "urgent", "request", lang, "template")
                        )
    for lang, by_kind in spec["nonrequests"].items():
        for kind, templates in by_kind.items():
            for template in templates:
                for _ in range(_VARIANTS["nonrequests"]):
                    text = _decorate(_fill(template, slots, rng), spec, rng, lang, request=False)
                    out.append(Example(text, False, None, False, kind, lang, "template"))
    return out


def _handwritten(path: Path) -> list[Example]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, text = line.split("\t", 1)
        if label in _NON_REQUEST_KINDS:
            out.append(Example(text, False, None, False, label, "en", "handwritten"))
        else:
            out.append(
                Example(text, True, label.lstrip("!"), label.startswith("!"), "request", "en", "handwritten")
            )
    return out


_NON_REQUEST_KINDS = {"praise", "politics", "news", "question", "event", "spam", "chatter", "other"}


def _rows(path: Path) -> list[dict]:
    """The rows of a JSON-lines file, blank lines skipped."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _example(row: dict, source: str) -> Example:
    """A labelled post of a JSON-lines file (its own `source` wins over the file's)."""
    return Example(
        row["text"],
        bool(row["is_request"]),
        row.get("service_code"),
        bool(row.get("urgent", False)),
        row.get("kind", "request" if row["is_request"] else "other"),
        row.get("lang", "en"),
        row.get("source", source),
        tuple(row["hazards"]) if "hazards" in row else None,
    )


def _jsonl(path: Path, source: str) -> list[Example]:
    return [_example(row, source) for row in _rows(path)] if path.exists() else []


@dataclass(frozen=True)
class ReplyExample:
    """One labelled reply in a thread the city answered, and what the city had said."""

    text: str
    intent: str
    city_said: str
    lang: str
    writer: str  # who wrote it (the id's prefix): the combiner is fitted on scores from other writers' models


@lru_cache(maxsize=1)
def hand_rows() -> tuple[dict, ...]:
    """The retired Cambridge hands' rows (cambridge_hands.jsonl): posts and replies, each with its `hand`.
    Read once: the posts teach training_examples, the replies reply_examples."""
    return tuple(_rows(DATA_DIR / "cambridge_hands.jsonl"))


def hand_example(row: dict) -> Example:
    """A retired hand's post (a mention or DM) as a training example."""
    return _example(row, HAND_SOURCE)


@lru_cache(maxsize=1)
def reply_examples() -> tuple[ReplyExample, ...]:
    """The written replies the reply-intent head is fitted on, in file order: reply_posts.jsonl, then the
    replies of the retired Cambridge hands (cambridge_hands.jsonl; no city message was written for them)."""
    hand_replies = [r for r in hand_rows() if r["channel"] == "reply"]
    return tuple(
        ReplyExample(
            r["text"],
            r["reply_intent"],
            r.get("city_said", ""),
            r.get("lang", "en"),
            r["id"].rsplit("-", 1)[0],
        )
        for r in _rows(DATA_DIR / "reply_posts.jsonl") + hand_replies
    )


def _hand_posts() -> list[Example]:
    """The retired Cambridge hands' mentions and DMs; their replies: reply_examples."""
    return [hand_example(r) for r in hand_rows() if r["channel"] != "reply"]


@lru_cache(maxsize=1)
def training_examples() -> tuple[Example, ...]:
    """All training examples, in a fixed order (same list on every machine and every run)."""
    spec = json.loads((DATA_DIR / "templates.json").read_text(encoding="utf-8"))
    examples = _expand(spec)
    examples += _handwritten(DATA_DIR / "handwritten.txt")
    examples += _jsonl(DATA_DIR / "social_posts.jsonl", "social")
    examples += _jsonl(DATA_DIR / "drm_negatives.jsonl", "drm")
    examples += _jsonl(DATA_DIR / "real_boston.jsonl", "boston")
    examples += _hand_posts()
    return tuple(examples)
