"""Lesson 8: the cache check fails on the starter and passes on the reference; the SLO check
judges the learner's newest real load test report (run here against the reference app)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labs.checks import system_design
from labs.loadtest.runner import report_dir, run_local
from labs.loadtest.summary import Slo
from tests.labs.checks.app_support import Served, failures, run, serve_pair

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def lesson8(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_pair(8, tmp_path_factory.mktemp("l8")) as served:
        yield served


@pytest.fixture(scope="module")
def reports(lesson8: Served, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """reports/<learner>/ holding one real, short Locust run against the reference app."""
    root = tmp_path_factory.mktemp("reports")
    run_local(lesson8.reference_url, 4, 4, 8, "browse", report_dir("ada", root=root),
              env={"LOADTEST_WAIT_MIN": "0.1", "LOADTEST_WAIT_MAX": "0.3"})
    return root / "ada"


def test_listings_cache_check(lesson8: Served) -> None:
    assert "cache.listings" not in failures(run(8, lesson8.reference_url))
    failed = failures(run(8, lesson8.starter_url))
    assert "none came from the cache" in failed["cache.listings"]


def test_slo_check_judges_the_newest_report(lesson8: Served, reports: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(system_design, "slo_for_lesson",
                        lambda _: Slo(p95_ms=60_000, max_error_rate=0.5, users=4))
    results = run(8, lesson8.reference_url, reports_dir=reports)
    assert results["loadtest.slo"].passed, results["loadtest.slo"].detail

    monkeypatch.setattr(system_design, "slo_for_lesson",
                        lambda _: Slo(p95_ms=0.001, max_error_rate=0.5, users=4))
    detail = run(8, lesson8.reference_url, reports_dir=reports)["loadtest.slo"].detail
    assert "p95 latency" in detail and "< 0.001 ms" in detail


def test_slo_check_without_a_report_says_how_to_make_one(tmp_path: Path,
                                                         lesson8: Served) -> None:
    detail = run(8, lesson8.reference_url, reports_dir=tmp_path)["loadtest.slo"].detail
    assert "no load test report" in detail and "invoke loadtest" in detail
