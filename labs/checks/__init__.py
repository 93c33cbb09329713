"""Automatic, behaviour-based checks for each lesson's lab, and the cohort progress report."""

from labs.checks.core import (
    Check,
    CheckContext,
    CheckFailed,
    CheckResult,
    NoChecks,
    all_passed,
    checks_for,
    lessons_with_checks,
    results_json,
    results_table,
    run_checks,
)

__all__ = [
    "Check",
    "CheckContext",
    "CheckFailed",
    "CheckResult",
    "NoChecks",
    "all_passed",
    "checks_for",
    "lessons_with_checks",
    "results_json",
    "results_table",
    "run_checks",
]
