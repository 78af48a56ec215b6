"""The urgency head's cued threshold: a post naming a family of danger needs less from the model."""

from __future__ import annotations

import pytest

from civictracker.triage import classify
from civictracker.triage.classify import triage_text
from civictracker.triage.text import model_text
from civictracker.triage.urgency_cues import danger_family


@pytest.mark.parametrize(
    ("text", "family"),
    [
        ("weird smell like gas in the stairwell", "gas"),
        ("el detector de CO no deja de pitar", "gas"),
        ("se incendia la casa de al lado", "fire"),
        ("fios soltando faiscas na rua", "electric"),
        ("kid got his head stuck between the fence bars", "trapped"),
        ("old man went down on the sidewalk and he's not getting up", "injury"),
        ("the ceiling caved and people are inside", "collapse"),
        ("storm drain cover is missing, open drop in the crosswalk", "hole"),
        ("Yon tiyo dlo pete, lari a tounen yon rivyè", "water"),
        ("big oak down across Brattle St", "tree"),
        ("traffic lights at the corner are all out", "signal"),
        ("the gas lamps on Brattle are not lit", None),
        ("gas prices are a joke this week", None),
        ("broken sidewalk outside my house, my dad fell", None),
        ("can you fix the pothole on Elm St", None),
    ],
)
def test_danger_families_are_read_in_each_language(text: str, family: str | None) -> None:
    assert danger_family(model_text(text)) == family


def _pin_urgency_head(monkeypatch: pytest.MonkeyPatch, p: float) -> None:
    """Every post scores p on the urgency head (its other heads are left as they are)."""
    original = classify._read_posts

    def read(model, mtexts, catalog):  # type: ignore[no-untyped-def]
        posts = original(model, mtexts, catalog)
        for post in posts:
            post.p_urgent_model = p
        return posts

    monkeypatch.setattr(classify, "_read_posts", read)


def test_a_named_family_lowers_the_threshold_and_blockers_still_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    p = (classify.URGENT_MODEL_THRESHOLD_CUED + classify.URGENT_MODEL_THRESHOLD) / 2
    _pin_urgency_head(monkeypatch, p)
    # No hazard pattern knows this wording: only the family and the model make it urgent.
    named = triage_text("big crack running up the wall of the garage at 20 Elm St, getting wider")
    assert named.is_request and named.urgent, named
    assert f"urgent (model p={p:.2f}, names a danger: collapse)" in named.reasons, named
    plain = triage_text("the crosswalk paint on Elm St is so faded you cannot see it, please repaint")
    assert plain.is_request and not plain.urgent, plain
    # A blocker still vetoes the model's vote: a hazard that is over.
    over = triage_text("the tree that was down across Elm St was removed this morning, thanks")
    assert not over.urgent, over


def test_below_the_cued_threshold_a_named_family_is_not_enough(monkeypatch: pytest.MonkeyPatch) -> None:
    _pin_urgency_head(monkeypatch, classify.URGENT_MODEL_THRESHOLD_CUED - 0.01)
    low = triage_text("big crack running up the wall of the garage at 20 Elm St, getting wider")
    assert low.is_request and not low.urgent, low
