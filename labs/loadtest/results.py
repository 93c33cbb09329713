"""The report of one run, from Locust's CSV files in its directory: shared by every way of running.

Both the local runner (Locust on this machine) and the in-cluster run (CSV files read back
from the Job's log) leave `locust_*.csv` in reports/<learner>/<timestamp>/ and call
`write_report`, which adds the summary, charts, HTML page, summary.json and the SLO verdict.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from labs.loadtest.charts import render_charts
from labs.loadtest.replicas import ReplicaHistory
from labs.loadtest.report import render_html
from labs.loadtest.summary import Slo, SloResult, Summary, check_slo, parse

CSV_PREFIX = "locust"


class LoadTestError(RuntimeError):
    """The load test could not run or produced no usable results."""


@dataclass(frozen=True)
class RunSettings:
    """What was run: the report's header and summary.json say the same."""

    target_url: str
    scenario: str
    users: int
    spawn_rate: float
    duration_s: int


@dataclass(frozen=True)
class RunResult:
    out_dir: Path
    target_url: str
    scenario: str
    users: int
    spawn_rate: float
    duration_s: int
    returncode: int
    summary: Summary
    charts: dict[str, Path]
    html: Path
    locust_html: Path | None  # Locust's own page: local runs only
    slo: SloResult | None = None
    files: dict[str, Path] = field(default_factory=dict)
    replicas: ReplicaHistory | None = None

    @property
    def stats_csv(self) -> Path:
        return self.out_dir / f"{CSV_PREFIX}_stats.csv"

    @property
    def history_csv(self) -> Path:
        return self.out_dir / f"{CSV_PREFIX}_stats_history.csv"


def report_dir(learner: str, root: Path | str = "reports", when: datetime | None = None) -> Path:
    """reports/<learner>/<UTC timestamp>/ (created)."""
    stamp = (when or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    path = Path(root) / learner / stamp
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_report(out: Path, run: RunSettings, *, slo: Slo | None = None,
                 replicas: ReplicaHistory | None = None, title: str | None = None,
                 extra_details: Mapping[str, str] | None = None,
                 returncode: int = 0) -> RunResult:
    """Summary, charts, report.html and summary.json from out/locust_*.csv; the SLO verdict."""
    if not (out / f"{CSV_PREFIX}_stats.csv").exists():
        raise LoadTestError(f"no {CSV_PREFIX}_stats.csv in {out}: Locust wrote no results")
    summary = parse(out / CSV_PREFIX)
    if summary.total.requests == 0:
        raise LoadTestError(f"no requests reached {run.target_url} (see the logs in {out})")
    slo_result = check_slo(summary, slo, run.users) if slo is not None else None
    charts = render_charts(summary, out, replicas.ready if replicas else None,
                           replicas.desired if replicas and replicas.hpa else None)
    details = {"target": run.target_url, "scenario": run.scenario, "users": str(run.users),
               "spawn rate": f"{run.spawn_rate:g}/s", "duration": f"{run.duration_s} s",
               **(extra_details or {})}
    if replicas is not None:
        details["replicas"] = replicas.describe()
    details["finished"] = datetime.now(UTC).isoformat(timespec="seconds")
    html = out / "report.html"
    html.write_text(render_html(summary, charts, title=title or f"Load test: {run.scenario}",
                                details=details, slo=slo_result, replicas=replicas))
    (out / "summary.json").write_text(json.dumps({
        **details, "summary": summary.to_dict(),
        "slo": None if slo_result is None else {
            "description": slo_result.slo.describe(), "passed": slo_result.passed,
            "checks": [c.__dict__ for c in slo_result.checks]},
        "replica_changes": None if replicas is None else [
            {"timestamp": s.timestamp, **s.counts.__dict__} for s in replicas.changes()],
    }, indent=2))
    files = {p.name: p for p in sorted(out.iterdir()) if p.is_file()}
    locust_html = out / "locust.html"
    return RunResult(out_dir=out, target_url=run.target_url, scenario=run.scenario,
                     users=run.users, spawn_rate=run.spawn_rate, duration_s=run.duration_s,
                     returncode=returncode, summary=summary, charts=charts, html=html,
                     locust_html=locust_html if locust_html.exists() else None,
                     slo=slo_result, files=files, replicas=replicas)
