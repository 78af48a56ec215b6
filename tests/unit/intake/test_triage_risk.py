"""The escalation signal: levels, reasons, reach, the stored model's freshness, and triage left unchanged."""

from __future__ import annotations

import pytest

from civictracker.triage.classify import triage_text
from civictracker.triage.risk import REACH_DEFAULTS, assess_risk, reach_thresholds
from civictracker.triage.risk_model import RISK_MODEL_PATH, risk_training_inputs
from civictracker.triage.store import inputs_sha256, read_header


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
