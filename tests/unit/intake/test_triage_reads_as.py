"""triage/reads_as.py: a request that reads as a question, a complaint or praise, in en/es/pt/ht."""

from __future__ import annotations

import pytest

from civictracker.triage.reads_as import asks_to_act, complaint_cue, is_question, reads_as
from civictracker.triage.text import model_text


@pytest.mark.parametrize(
    ("text", "question"),
    [
        ("how long until side streets get plowed?", True),
        ("@CambridgeMA is the snow emergency over yet?", True),
        ("¿cuándo van a limpiar las calles pequeñas?", True),
        ("quando vão limpar as ruas menores?", True),
        ("èske yo ap ranmase fatra a an reta?", True),
        ("main roads fine. why does our street get skipped?", True),
        ("can someone come plow our street?", False),  # a request put as a question
        ("could you please fix the streetlight on Elm St?", False),
        ("¿pueden venir a limpiar la acera?", False),
        ("vocês podem limpar a calçada?", False),
        ("nou ka vin netwaye lari a?", False),
        ("how long has this pothole been here", False),  # no question mark: not asking
        ("pothole on Elm St?", False),  # a question mark but no question opener
        ("¿la basura pasa mañana con la nieve?", True),  # Spanish marks a yes/no question with ¿
        ("alguém sabe se a coleta vai atrasar?", True),
        ("¿me pueden mandar una grúa?", False),
    ],
)
def test_a_question_asks_for_information(text: str, question: bool) -> None:
    assert is_question(model_text(text)) is question


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("you are completely useless, calling the mayor", "useless"),
        ("pagamos impuestos y nada, inaceptable", "pagamos impuestos"),
        ("a prefeitura não serve pra nada", "nao serve pra nada"),
        ("sa pa akseptab ditou", "pa akseptab"),
        ("our street hasn't been plowed at all, nobody can get out", None),  # a report with feeling
        # Spanish, Portuguese and Creole say what the English cues say (data/complaint_cues.txt)
        ("tercera vez que reporto y nadie hace nada", "nadie hace nada"),
        ("es una falta de respeto, llevamos días así", "falta de respeto"),
        ("hagan su trabajo de una vez", "hagan su trabajo"),
        ("estou cansado de esperar, ninguém resolve nada", "estou cansado de"),
        ("gracias por nada, alcaldía", "gracias por nada"),
        ("pagamos nossos impostos pra isso?", "pagamos nossos impostos"),
        ("mwen fatige rapòte menm bagay la", "mwen fatige rapote"),
        ("nou pa janm jwenn repons", "nou pa janm jwenn repons"),
        ("no hay luz en toda la calle desde anoche", None),  # the problem, not blame
        ("a rua está toda congelada, muito perigoso", None),
    ],
)
def test_a_complaint_blames_the_city(text: str, cue: str | None) -> None:
    assert complaint_cue(model_text(text)) == cue


def test_reading_order_complaint_then_question_then_praise() -> None:
    calm = {"question": 0.2, "praise": 0.2, "politics": 0.1}
    assert reads_as(model_text("useless city, why is nothing plowed?"), kind_probs=calm) == "complaint"
    assert reads_as(model_text("does the city clear sidewalks?"), kind_probs=calm) == "question"
    assert reads_as("thanks to the crews", kind_probs={"praise": 0.8, "politics": 0.1}) == "praise"
    assert reads_as("thanks, a tree is down", kind_probs={"praise": 0.8}, hazards=True) is None
    assert reads_as("this city used to be", kind_probs={"politics": 0.6, "praise": 0.1}) == "complaint"
    assert reads_as("pothole on Elm St", kind_probs={"politics": 0.3, "praise": 0.3}) is None


def test_a_non_request_keeps_only_a_question_or_complaint_reading() -> None:
    from civictracker.triage.classify import triage_text

    # The model reads this as news; the inbox rule must see the complaint (services/inbox_rules.py).
    angry = triage_text("es una falta de respeto, nadie contesta nunca")
    assert not angry.is_request and angry.reads_as == "complaint"
    assert "reads as a complaint" in angry.reasons
    thanks = triage_text("muchas gracias a los equipos que trabajaron toda la noche")
    assert not thanks.is_request and thanks.reads_as is None  # praise reaches a person by its kind


@pytest.mark.parametrize(
    ("text", "ask"),
    [
        ("Please come take the old fridge at the corner, thank you!", "please come"),
        ("We would love to have a bench by the bus stop. Thanks!", "we would love"),
        ("New paint on the crosswalk would be much appreciated", "would be much appreciated"),
        ("Do they have a permit for this? Third weekend of jackhammers", "do they have a permit"),
        ("I would like to thank the crew who came on Sunday", None),
        ("please follow back!!", None),
        ("Lovely day at the pond, thanks to everyone who came", None),
    ],
)
def test_an_ask_to_act_is_found(text: str, ask: str | None) -> None:
    assert asks_to_act(model_text(text)) == ask


def test_an_ask_to_act_is_request_evidence() -> None:
    from civictracker.triage import classify

    assert classify._request_evidence({}, "please fix") == classify.ASK_LOGIT > 0
    assert classify._request_evidence({}, None) == 0.0
    result = classify.triage_text("Please fill the leaf bags on our block. Much appreciated!")
    assert any(r.startswith("asks to act") for r in result.reasons) == result.is_request
