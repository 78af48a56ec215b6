"""The evaluation commands: `geocode --jsonl` and `triage --jsonl` answer every line, bad ones with a reason."""

from __future__ import annotations

import json

from civictracker.cli.commands import civictracker_cli

LINES = "\n".join(
    [
        '{"id": 1, "text": "pothole cor of hampshire & windsor"}',
        "not json",
        "[1, 2]",
        '{"id": 4, "text": 5}',
        '{"id": 5, "text": "still broken", "channel": "reply", "geotag": {"lat": 42.37}}',
    ]
)


def _run(app, *args: str) -> list[dict]:  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(civictracker_cli, list(args), input=LINES + "\n")
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines() if line.startswith("{")]


def test_geocode_jsonl(app) -> None:  # type: ignore[no-untyped-def]
    out = _run(app, "geocode", "--jsonl")
    assert len(out) == 5
    assert (
        out[0]["id"] == 1
        and out[0]["precision"] == "intersection"
        and out[0]["matched"] == "Hampshire St & Windsor St"
    )
    assert out[1]["lat"] is None and "line 2: not a JSON object" in out[1]["reason"]
    assert "line 3: each line must be a JSON object" in out[2]["reason"]
    assert out[3]["reason"] == "text must be a string"


def test_triage_jsonl(app) -> None:  # type: ignore[no-untyped-def]
    out = _run(app, "triage", "--jsonl")
    assert len(out) == 5
    assert (
        out[0]["is_request"] and out[0]["service_code"] == "pothole" and out[0]["precision"] == "intersection"
    )
    assert out[1]["error"].startswith("line 2") and out[2]["error"].startswith("line 3")
    assert out[3]["error"] == "line 4: text must be a string"
    assert out[4]["reply_intent"] == "still_broken"  # a half geotag is ignored, not a crash


def test_triage_jsonl_answers_in_order_across_batches(app, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from civictracker.triage import classify

    monkeypatch.setattr(classify, "TRIAGE_BATCH", 2)  # the bad lines fall inside and across batches
    out = _run(app, "triage", "--jsonl")
    assert [o.get("id") for o in out] == [1, None, None, None, 5]
    assert out[0]["service_code"] == "pothole" and out[3]["error"] == "line 4: text must be a string"
    assert out[4]["reply_intent"] == "still_broken"
