"""Lesson 7: the e-mail checks fail on the starter app and pass on the reference.

Both trees run under gunicorn on loopback against one throwaway Postgres + RabbitMQ, with a
real Mailpit (from the toolchain, chaos enabled) and a real `celery worker` process of the tree
under test. Both trees publish to the same default queue, so only one worker runs at a time.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from labs import mailcatcher as mc
from labs.checks import CheckContext, checks_for, email_jobs
from labs.loadtest.localapp import APP_DIR, APP_PYTHON, LocalStack
from tests.labs.checks.app_support import Served, failures, need_app, run, serve_pair

pytestmark = pytest.mark.service

LESSON = 7
# The starter never sends, so waiting the checks' full minute would only slow the test down.
STARTER_WAIT_S = 5.0


class Worker:
    """`celery worker` (solo pool) of one app tree, sending through Mailpit's SMTP."""

    def __init__(self, tree: Path, stack: LocalStack, mailpit: mc.Mailpit) -> None:
        self.tree = tree
        self.env = {**os.environ, **stack.env(), "EMAIL_HOST": mailpit.smtp_host,
                    "EMAIL_PORT": str(mailpit.smtp_port), "PYTHONPATH": str(tree)}
        self.log = Path(tempfile.mkstemp(prefix="lesson7-worker-", suffix=".log")[1])
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60) -> Worker:
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [str(APP_PYTHON), "-m", "celery", "-A", "config", "worker", "--pool=solo",
                 "--loglevel=INFO", "--without-gossip", "--without-mingle",
                 "--without-heartbeat", "--purge", "--hostname", f"l7-{os.getpid()}@localhost"],
                cwd=self.tree, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        while b" ready." not in self.log.read_bytes():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                tail = self.tail()
                self.stop()
                raise RuntimeError(f"celery worker did not start:\n{tail}")
            time.sleep(0.2)
        return self

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.proc = None


class Lab:
    """The served pair, Mailpit, and whichever tree's worker is running now."""

    def __init__(self, served: Served, stack: LocalStack, mailpit: mc.Mailpit,
                 starter_tree: Path) -> None:
        self.served, self.stack, self.mailpit = served, stack, mailpit
        self.trees = {"starter": starter_tree, "reference": APP_DIR}
        self.current: tuple[str, Worker] | None = None

    def worker(self, tree: str) -> Worker:
        if self.current and self.current[0] == tree:
            return self.current[1]
        self.stop()
        self.current = (tree, Worker(self.trees[tree], self.stack, self.mailpit).start())
        return self.current[1]

    def stop(self) -> None:
        if self.current:
            self.current[1].stop()
            self.current[1].log.unlink(missing_ok=True)
            self.current = None


@pytest.fixture(scope="module")
def lab(toolchain, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    need_app()
    tmp = tmp_path_factory.mktemp("l7")
    with contextlib.ExitStack() as stack_cm:
        stack = stack_cm.enter_context(LocalStack(seed=None))
        mailpit = stack_cm.enter_context(mc.Mailpit(toolchain.mailpit))
        served = stack_cm.enter_context(serve_pair(LESSON, tmp, stack=stack))
        lab = Lab(served, stack, mailpit, tmp / f"lesson-{LESSON}-starter")
        stack_cm.callback(lab.stop)
        yield lab


def test_starter_fails_every_check(lab: Lab, monkeypatch: pytest.MonkeyPatch) -> None:
    worker = lab.worker("starter")
    monkeypatch.setattr(email_jobs, "DELIVERY_TIMEOUT_S", STARTER_WAIT_S)
    results = run(LESSON, lab.served.starter_url, mail_url=lab.mailpit.api_url)
    failed = failures(results)
    assert set(failed) == {c.id for c in checks_for(LESSON)}, worker.tail()
    assert "no 'Booking confirmed' e-mail to mailguest-" in failed["email.booking-confirmed"]
    assert "fix email.booking-confirmed first" in failed["email.retried"]
    assert ".delay()" in results["email.booking-confirmed"].hint
    assert "autoretry_for" in results["email.retried"].hint


def test_a_refused_delivery_is_lost_without_retry(lab: Lab, monkeypatch: pytest.MonkeyPatch
                                                  ) -> None:
    # The reference API queues the task; the starter's worker runs it without retries.
    worker = lab.worker("starter")
    monkeypatch.setattr(email_jobs, "RETRY_TIMEOUT_S", 10.0)
    [check] = [c for c in checks_for(LESSON) if c.id == "email.retried"]
    result = check.run(CheckContext(namespace="local-check", learner="check", cohort="local",
                                    base_url=lab.served.reference_url,
                                    mail_url=lab.mailpit.api_url))
    assert not result.passed, worker.tail()
    assert "refused (451 from Mailpit" in result.detail
    assert "no retry delivered it within 10s" in result.detail
    assert "SMTPRecipientsRefused" in worker.tail()
    chaos = requests.get(f"{lab.mailpit.api_url}/api/v1/chaos", timeout=5).json()
    assert chaos["Recipient"]["Probability"] == 0  # the check turned chaos off again


def test_reference_passes_every_check(lab: Lab) -> None:
    worker = lab.worker("reference")
    results = run(LESSON, lab.served.reference_url, mail_url=lab.mailpit.api_url)
    assert set(results) == {c.id for c in checks_for(LESSON)}
    assert failures(results) == {}, worker.tail()
    assert "a retry delivered the e-mail" in results["email.retried"].detail
    assert "Retry in" in worker.tail()


def test_mail_url_flag_is_named(lab: Lab) -> None:
    failed = failures(run(LESSON, lab.served.reference_url))
    assert set(failed) == {c.id for c in checks_for(LESSON)}
    assert all("--mail-url" in detail for detail in failed.values())
