"""Lesson 6: every payment check fails on the starter app and passes on the reference.

Both trees run under gunicorn on loopback (one throwaway Postgres + RabbitMQ) against the real
Chapa sandbox (labs/chapa_sandbox) in this process. As in the lab, where the sandbox cannot
reach an API the learner port-forwards, Chapa's callback goes nowhere (APP_PUBLIC_URL points at
a closed port) and no webhook URL is configured: only the checks' own verify, callback and
webhook requests settle payments, so settle-once is exercised with real concurrency.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from labs.chapa_sandbox import ChapaSandbox, generate_test_key
from labs.checks import checks_for
from labs.loadtest.localapp import free_port
from tests.labs.checks.app_support import Served, failures, run, serve_pair

pytestmark = pytest.mark.service

LESSON = 6
WEBHOOK_SECRET = "whsec-lab-" + os.urandom(8).hex()


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ChapaSandbox]:
    with ChapaSandbox(secret_key=generate_test_key(), webhook_secret=WEBHOOK_SECRET) as server:
        yield server


@pytest.fixture(scope="module")
def served(sandbox: ChapaSandbox, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    env = {"CHAPA_BASE_URL": sandbox.url, "CHAPA_SECRET_KEY": sandbox.secret_key,
           "CHAPA_WEBHOOK_SECRET": WEBHOOK_SECRET,
           "APP_PUBLIC_URL": f"http://127.0.0.1:{free_port()}"}  # nothing listens there
    with serve_pair(LESSON, tmp_path_factory.mktemp("l6"), env=env) as pair:
        yield pair


def _run(url: str, sandbox: ChapaSandbox, **fields: object) -> dict:
    return run(LESSON, url, **{"chapa_url": sandbox.url,
                               "chapa_webhook_secret": WEBHOOK_SECRET, **fields})


def test_reference_passes_every_check(served: Served, sandbox: ChapaSandbox) -> None:
    results = _run(served.reference_url, sandbox)
    assert set(results) == {c.id for c in checks_for(LESSON)}
    assert failures(results) == {}
    assert "settled it once" in results["payments.settle-once"].detail


def test_starter_fails_every_check_for_its_reason(served: Served, sandbox: ChapaSandbox
                                                   ) -> None:
    results = _run(served.starter_url, sandbox)
    failed = failures(results)
    assert set(failed) == {c.id for c in checks_for(LESSON)}
    assert "another guest initiated a payment for someone else's booking" in \
        failed["payments.initiate"]
    assert "after paying at the checkout, verify shows status 'pending'" in \
        failed["payments.checkout-verify"]
    assert "a webhook event with a forged signature got HTTP 200, not 401" in \
        failed["payments.webhook"]
    assert "answered changed=true" in failed["payments.settle-once"]
    assert "times" in failed["payments.settle-once"]
    assert all(results[k].hint for k in failed)


def test_missing_flags_are_named_before_anything_is_made(served: Served) -> None:
    failed = failures(run(LESSON, served.reference_url))
    assert set(failed) == {c.id for c in checks_for(LESSON)}
    assert failed["payments.initiate"] == failed["payments.checkout-verify"] \
        == "this check needs --chapa-url (see `invoke --help lab`)"
    assert failed["payments.webhook"] == failed["payments.settle-once"]
    assert "--chapa-webhook-secret" in failed["payments.webhook"]
