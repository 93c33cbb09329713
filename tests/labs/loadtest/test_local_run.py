"""A bounded local load test against the sample app on loopback (service tier).

Starts throwaway Postgres and RabbitMQ, migrates and seeds with the app's `seed` command, runs
the app under gunicorn from labs/app/.venv on a free 127.0.0.1 port, drives it with Locust for
about 10 s with a few users, and checks the report files; everything is stopped afterwards.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest

from labs.loadtest.localapp import LocalApp, LocalStack, SeedSize, app_available
from labs.loadtest.runner import report_dir, run_local
from labs.loadtest.summary import Slo, parse

pytestmark = pytest.mark.service

USERS = 4
DURATION_S = 10


@pytest.fixture(scope="module")
def app_url():
    why = app_available()
    if why:
        pytest.fail(why)
    if importlib.util.find_spec("locust") is None:
        pytest.fail("locust is not installed (pip install -e '.[dev]')")
    with LocalStack(seed=SeedSize(users=20, listings=30, bookings=30, conversations=40,
                                  messages=5)) as stack, LocalApp(stack, workers=2) as app:
        yield app.url


def test_bounded_local_run_writes_csv_html_png(app_url: str, tmp_path: Path) -> None:
    out = report_dir("abebe", root=tmp_path / "reports")
    assert out.parent == tmp_path / "reports" / "abebe"
    result = run_local(app_url, USERS, USERS, DURATION_S, "mixed", out,
                       slo=Slo(p95_ms=60_000, max_error_rate=0.5, users=USERS),
                       env={"LOADTEST_SEEDED_USERS": "20", "LOADTEST_WAIT_MIN": "0.1",
                            "LOADTEST_WAIT_MAX": "0.5"})

    for name in ("locust_stats.csv", "locust_stats_history.csv", "locust_failures.csv",
                 "report.html", "locust.html", "throughput.png", "latency.png", "errors.png",
                 "summary.json"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    for png in result.charts.values():
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = result.html.read_text()
    assert html.count("data:image/png;base64,") == len(result.charts) == 3

    # The parsed summary is what the CSV says.
    with open(result.stats_csv, newline="") as fh:
        rows = {(r["Type"], r["Name"]): r for r in csv.DictReader(fh)}
    total = rows[("", "Aggregated")]
    summary = parse(out / "locust")
    assert summary == result.summary
    assert summary.total.requests == int(total["Request Count"]) > 0
    assert summary.total.failures == int(total["Failure Count"])
    assert summary.total.p95_ms == float(total["95%"])
    assert {(e.method, e.name) for e in summary.endpoints} == set(rows) - {("", "Aggregated")}
    for e in summary.endpoints:
        assert e.requests == int(rows[(e.method, e.name)]["Request Count"])
    names = {e.name for e in summary.endpoints}
    assert "POST /api/auth/token/" in names and "GET /api/listings/?filters" in names
    assert summary.history and summary.history[-1].total_requests <= summary.total.requests
    assert summary.peak_users == USERS
    assert summary.error_rate == 0, summary.failures
    assert result.slo is not None and result.slo.passed
