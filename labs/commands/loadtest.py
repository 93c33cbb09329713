"""`invoke loadtest`: Locust against the learner's API, with report, charts and SLO verdict."""

from __future__ import annotations

import re

from rich.console import Console

from labs.loadtest.runner import LoadTestError, report_dir, run_local
from labs.loadtest.summary import slo_for_lesson, slo_table, summary_table
from labs.names import default_learner

console = Console(stderr=True)


def seconds(text: str) -> int:
    """'90', '90s', '2m', '1h' -> seconds."""
    match = re.fullmatch(r"(\d+)([smh]?)", text.strip())
    if not match:
        raise ValueError(f"--duration {text!r}: use a number of seconds, or 30s, 2m, 1h")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def run(*, target: str, learner: str | None, lesson: int, users: int, spawn_rate: float,
        duration: str, scenario: str) -> int:
    try:
        out = report_dir(learner or default_learner())
        with console.status(f"{users} users against {target} for {duration} ..."):
            result = run_local(target, users, spawn_rate, seconds(duration), scenario, out,
                               slo=slo_for_lesson(lesson))
    except (LoadTestError, ValueError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    console.print(summary_table(result.summary))
    if result.slo is not None:
        console.print(slo_table(result.slo))
    console.print(f"report: {result.html}")
    return 0 if result.slo is None or result.slo.passed else 1
