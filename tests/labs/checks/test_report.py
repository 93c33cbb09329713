"""The cohort report for five learners with mixed progress: figures in table, CSV and HTML."""

from __future__ import annotations

import csv
import io
import re

import pytest
from rich.console import Console

from labs.checks import CheckResult
from labs.checks.report import cohort_report, report_csv, report_html, report_table, write_report

pytestmark = pytest.mark.unit

IDS = [f"git.c{n}" for n in range(1, 8)]
# How many of the 7 checks each learner passes (the first N pass).
PROGRESS = {"abebe": 7, "bethel": 3, "chala": 0, "dawit": 5, "eden": 7}


def _results(n_passed: int) -> list[CheckResult]:
    return [CheckResult(i, f"check {i}", k < n_passed, "ok" if k < n_passed else "missing",
                        "hint") for k, i in enumerate(IDS)]


@pytest.fixture
def report():
    return cohort_report({name: _results(n) for name, n in PROGRESS.items()}, lesson=3)


def test_totals(report) -> None:
    assert [r.learner for r in report.learners] == sorted(PROGRESS)
    assert {r.learner: (r.passed, r.total) for r in report.learners} == {
        "abebe": (7, 7), "bethel": (3, 7), "chala": (0, 7), "dawit": (5, 7), "eden": (7, 7)}
    # check k passes for learners with more than k checks done
    assert [c.passed for c in report.checks] == [4, 4, 4, 3, 3, 2, 2]
    assert all(c.total == 5 for c in report.checks)
    assert (report.passed, report.total, report.complete) == (22, 35, 2)


def test_csv(report) -> None:
    rows = list(csv.reader(io.StringIO(report_csv(report))))
    assert rows[0] == ["learner", *IDS, "passed", "total", "percent"]
    body = {r[0]: r for r in rows[1:]}
    assert body["abebe"][-3:] == ["7", "7", "100"]
    assert body["bethel"][-3:] == ["3", "7", "43"]
    assert body["chala"][1:8] == ["fail"] * 7
    assert body["dawit"][1:8] == ["pass"] * 5 + ["fail"] * 2
    assert body["checks passed"] == ["checks passed", "4", "4", "4", "3", "3", "2", "2",
                                     "22", "35", "63"]


def test_html(report, tmp_path) -> None:
    page = report_html(report)
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<script" not in page and "http" not in page  # self-contained
    rows = re.findall(r"<tr><td class=\"learner\">(\w+)</td>(.*?)</tr>", page)
    got = {name: (cells.count("✔"), cells.count("✘"),
                  re.search(r'class="total">(\d+/\d+)<', cells).group(1),
                  re.search(r"width:(\d+)%", cells).group(1)) for name, cells in rows}
    assert got == {"abebe": (7, 0, "7/7", "100"), "bethel": (3, 4, "3/7", "43"),
                   "chala": (0, 7, "0/7", "0"), "dawit": (5, 2, "5/7", "71"),
                   "eden": (7, 0, "7/7", "100")}
    totals = re.search(r'<tr class="totals">(.*?)</tr>', page).group(1)
    assert re.findall(r'class="count">(\d+/\d+)<', totals) == \
        ["4/5", "4/5", "4/5", "3/5", "3/5", "2/5", "2/5"]
    assert "22/35" in totals and "63%" in totals
    assert "2 learner(s) complete" in page
    paths = write_report(report, tmp_path)
    assert paths["html"].read_text().count("✔") == 22
    assert paths["csv"].read_text() == report_csv(report)


def test_table(report) -> None:
    console = Console(record=True, width=200)
    console.print(report_table(report))
    text = console.export_text()
    assert "lesson 3" in text
    assert re.search(r"bethel.*3/7 \(43%\)", text)
    assert "22/35" in text


def test_missing_check_counts_as_not_run() -> None:
    rep = cohort_report({"a": _results(7), "b": _results(7)[:2]})
    b = next(r for r in rep.learners if r.learner == "b")
    assert (b.passed, b.total) == (2, 7) and b.outcomes[2] is None
    assert "not run" in report_csv(rep)
