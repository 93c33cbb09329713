"""Locust CSV parsing, SLO checks, charts and the HTML report, on CSV files written here."""

from __future__ import annotations

import ast
import importlib.util
import io
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

from labs.loadtest.charts import render_charts
from labs.loadtest.report import render_html
from labs.loadtest.runner import LoadTestError, is_loopback, locust_command, run_local
from labs.loadtest.scenarios import LOCUSTFILE, SCENARIOS, user_classes
from labs.loadtest.summary import (
    Slo,
    check_slo,
    parse,
    rates,
    slo_for_lesson,
    slo_table,
    summary_table,
)

pytestmark = pytest.mark.unit

STATS_HEADER = ("Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
                "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
                "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%")
HISTORY_HEADER = ("Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,"
                  "98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,"
                  "Total Median Response Time,Total Average Response Time,"
                  "Total Min Response Time,Total Max Response Time,Total Average Content Size")


def write_run(tmp_path: Path, failures: int = 1) -> Path:
    prefix = tmp_path / "locust"
    Path(f"{prefix}_stats.csv").write_text("\n".join([
        STATS_HEADER,
        f"GET,GET /api/listings/?filters,100,{failures},20,25.5,3,300,900,10.0,0.1,"
        "20,22,24,26,40,120,200,250,300,300,300",
        "POST,POST /api/auth/token/,10,0,400,410,300,600,300,1.0,0,"
        "400,410,420,430,500,560,600,600,600,600,600",
        f",Aggregated,110,{failures},22,60.2,3,600,850,11.0,0.1,"
        "22,25,30,35,60,180,400,450,600,600,600",
    ]) + "\n")
    rows = [HISTORY_HEADER, "1000,0,,Aggregated,0,0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,"
            "0,0,0,0.0,0,0,0"]
    for i in range(1, 6):
        rows.append(f"{1000 + i},4,GET,GET /api/listings/?filters,0,0,20,22,24,26,40,120,200,250,"
                    f"300,300,300,{i * 20},0,20,25,3,300,900")
        rows.append(f"{1000 + i},4,,Aggregated,0,0,22,25,30,35,60,180,400,450,600,600,600,"
                    f"{i * 22},{failures if i > 2 else 0},22,60,3,600,850")
    Path(f"{prefix}_stats_history.csv").write_text("\n".join(rows) + "\n")
    Path(f"{prefix}_failures.csv").write_text(
        "Method,Name,Error,Occurrences\nGET,GET /api/listings/?filters,HTTPError(500),1\n")
    return prefix


def test_summary_matches_the_csv(tmp_path: Path) -> None:
    summary = parse(write_run(tmp_path))
    assert summary.total.requests == 110 and summary.total.failures == 1
    assert summary.total.p95_ms == 180 and summary.total.p99_ms == 450
    listings = summary.endpoint("GET /api/listings/?filters")
    assert (listings.requests, listings.p50_ms, listings.rps) == (100, 20, 10.0)
    assert len(summary.endpoints) == 2
    assert [p.total_requests for p in summary.history] == [0, 22, 44, 66, 88, 110]
    assert summary.history[0].p50_ms is None  # N/A before the first request
    assert summary.peak_users == 4
    assert rates(summary.history)[0] == (1001, 22.0, 0.0)
    assert summary.failures[0]["Error"] == "HTTPError(500)"


def test_slo_check(tmp_path: Path) -> None:
    summary = parse(write_run(tmp_path))
    held = check_slo(summary, Slo(p95_ms=200, max_error_rate=0.01, users=4))
    assert held.passed, held.checks
    assert not check_slo(summary, Slo(p95_ms=150)).passed  # p95 is 180
    assert not check_slo(summary, Slo(p95_ms=200, users=50)).passed  # ran only 4 users
    many_errors = parse(write_run(tmp_path, failures=5))  # 5/110 > 1%
    assert not check_slo(many_errors, Slo(p95_ms=1000)).passed
    endpoint = Slo(p95_ms=130, endpoint="GET /api/listings/?filters")
    assert check_slo(summary, endpoint).passed
    assert slo_for_lesson(8).users == 50 and slo_for_lesson(None).p95_ms > 0


def test_tables_print_endpoint_names_verbatim(tmp_path: Path) -> None:
    summary = parse(write_run(tmp_path))
    out = io.StringIO()
    console = Console(file=out, width=160)
    console.print(summary_table(summary))
    console.print(slo_table(check_slo(summary, Slo(p95_ms=200))))
    text = out.getvalue()
    assert "GET /api/listings/?filters" in text and "total" in text and "held" in text


def test_charts_and_html_report(tmp_path: Path) -> None:
    summary = parse(write_run(tmp_path))
    charts = render_charts(summary, tmp_path, replica_samples=[(1000, 2), (1003, 4)])
    assert set(charts) == {"throughput", "latency", "errors", "replicas"}
    for png in charts.values():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = render_html(summary, charts, title="t", details={"users": "4"},
                       slo=check_slo(summary, Slo(p95_ms=200)))
    assert html.count("data:image/png;base64,") == 4
    assert "src='http" not in html and "<script" not in html  # self-contained
    assert "GET /api/listings/?filters" in html and "HTTPError(500)" in html


def test_scenarios_name_classes_of_the_locustfile() -> None:
    tree = ast.parse(LOCUSTFILE.read_text())
    classes = {node.name for node in tree.body if isinstance(node, ast.ClassDef)}
    for scenario in SCENARIOS:
        assert set(user_classes(scenario)) <= classes
    imports = {alias.name.split(".")[0] for node in ast.walk(tree)
               if isinstance(node, ast.Import | ast.ImportFrom)
               for alias in (node.names if isinstance(node, ast.Import) else
                             [ast.alias(node.module or "")])}
    assert imports <= {"__future__", "json", "os", "random", "datetime", "pathlib", "urllib",
                       "locust"}
    with pytest.raises(ValueError, match="browse"):
        user_classes("nope")


def test_runner_refuses_remote_targets_and_bad_bounds(tmp_path: Path) -> None:
    assert is_loopback("http://127.0.0.1:8000") and is_loopback("http://localhost:1")
    assert not is_loopback("http://192.0.2.1:8000")  # TEST-NET, never contacted
    with pytest.raises(LoadTestError, match="loopback"):
        run_local("http://192.0.2.1:8000", 1, 1, 5, "browse", tmp_path)
    with pytest.raises(ValueError):
        run_local("http://127.0.0.1:1", 0, 1, 5, "browse", tmp_path)
    with pytest.raises(ValueError):
        run_local("http://127.0.0.1:1", 1, 1, 99999, "browse", tmp_path)
    argv = locust_command("http://127.0.0.1:1/", 3, 2, 10, "mixed", tmp_path)
    assert argv[-2:] == ["BrowseUser", "BookUser"]
    assert "--headless" in argv and "--csv-full-history" in argv
    assert argv[argv.index("--host") + 1] == "http://127.0.0.1:1"


def test_csv_fixture_matches_locust_header() -> None:
    """The header used above is Locust's (guards against an upgrade renaming columns)."""
    # Never import locust here: it monkey-patches the whole process with gevent.
    if importlib.util.find_spec("locust") is None:
        pytest.fail("locust is not installed")
    code = ("from locust.env import Environment; from locust.stats import StatsCSV, "
            "PERCENTILES_TO_REPORT as P; print(','.join(StatsCSV(Environment(), P)"
            ".requests_csv_columns))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.strip().splitlines()[-1]
    assert out == STATS_HEADER
