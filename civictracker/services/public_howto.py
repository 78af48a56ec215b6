"""How a resident reports a problem: one sentence per channel the city pack names (its accounts, Open311)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

_HANDLE_RE = re.compile(r"^@?([A-Za-z0-9_.]{1,64})(?:@([A-Za-z0-9.-]{1,253}))?$")


@dataclass(frozen=True)
class ReportWay:
    """One way to report: the channel's name, the account or address to use, and one sentence."""

    channel: str  # x | mastodon | dm | open311
    title: str
    account: str  # "@CambridgeMA", "@cambridgema@mastodon.social", or the Open311 address
    sentence: str
    link: str = ""  # the account's page, or the Open311 discovery document


def _handle(raw: Any) -> tuple[str, str] | None:
    """(name, instance or "") of an account as a pack writes it ("CambridgeMA", "@c@mastodon.social")."""
    if not isinstance(raw, str):
        return None
    m = _HANDLE_RE.match(raw.strip())
    return (m.group(1), m.group(2) or "") if m else None


def ways_to_report(
    meta: dict[str, Any], *, city_name: str, public_url: str, mastodon_base_url: str = "", open311_path: str
) -> list[ReportWay]:
    """The channels the pack's `account_handles` names, then Open311 (always served); never a hard-coded
    account. `mastodon_base_url` gives a Mastodon handle without its instance the server it lives on."""
    handles = meta.get("account_handles") if isinstance(meta.get("account_handles"), dict) else {}
    assert isinstance(handles, dict)
    ways: list[ReportWay] = []
    x = _handle(handles.get("x"))
    if x:
        at = f"@{x[0]}"
        ways.append(
            ReportWay(
                "x",
                "On X",
                at,
                f"Post a message that mentions {at}, saying what is wrong and where (an address or two "
                "streets that meet); you get the report number and every update in your thread.",
                f"https://x.com/{x[0]}",
            )
        )
    masto = _handle(handles.get("mastodon"))
    instance = ""
    if masto:
        instance = masto[1] or (urlsplit(mastodon_base_url).hostname or "")
        at = f"@{masto[0]}@{instance}" if instance else f"@{masto[0]}"
        ways.append(
            ReportWay(
                "mastodon",
                "On Mastodon",
                at,
                f"Mention {at} in a post with what is wrong and where; the answer and updates come as "
                "replies to it.",
                f"https://{instance}/@{masto[0]}" if instance else "",
            )
        )
    if x or masto:
        names = " or ".join(
            n for n in (f"@{x[0]} on X" if x else "", f"@{masto[0]} on Mastodon" if masto else "") if n
        )
        ways.append(
            ReportWay(
                "dm",
                "By private message",
                names,
                f"Send a direct message to {names}: your words and your name are never shown in public, and "
                "a report at a home address appears on this map only at block level.",
            )
        )
    base = public_url.rstrip("/")
    ways.append(
        ReportWay(
            "open311",
            "With a 311 app",
            f"{base}{open311_path}",
            f"Any app that speaks Open311 GeoReport v2 can send reports to {city_name}: point it at "
            f"{base}{open311_path} (its services are listed in discovery.json there).",
            f"{base}{open311_path}discovery.json",
        )
    )
    return ways
