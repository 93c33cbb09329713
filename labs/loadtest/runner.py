"""Run Locust headless against a URL and write the run's report.

Locust runs as a subprocess of the Python running this (it must have `locust` installed), so
gevent's monkey-patching never touches the caller (invoke, pytest). A report directory holds:

    locust_stats.csv, locust_stats_history.csv, locust_failures.csv, locust_exceptions.csv
    locust.html          Locust's own report
    report.html          our self-contained summary (tables, charts as data URIs)
    throughput.png, latency.png, errors.png (, replicas.png)
    summary.json         the parsed summary and the SLO verdict
    locust.log           Locust's log
"""

from __future__ import annotations

import importlib.util
import ipaddress
import json
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from labs.loadtest.charts import ReplicaSamples, render_charts
from labs.loadtest.report import render_html
from labs.loadtest.scenarios import LOCUSTFILE, user_classes
from labs.loadtest.summary import Slo, SloResult, Summary, check_slo, parse

CSV_PREFIX = "locust"
MAX_USERS = 2000
MAX_DURATION_S = 3600


class LoadTestError(RuntimeError):
    """The load test could not run or produced no usable results."""


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
    locust_html: Path
    slo: SloResult | None = None
    files: dict[str, Path] = field(default_factory=dict)

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


def locust_available(python: str = sys.executable) -> bool:
    if python == sys.executable:
        return importlib.util.find_spec("locust") is not None
    return subprocess.run([python, "-c", "import locust"], capture_output=True,
                          check=False).returncode == 0


def is_loopback(url: str) -> bool:
    """True when every address the URL's host resolves to is in 127.0.0.0/8 (or ::1)."""
    host = urlsplit(url).hostname
    if not host:
        return False
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(i[4][0]).is_loopback for i in infos)


def locust_command(target_url: str, users: int, spawn_rate: float, duration_s: int,
                   scenario: str, out_dir: Path, python: str = sys.executable) -> list[str]:
    prefix = out_dir / CSV_PREFIX
    return [python, "-m", "locust", "-f", str(LOCUSTFILE), "--headless",
            "--host", target_url.rstrip("/"), "--users", str(users),
            "--spawn-rate", f"{spawn_rate:g}", "--run-time", f"{duration_s}s",
            "--stop-timeout", "5", "--csv", str(prefix), "--csv-full-history",
            "--html", str(out_dir / "locust.html"), "--only-summary",
            "--exit-code-on-error", "0", "--loglevel", "WARNING",
            "--logfile", str(out_dir / "locust.log"), *user_classes(scenario)]


def run_local(target_url: str, users: int, spawn_rate: float, duration_s: int,
              scenario: str, out_dir: Path | str, *, slo: Slo | None = None,
              replica_samples: ReplicaSamples | None = None, env: Mapping[str, str] | None = None,
              allow_remote: bool = False, title: str | None = None,
              python: str = sys.executable) -> RunResult:
    """Run Locust headless from this machine and write CSV, HTML and PNG files to out_dir.

    Refuses a target outside 127.0.0.0/8 unless allow_remote (learners reach their stack
    through a port-forward; in-cluster runs use the Job of infra/components/loadgen.py).
    """
    user_classes(scenario)  # validates the name
    if not 1 <= users <= MAX_USERS:
        raise ValueError(f"users must be 1..{MAX_USERS}, not {users}")
    if not 1 <= duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration must be 1..{MAX_DURATION_S} s, not {duration_s}")
    if spawn_rate <= 0:
        raise ValueError("spawn rate must be positive")
    if not allow_remote and not is_loopback(target_url):
        raise LoadTestError(f"{target_url} is not on loopback (127.0.0.0/8); "
                            "pass allow_remote=True to load-test another host")
    if not locust_available(python):
        raise LoadTestError(f"locust is not installed for {python}: pip install locust")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    argv = locust_command(target_url, users, spawn_rate, duration_s, scenario, out, python)
    try:
        proc = subprocess.run(argv, cwd=out, env={**os.environ, **(env or {})},
                              capture_output=True, text=True, timeout=duration_s + 90,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise LoadTestError(f"locust did not finish within {duration_s + 90} s") from exc
    (out / "locust.out").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not (out / f"{CSV_PREFIX}_stats.csv").exists():
        raise LoadTestError(f"locust exited {proc.returncode}:\n{(proc.stderr or '')[-3000:]}")
    summary = parse(out / CSV_PREFIX)
    if summary.total.requests == 0:
        raise LoadTestError(f"no requests reached {target_url} (see {out / 'locust.log'})")
    slo_result = check_slo(summary, slo, users) if slo is not None else None
    charts = render_charts(summary, out, replica_samples)
    details = {"target": target_url, "scenario": scenario, "users": str(users),
               "spawn rate": f"{spawn_rate:g}/s", "duration": f"{duration_s} s",
               "finished": datetime.now(UTC).isoformat(timespec="seconds")}
    html = out / "report.html"
    html.write_text(render_html(summary, charts, title=title or f"Load test: {scenario}",
                                details=details, slo=slo_result))
    (out / "summary.json").write_text(json.dumps({
        **details, "summary": summary.to_dict(),
        "slo": None if slo_result is None else {
            "description": slo_result.slo.describe(), "passed": slo_result.passed,
            "checks": [c.__dict__ for c in slo_result.checks]},
    }, indent=2))
    files = {p.name: p for p in sorted(out.iterdir()) if p.is_file()}
    return RunResult(out_dir=out, target_url=target_url, scenario=scenario, users=users,
                     spawn_rate=spawn_rate, duration_s=duration_s, returncode=proc.returncode,
                     summary=summary, charts=charts, html=html,
                     locust_html=out / "locust.html", slo=slo_result, files=files)
