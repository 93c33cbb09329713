"""Lessons 1 and 2: every check fails on the lesson's starter app and passes on the reference.

Both trees run under gunicorn on loopback against one throwaway Postgres + RabbitMQ.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from labs.checks import checks_for
from labs.loadtest.localapp import LocalStack
from tests.labs.checks.app_support import Served, failures, need_app, run, serve_pair

pytestmark = pytest.mark.service


@pytest.fixture(scope="module")
def stack() -> Iterator[LocalStack]:
    need_app()
    with LocalStack(seed=None, rabbitmq=True) as s:
        yield s


@pytest.fixture(scope="module")
def lesson1(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_pair(1, tmp_path_factory.mktemp("l1"), stack=stack) as served:
        yield served


@pytest.fixture(scope="module")
def lesson2(stack: LocalStack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serve_pair(2, tmp_path_factory.mktemp("l2"), stack=stack) as served:
        yield served


def test_lesson1_reference_passes_every_check(lesson1: Served) -> None:
    results = run(1, lesson1.reference_url)
    assert set(results) == {c.id for c in checks_for(1)}
    assert failures(results) == {}


def test_lesson1_starter_fails_the_exercise_checks(lesson1: Served) -> None:
    failed = failures(run(1, lesson1.starter_url))
    # JWT sign-in is given to learners in the starter; everything they build must fail.
    assert set(failed) == {c.id for c in checks_for(1)} - {"api.jwt"}
    assert "Eve (not a participant) sees" in failed["api.conversations-private"]
    assert "expected 20 of 23" in failed["api.messages-nested"]
    assert "returned None" in failed["graphql.hello"]
    assert "totals 0, not 200.00" in failed["graphql.crm"]


def test_lesson2_reference_passes_every_check(lesson2: Served) -> None:
    results = run(2, lesson2.reference_url)
    assert set(results) == {c.id for c in checks_for(2)}
    assert failures(results) == {}


def test_lesson2_starter_fails_every_check(lesson2: Served) -> None:
    failed = failures(run(2, lesson2.starter_url))
    assert set(failed) == {c.id for c in checks_for(2)}
    assert "no notification" in failed["signals.notification"]
    assert "edited=False" in failed["signals.edit-history"]
    assert "(N+1)" in failed["orm.no-n-plus-one"]
    assert "none got 429" in failed["middleware.rate-limit"]
    assert "not 403" in failed["middleware.role-permission"]


def test_a_check_without_the_api_url_says_which_flag(tmp_path: Path) -> None:
    from labs.checks import CheckContext, run_checks

    results = run_checks(1, CheckContext(namespace="n", learner="l", cohort="c"))
    assert all(not r.passed and "base URL" in r.detail for r in results)
