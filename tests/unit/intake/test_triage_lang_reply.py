"""Language detection, opt-out detection and reply intent."""

from __future__ import annotations

import pytest

from civictracker.intake.triage import classify_reply, detect_language, is_opt_out


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("the streetlight on my street is out again", "en"),
        ("hay un bache enorme en la calle, por favor arréglenlo", "es"),
        ("não recolheram o lixo na minha rua ainda", "pt"),
        ("gen yon gwo twou nan lari a, tanpri ranje l", "ht"),
        ("mèsi anpil", "ht"),
        ("muchas gracias", "es"),
        ("obrigado!", "pt"),
        ("👍", "und"),
        ("https://t.co/abc", "und"),
        ("", "und"),
        ("Ingat kayo lahat dyan sa Maynila, mag-ingat po tayo palagi", "und"),
    ],
)
def test_detect_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["STOP", "stop", "Unsubscribe", "unsubscribe please", "PARA", "pare", "sispann",
                                  "@CambridgeMA stop", "stop messaging me"])  # fmt: skip
def test_opt_outs(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize("text", ["stop sign down on Walden St", "para la basura en mi calle", "pare de jogar lixo aqui",
                                  "please stop the trucks idling at 5am on Binney", ""])  # fmt: skip
def test_not_opt_outs(text: str) -> None:
    assert not is_opt_out(text)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("still not plowed", "still_broken"),
        ("nope, still there", "still_broken"),
        ("you marked it resolved but the light is still out", "still_broken"),
        ("todavía no han venido", "still_broken"),
        ("ainda não consertaram", "still_broken"),
        ("li toujou la", "still_broken"),
        ("it's fixed, thanks!", "fixed_confirmed"),
        ("power is back, thank you", "fixed_confirmed"),
        ("ya lo arreglaron, gracias", "fixed_confirmed"),
        ("corner of Hampshire and Windsor", "location_clarification"),
        ("it's at 150 Hampshire St", "location_clarification"),
        ("Magazine St at Putnam Ave", "location_clarification"),
        ("en la esquina de Cambridge St y Prospect St", "location_clarification"),
        ("thank you!", "thanks"),
        ("mèsi", "thanks"),
        ("how long will it take?", "other"),
        ("", "other"),
    ],
)
def test_classify_reply(text: str, intent: str) -> None:
    got, reasons = classify_reply(text)
    assert got == intent, (got, reasons)
    assert reasons
