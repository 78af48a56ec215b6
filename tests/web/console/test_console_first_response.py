"""The metrics page's first-response table: every post, by channel and by who answered first."""

from __future__ import annotations

import re

from console_helpers import logged_in

from tests.intake.helpers import deliver


def test_metrics_page_shows_first_response_by_channel_and_who(client, db) -> None:  # type: ignore[no-untyped-def]
    deliver("@CambridgeMA is the snow emergency over?")  # waiting for a person
    deliver("BUY FOLLOWERS cheap at spam.example http://x.co")  # decided by the system at once
    logged_in(client, db)
    html = client.get("/console/metrics?days=7").data.decode()
    section = html[html.index('id="first-response"') :]
    assert "2 post(s) received · 50% answered or decided within the target of 60 min" in section
    cells = [re.sub(r"<[^>]+>", "|", row) for row in re.findall(r"<tr[^>]*>(.*?)</tr>", section, re.S)]
    flat = ["|".join(part.strip() for part in c.split("|") if part.strip()) for c in cells]
    assert any(f.startswith("replay|system decision|1|0|0|100%") for f in flat), flat
    assert any(f.startswith("replay|none yet|1|0|0|0 past target") for f in flat), flat
    assert "replay|all|2|0|0|50%" in flat and "all|all|2|0|0|50%" in flat, flat
