"""The escalation signal: levels, reasons, reach, the stored model's freshness, and triage left unchanged."""

from __future__ import annotations

import pytest

from civictracker.triage import risk as risk_module
from civictracker.triage.classify import triage_text
from civictracker.triage.risk import REACH_DEFAULTS, assess_risk, reach_thresholds
from civictracker.triage.risk_cues import danger_category
from civictracker.triage.risk_model import RISK_MODEL_PATH, risk_training_inputs
from civictracker.triage.risk_rules import hard_reasons, high_risk_reasons, soft_markers
from civictracker.triage.store import inputs_sha256, read_header
from civictracker.triage.text import model_text
from civictracker.triage.tone import marked_text, risk_text, tone_markers


@pytest.mark.parametrize(
    ("text", "level", "reason"),
    [
        (
            "I swear I will kill my neighbor if he blocks the driveway again",
            "high_risk",
            "threat of violence",
        ),
        ("I don't want to be alive anymore", "high_risk", "self-harm or suicide"),
        ("me quiero morir, ya no puedo más", "high_risk", "self-harm or suicide"),
        ("strong gas smell in the hallway of my building", "high_risk", "hazard: gas smell"),
        ("man with a gun outside the T station", "high_risk", "violence or weapon"),
        ("you lazy idiots, the trash has been here a week", "abusive", "abuse model"),
        ("fourth time reporting this pothole. ridiculous. nobody cares", "angry", "anger model"),
        ("thanks for fixing the streetlight so fast!", "none", None),
        ("dead rat on the sidewalk on Windsor St", "none", None),
    ],
)
def test_levels_and_reasons(text: str, level: str, reason: str | None) -> None:
    risk = assess_risk(text, lang="en")
    assert risk.level == level, risk
    if reason is not None:
        assert any(r.startswith(reason) for r in risk.reasons), risk.reasons
    assert 0.0 <= risk.score <= 1.0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # data/high_risk_cues.tsv: each language names the same dangers as English, as rules
        ("ya no quiero vivir, perdónenme", "self-harm or suicide"),
        ("não quero mais viver", "self-harm or suicide"),
        ("mwen vle mouri, pa gen moun ki tande m", "self-harm or suicide"),
        ("nou kwense nan asansè a", "people trapped"),
        ("la cocina está en llamas", "fire or smoke"),
        ("o prédio está em chamas", "fire or smoke"),
        ("mi abuela está inconsciente en el piso", "someone hurt or unwell"),
        ("rele anbilans, li pa respire", "someone hurt or unwell"),
        ("families stranded on their roofs by the flood", "people harmed or in danger"),
        ("mi vecino me amenazó con un cuchillo", "threat of violence"),
        ("ele me ameaçou na frente do prédio", "threat of violence"),
    ],
)
def test_safety_words_of_every_language_are_high_risk_rules(text: str, reason: str) -> None:
    risk = assess_risk(text, lang="und")
    assert risk.level == "high_risk", risk
    assert any(r.startswith(reason) for r in risk.reasons), risk.reasons


def test_reach_escalates_with_its_reason_without_changing_the_level() -> None:
    calm = "when is yard waste pickup on Elm St?"
    assert not assess_risk(calm, lang="en", followers=REACH_DEFAULTS["followers"] - 1).escalate
    risk = assess_risk(calm, lang="en", followers=50_000, engagement={"replies": 300, "likes": 3})
    assert risk.level == "none" and risk.escalate and risk.priority == 1
    assert risk.reach == ["account with 50,000 followers (>= 10,000)", "going viral: 300 replies (>= 25)"]
    angry = assess_risk("third week no pickup, this is a disgrace, do your job", lang="en")
    assert angry.priority > risk.priority


def test_city_pack_overrides_the_thresholds() -> None:
    limits = reach_thresholds({"escalation": {"followers": 500, "unknown": 1}})
    assert (
        limits["followers"] == 500 and limits["likes"] == REACH_DEFAULTS["likes"] and "unknown" not in limits
    )
    assert assess_risk("hello", lang="en", followers=600, thresholds=limits).reach


def test_triage_carries_the_risk_and_keeps_its_decision() -> None:
    result = triage_text("you idiots still haven't plowed Hampshire St", followers=20_000)
    assert result.is_request and result.service_code == "snow_ice"
    assert result.risk is not None and result.risk.level in ("angry", "abusive") and result.risk.reach


def test_shipped_model_is_current() -> None:
    header = read_header(RISK_MODEL_PATH)
    assert header["training_inputs"]["sha256"] == inputs_sha256(risk_training_inputs()), "run make risk-model"


@pytest.mark.parametrize(
    ("text", "marks"),
    [
        ("FIX THIS ROAD NOW!!!", {"zzshout", "zzbang"}),
        ("you lazy idiots never answer", {"zzinsult", "zzaimed"}),
        ("the bins were missed again", {"zzrepeat"}),
        ("eres un idiota", {"zzinsult", "zzaimed"}),
        ("que vergonha, ninguém faz nada", {"zzanger"}),
        ("sa se yon wont, pèsonn pa fè anyen", {"zzanger"}),
        ("holy shit the fireworks", {"zzprofanity"}),
        ("donations for the damnificados at the church", set()),  # "damn" inside a word is not swearing
        ("thanks for the new bench", set()),
    ],
)
def test_tone_markers_read_typography_and_words_of_every_language(text: str, marks: set[str]) -> None:
    assert set(tone_markers(text)) == marks


def test_the_model_reads_at_run_time_the_form_it_was_fitted_on() -> None:
    # risk_fit fits on tone.risk_text(); assess_risk builds the same words from its own rule pass.
    text = "Three people KILLED in the FIRE!!! you idiots"
    mtext = model_text(text)
    rules = high_risk_reasons(mtext)
    assert risk_text(text) == marked_text(mtext, tone_markers(text, mtext) + soft_markers(rules))
    assert soft_markers(rules) == ["zzharmed"] and "zzshout" in risk_text(text)


def test_soft_rules_are_weighed_by_the_model_hard_rules_decide(monkeypatch: pytest.MonkeyPatch) -> None:
    # A death named in sympathy is a soft rule: only the danger head can make it high risk; a threat is a
    # hard rule and stays high risk whatever the model says.
    sympathy = "praying for the families of those who died"
    reasons = high_risk_reasons(model_text(sympathy))
    assert reasons and not hard_reasons(reasons)
    assert hard_reasons(high_risk_reasons(model_text("I will kill you")))
    monkeypatch.setattr(risk_module, "DANGER_THRESHOLD", 1.01)  # a danger head that never fires
    monkeypatch.setattr(risk_module, "DANGER_THRESHOLD_CUED", 1.01)
    assert assess_risk(sympathy, lang="en").level != "high_risk"
    threat = assess_risk("I will kill you", lang="en")
    assert threat.level == "high_risk" and threat.reasons[0].startswith("threat of violence")


def test_anger_without_swear_words_and_swearing_without_anger() -> None:
    angry = assess_risk("third time reporting this streetlight and still nothing, unacceptable", lang="en")
    assert angry.level == "angry", angry
    assert assess_risk("holy shit that thunder last night, everyone ok here", lang="en").level == "none"


def test_spam_is_escalated_by_the_hard_rules_only() -> None:
    ad = "GET 5000 FOLLOWERS NOW!!! storm sale, dm us"
    assert assess_risk(ad, lang="en", kind="spam").level == "none"
    threat = assess_risk("buy followers or I will kill you", lang="en", kind="spam")
    assert threat.level == "high_risk" and threat.reasons[0].startswith("threat of violence")


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("three people killed and dozens injured", "casualties"),
        ("families trapped under the rubble", "trapped"),
        ("residents told to evacuate as the river rises", "evacuation"),
        ("incendio forestal avanza hacia las casas", "fire"),
        ("enchente deixa bairro alagado", "water"),
        ("dlo monte nan katye a", "water"),
        ("dlo ap monte nan lari a", "water"),
        ("fil kouran tonbe nan lari a", "collapse"),
        ("the snow emergency parking ban ends at 6", None),
        ("where is the nearest warming shelter open tonight?", None),
        ("can you fix the pothole on Elm St", None),
    ],
)
def test_danger_categories_are_read_in_each_language(text: str, category: str | None) -> None:
    assert danger_category(model_text(text)) == category


def test_a_post_naming_no_danger_needs_the_higher_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    # The same danger probability flags a post that names a danger category and not one that names none.
    monkeypatch.setattr(risk_module, "DANGER_THRESHOLD_CUED", 0.0)
    monkeypatch.setattr(risk_module, "DANGER_THRESHOLD", 1.01)
    cued = assess_risk("smoke coming from the roof of the school", lang="en")
    assert cued.level == "high_risk" and cued.reasons[-1].endswith("names fire"), cued
    assert assess_risk("built a snowman in the yard, the kids are thrilled", lang="en").level != "high_risk"
    monkeypatch.setattr(risk_module, "DANGER_THRESHOLD", 0.0)
    assert assess_risk("built a snowman in the yard, the kids are thrilled", lang="en").level == "high_risk"
