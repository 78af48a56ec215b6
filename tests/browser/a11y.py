"""axe-core (vendored in axe-playwright-python, nothing fetched) run on a page the browser tests opened."""

from __future__ import annotations

from typing import Any

SERIOUS = ("serious", "critical")


def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical violations on the page as shown (WCAG 2.x A/AA and best practice),
    one line each: rule, impact, how many nodes, the first node's selector; [] when there are none."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"resultTypes": ["violations"]})
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") in SERIOUS:
            nodes = violation.get("nodes", [])
            first = nodes[0].get("target") if nodes else ""
            found.append(f"{violation['id']} ({violation['impact']}, {len(nodes)} nodes, e.g. {first})")
    return found
