"""`invoke lab check` and `invoke cohort check`: a lesson's checks, for one learner or a class."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rich.console import Console

from infra.automation import ClusterTarget
from infra.kubeconfig import admin_client
from labs.checks import (
    CheckContext,
    CheckResult,
    NoChecks,
    all_passed,
    lessons_with_checks,
    results_json,
    results_table,
    run_checks,
)
from labs.checks.report import cohort_report, report_table, write_report
from labs.practice.git_practice import default_practice_root
from labs.spec import LabSpec

console = Console(stderr=True)


def context_for(spec: LabSpec, target: ClusterTarget | None) -> CheckContext:
    api = admin_client(target.kubeconfig, target.context) if target else None
    repo = default_practice_root(spec.cohort, spec.learner) / "practice"
    return CheckContext(namespace=spec.namespace, learner=spec.learner, cohort=spec.cohort,
                        api=api, repo=repo if spec.lesson.number == 3 else None)


def _no_checks(lesson: int) -> int:
    have = ", ".join(map(str, lessons_with_checks()))
    console.print(f"[yellow]lesson {lesson} has no automatic checks yet[/] (lessons with "
                  f"checks: {have}); its guide says what done looks like")
    return 2


def has_checks(lesson: int) -> bool:
    return lesson in lessons_with_checks()


def check_learner(spec: LabSpec, target: ClusterTarget | None, as_json: bool) -> int:
    try:
        results = run_checks(spec.lesson.number, context_for(spec, target))
    except NoChecks:
        return _no_checks(spec.lesson.number)
    if as_json:
        print(results_json(results, lesson=spec.lesson.number, learner=spec.learner))
    else:
        console.print(results_table(results, title=f"lesson {spec.lesson.number} checks for "
                                                   f"{spec.learner}"))
    return 0 if all_passed(results) else 1


def check_cohort(specs: list[LabSpec], target: ClusterTarget | None, out_dir: Path,
                 parallel: int = 8) -> int:
    if not specs:
        return 0
    lesson = specs[0].lesson.number
    if lesson not in lessons_with_checks():
        return _no_checks(lesson)

    def one(spec: LabSpec) -> tuple[str, list[CheckResult]]:
        return spec.learner, run_checks(lesson, context_for(spec, target))

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        results = dict(pool.map(one, specs))
    report = cohort_report(results, lesson=lesson)
    console.print(report_table(report))
    for kind, path in write_report(report, out_dir).items():
        console.print(f"{kind}: {path}")
    return 0
