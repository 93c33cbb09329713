"""The check framework: a lesson's checks, run against one learner's live environment.

A check is a function of a `CheckContext` that returns a short detail when the learner's
environment behaves as the exercise asks, and raises `CheckFailed` (with what it saw) when it
does not. Any other exception is reported as a failed check with the error, so one broken
check never hides the others.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

# Modules that register each lesson's checks; imported on first use so that, for example,
# lesson 3 checks never import the Kubernetes client.
CHECK_MODULES: Mapping[int, str] = {
    1: "labs.checks.api_basics",
    2: "labs.checks.api_orm",
    3: "labs.checks.git_flow",
    4: "labs.checks.kubernetes",
    5: "labs.checks.ci_pipeline",
    6: "labs.checks.payments",
    7: "labs.checks.email_jobs",
    8: "labs.checks.system_design",
}


class CheckFailed(Exception):
    """The environment does not (yet) do what the check asks; the message says what it saw."""


class NoChecks(KeyError):
    """The lesson has no automatic checks yet."""


@dataclass(frozen=True)
class CheckContext:
    """Where one learner's lab lives. Checks read only what they need and say so if missing."""

    namespace: str
    learner: str
    cohort: str
    api: Any | None = None  # kubernetes.client.ApiClient
    repo: Path | None = None  # lesson 3: the learner's practice repository (working tree)
    base_url: str | None = None  # HTTP checks: the API's base URL, e.g. http://127.0.0.1:8000
    mail_url: str | None = None  # lesson 7: the mail catcher's (Mailpit) HTTP API base URL
    chapa_url: str | None = None  # lesson 6: the Chapa sandbox's base URL
    chapa_webhook_secret: str | None = None  # lesson 6: signs webhook events like Chapa
    reports_dir: Path | None = None  # lesson 8: reports/<learner>/ of `invoke loadtest`
    jenkins_url: str | None = None  # lesson 5: Jenkins, http://USER:TOKEN@HOST:8080

    def need_api(self) -> Any:
        if self.api is None:
            raise CheckFailed("no Kubernetes API client was given to this check")
        return self.api

    def need_repo(self) -> Path:
        if self.repo is None:
            raise CheckFailed("no practice repository was given to this check")
        if not (self.repo / ".git").exists():
            raise CheckFailed(f"{self.repo} is not a git working tree "
                              "(run `invoke lab up --lesson 3` to create it)")
        return self.repo

    def need_base_url(self) -> str:
        if not self.base_url:
            raise CheckFailed("no base URL of the API was given to this check")
        return self.base_url.rstrip("/")

    def need_jenkins_url(self) -> str:
        if not self.jenkins_url:
            raise CheckFailed("no Jenkins URL was given to this check (lab check --jenkins-url)")
        return self.jenkins_url.rstrip("/")

    def need(self, field: str, flag: str) -> Any:
        """The context field, or a failure saying which `lab check` flag provides it."""
        value = getattr(self, field)
        if not value:
            raise CheckFailed(f"this check needs {flag} (see `invoke --help lab`)")
        return value


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    hint: str
    fn: Callable[[CheckContext], str]

    def run(self, ctx: CheckContext) -> CheckResult:
        try:
            detail = self.fn(ctx)
        except CheckFailed as exc:
            return CheckResult(self.id, self.title, False, str(exc), self.hint)
        except Exception as exc:  # noqa: BLE001 - a check reports its own errors
            return CheckResult(self.id, self.title, False,
                               f"error: {type(exc).__name__}: {exc}", self.hint)
        return CheckResult(self.id, self.title, True, detail or "ok", self.hint)


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    passed: bool
    detail: str
    hint: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_REGISTRY: dict[int, list[Check]] = {}


def register(lesson: int, id: str, title: str, hint: str
             ) -> Callable[[Callable[[CheckContext], str]], Callable[[CheckContext], str]]:
    """Decorator: add `fn` to the lesson's checks, in definition order."""

    def add(fn: Callable[[CheckContext], str]) -> Callable[[CheckContext], str]:
        checks = _REGISTRY.setdefault(lesson, [])
        if any(c.id == id for c in checks):
            raise ValueError(f"lesson {lesson} already has a check {id!r}")
        checks.append(Check(id=id, title=title, hint=hint, fn=fn))
        return fn

    return add


def lessons_with_checks() -> tuple[int, ...]:
    return tuple(sorted(CHECK_MODULES))


def checks_for(lesson: int) -> tuple[Check, ...]:
    """The lesson's checks, in order. Raises NoChecks for a lesson without any."""
    module = CHECK_MODULES.get(lesson)
    if module is None:
        known = ", ".join(str(n) for n in lessons_with_checks())
        raise NoChecks(f"lesson {lesson} has no automatic checks yet (lessons with checks: "
                       f"{known})")
    importlib.import_module(module)
    return tuple(_REGISTRY.get(lesson, ()))


def run_checks(lesson: int, ctx: CheckContext) -> list[CheckResult]:
    """Run every check of the lesson against ctx; never raises for a failing check."""
    return [check.run(ctx) for check in checks_for(lesson)]


def all_passed(results: Iterable[CheckResult]) -> bool:
    results = list(results)
    return bool(results) and all(r.passed for r in results)


def results_table(results: Iterable[CheckResult], title: str | None = None) -> Table:
    table = Table(title=title, show_lines=False)
    table.add_column("", no_wrap=True)
    table.add_column("check", no_wrap=True)
    table.add_column("result")
    table.add_column("hint", style="dim")
    for r in results:
        mark = "[green]✔[/green]" if r.passed else "[red]✘[/red]"
        table.add_row(mark, f"{r.title}\n[dim]{r.id}[/dim]", r.detail,
                      "" if r.passed else r.hint)
    return table


def results_json(results: Iterable[CheckResult], **extra: Any) -> str:
    """JSON for scripts: {"passed": bool, "total", "passed_count", "checks": [...], **extra}."""
    items = [r.as_dict() for r in results]
    passed = sum(1 for r in items if r["passed"])
    body = {**extra, "passed": bool(items) and passed == len(items), "total": len(items),
            "passed_count": passed, "checks": items}
    return json.dumps(body, indent=2, ensure_ascii=False)
