"""The sample app served twice on loopback for a lesson's checks: its starter and reference.

One throwaway Postgres + RabbitMQ per test module (LocalStack, migrated, no seed: checks make
their own users). The starter tree is generated from the reference by
labs/practice/starter.py, so both share the database schema and the app's virtualenv.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from labs.checks import CheckContext, CheckResult, run_checks
from labs.loadtest.localapp import APP_DIR, LocalApp, LocalStack, app_available
from labs.practice.starter import write_starter

# The lesson 2 middlewares the lab switches on (access_hours stays off: it depends on the
# clock, and its behaviour is covered by the app's own tests).
LAB_ENV = {"LAB_MIDDLEWARE": "request_logging,post_rate_limit,role_permission",
           "LAB_POST_RATE_LIMIT": "5"}


@dataclass(frozen=True)
class Served:
    starter_url: str
    reference_url: str


def need_app() -> None:
    why = app_available()
    if why:
        pytest.fail(why)


@contextlib.contextmanager
def serve_pair(lesson: int, tmp: Path, env: dict[str, str] | None = None,
               stack: LocalStack | None = None) -> Iterator[Served]:
    """Starter and reference of `lesson` under gunicorn, on one stack."""
    need_app()
    starter = write_starter(lesson, tmp / f"lesson-{lesson}-starter")
    env = {**LAB_ENV, **(env or {})}
    with contextlib.ExitStack() as stack_cm:
        if stack is None:
            stack = stack_cm.enter_context(LocalStack(seed=None))
        ref = stack_cm.enter_context(LocalApp(stack, workers=2, env=env, app_dir=APP_DIR))
        start = stack_cm.enter_context(LocalApp(stack, workers=2, env=env, app_dir=starter))
        yield Served(starter_url=start.url, reference_url=ref.url)


def run(lesson: int, base_url: str, **fields: object) -> dict[str, CheckResult]:
    ctx = CheckContext(namespace="local-check", learner="check", cohort="local",
                       base_url=base_url, **fields)  # type: ignore[arg-type]
    return {r.id: r for r in run_checks(lesson, ctx)}


def failures(results: dict[str, CheckResult]) -> dict[str, str]:
    return {k: r.detail for k, r in results.items() if not r.passed}
