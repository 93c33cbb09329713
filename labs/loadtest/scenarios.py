"""Scenario names (what `invoke loadtest --scenario` takes) and the Locust user classes each runs.

Kept apart from locustfile.py so nothing here imports Locust (which monkey-patches the standard
library with gevent on import).
"""

from __future__ import annotations

from pathlib import Path

LOCUSTFILE = Path(__file__).with_name("locustfile.py")

# scenario -> user classes of locustfile.py (their `weight` sets the mix)
SCENARIOS: dict[str, tuple[str, ...]] = {
    "browse": ("BrowseUser",),
    "book": ("BookUser",),
    "mixed": ("BrowseUser", "BookUser"),
}


def user_classes(scenario: str) -> tuple[str, ...]:
    try:
        return SCENARIOS[scenario]
    except KeyError:
        raise ValueError(f"unknown scenario {scenario!r}; choose from "
                         f"{', '.join(SCENARIOS)}") from None


def locustfile_source() -> str:
    """The locustfile's text (the in-cluster ConfigMap carries it)."""
    return LOCUSTFILE.read_text()
