"""The check framework: errors become failed results, output formats, lessons without checks."""

from __future__ import annotations

import json

import pytest
from rich.console import Console

from labs.checks import (
    Check,
    CheckContext,
    CheckFailed,
    CheckResult,
    NoChecks,
    checks_for,
    results_json,
    results_table,
    run_checks,
)

pytestmark = pytest.mark.unit

CTX = CheckContext(namespace="local-ada", learner="ada", cohort="local")


def _boom(ctx: CheckContext) -> str:
    raise ZeroDivisionError("division by zero")


def _no(ctx: CheckContext) -> str:
    raise CheckFailed("2/3 ready")


def test_a_check_reports_its_own_errors() -> None:
    r = Check("x.boom", "boom", "fix it", _boom).run(CTX)
    assert r == CheckResult("x.boom", "boom", False,
                            "error: ZeroDivisionError: division by zero", "fix it")
    assert Check("x.no", "no", "h", _no).run(CTX).detail == "2/3 ready"
    assert Check("x.ok", "ok", "h", lambda ctx: "fine").run(CTX).passed


def test_kubernetes_checks_without_a_client_fail_cleanly() -> None:
    results = run_checks(4, CTX)
    assert len(results) == 4
    assert all(not r.passed and "no Kubernetes API client" in r.detail for r in results)


def test_lessons_without_checks_say_so() -> None:
    with pytest.raises(NoChecks, match="lesson 9 has no automatic checks"):
        checks_for(9)


def test_table_and_json() -> None:
    results = [CheckResult("a", "A", True, "ok", "h"), CheckResult("b", "B", False, "no", "hb")]
    data = json.loads(results_json(results, lesson=4, learner="ada"))
    assert data["passed"] is False and data["total"] == 2 and data["passed_count"] == 1
    assert data["lesson"] == 4 and data["checks"][1]["hint"] == "hb"
    console = Console(record=True, width=120)
    console.print(results_table(results))
    text = console.export_text()
    assert "✔" in text and "✘" in text and "hb" in text


def test_every_lesson_of_the_catalog_has_checks() -> None:
    from labs.catalog import default_catalog

    for lesson in default_catalog().lessons:
        number = getattr(lesson, "number", lesson)
        checks = checks_for(number)
        assert checks, number
        assert all(c.hint and c.title for c in checks)
