"""Run Locust headless against a URL and write the run's report.

Locust runs as a subprocess of the Python running this (it must have `locust` installed), so
gevent's monkey-patching never touches the caller (invoke, pytest). A report directory holds:

    locust_stats.csv, locust_stats_history.csv, locust_failures.csv, locust_exceptions.csv
    locust.html          Locust's own report
    report.html          our self-contained summary (tables, charts as data URIs)
    throughput.png, latency.png, errors.png (, replicas.png)
    summary.json         the parsed summary and the SLO verdict
    locust.log           Locust's log

The report itself (everything but Locust's own files) is written by results.write_report,
which the in-cluster run (incluster.py) shares.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import socket
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from labs.loadtest.replicas import ReplicaHistory, ReplicaSampler
from labs.loadtest.results import (
    CSV_PREFIX,
    LoadTestError,
    RunResult,
    RunSettings,
    report_dir,
    write_report,
)
from labs.loadtest.scenarios import LOCUSTFILE, user_classes
from labs.loadtest.summary import Slo

# Re-exported: callers (commands, bench, tests) import them from here.
__all__ = ["CSV_PREFIX", "LoadTestError", "RunResult", "locust_command", "report_dir",
           "run_local", "validate_load"]

MAX_USERS = 2000
MAX_DURATION_S = 3600


def validate_load(users: int, spawn_rate: float, duration_s: int, scenario: str) -> None:
    """ValueError naming the first bad setting (both local and in-cluster runs)."""
    user_classes(scenario)  # validates the name
    if not 1 <= users <= MAX_USERS:
        raise ValueError(f"users must be 1..{MAX_USERS}, not {users}")
    if not 1 <= duration_s <= MAX_DURATION_S:
        raise ValueError(f"duration must be 1..{MAX_DURATION_S} s, not {duration_s}")
    if spawn_rate <= 0:
        raise ValueError("spawn rate must be positive")


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
              replicas: ReplicaSampler | ReplicaHistory | None = None,
              env: Mapping[str, str] | None = None,
              allow_remote: bool = False, title: str | None = None,
              python: str = sys.executable) -> RunResult:
    """Run Locust headless from this machine and write CSV, HTML and PNG files to out_dir.

    Refuses a target outside 127.0.0.0/8 unless allow_remote (learners reach their stack
    through a port-forward; in-cluster runs use labs/loadtest/incluster.py). `replicas`: a
    ReplicaSampler to run alongside Locust, or a ReplicaHistory saying why nothing was sampled.
    """
    validate_load(users, spawn_rate, duration_s, scenario)
    if not allow_remote and not is_loopback(target_url):
        raise LoadTestError(f"{target_url} is not on loopback (127.0.0.0/8); "
                            "pass allow_remote=True to load-test another host")
    if not locust_available(python):
        raise LoadTestError(f"locust is not installed for {python}: pip install locust")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    argv = locust_command(target_url, users, spawn_rate, duration_s, scenario, out, python)
    sampler = replicas if isinstance(replicas, ReplicaSampler) else None
    history: ReplicaHistory | None = replicas if isinstance(replicas, ReplicaHistory) else None
    if sampler is not None:
        sampler.start()
    try:
        proc = subprocess.run(argv, cwd=out, env={**os.environ, **(env or {})},
                              capture_output=True, text=True, timeout=duration_s + 90,
                              check=False)
    except subprocess.TimeoutExpired as exc:
        raise LoadTestError(f"locust did not finish within {duration_s + 90} s") from exc
    finally:
        if sampler is not None:
            history = sampler.stop()
    (out / "locust.out").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0 or not (out / f"{CSV_PREFIX}_stats.csv").exists():
        raise LoadTestError(f"locust exited {proc.returncode}:\n{(proc.stderr or '')[-3000:]}")
    return write_report(out, RunSettings(target_url, scenario, users, spawn_rate, duration_s),
                        slo=slo, replicas=history, title=title, returncode=proc.returncode)
