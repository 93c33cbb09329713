"""kind tier: lessons 7 (Celery + RabbitMQ e-mail) and 6 (Chapa) on real pods.

One lab of each for the module, brought up by the real `invoke lab up` from a learner's app copy
that holds the reference solution, and removed by `invoke lab down` at the end:
- lesson 7 (learner h2a): every pod Ready (api, worker, beat, mailpit, postgres, rabbitmq); a
  booking made through the API is e-mailed by the in-cluster worker, through RabbitMQ, into the
  namespace's Mailpit; `lab check --lesson 7` passes through the learner's port-forwards.
- lesson 6 (learner h2b): a checkout paid at the in-cluster Chapa sandbox settles the payment
  through the sandbox's signed webhook to the API, with no one calling verify; `lab check
  --lesson 6` passes, settle-once included.
- `cohort check` reaches each learner's own Mailpit and sandbox: two learners' lesson-7 checks
  (the lesson-6 lab has Mailpit, RabbitMQ and a worker too) land in two different Mailpits.
"""

from __future__ import annotations

import csv
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from labs import mailcatcher
from labs.checks.http import Api, book, host_listing, results, signed_in
from tests.infra.kind_support import KindCluster
from tests.labs.kind_labs import (
    build_lab_images,
    invoke,
    invoke_all,
    port_forward,
    reference_app_copy,
)

pytestmark = pytest.mark.kind

EMAIL, PAYMENTS = "h2a", "h2b"  # learners: lesson 7 in local-h2a, lesson 6 in local-h2b
LESSON_OF = {EMAIL: 7, PAYMENTS: 6}
UP_TIMEOUT_S = 900  # a failing rollout waits on Pulumi's await; the kind tier bounds it
MAIL_TIMEOUT_S = 60


@dataclass(frozen=True)
class Labs:
    cluster: KindCluster
    context: str
    env: dict[str, str]

    def lab(self, action: str, learner: str, *extra: str, timeout: float = 300
            ) -> subprocess.CompletedProcess[str]:
        return invoke("lab", action, "--lesson", str(LESSON_OF[learner]), "--learner", learner,
                      "--context", self.context, *extra, env=self.env, timeout=timeout)

    def forward(self, learner: str, service: str, port: int):
        return port_forward(self.cluster, f"local-{learner}", service, port)


@pytest.fixture(scope="module")
def labs(kind_cluster: KindCluster, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Labs]:
    home = tmp_path_factory.mktemp("learner-data")
    got = Labs(kind_cluster, f"kind-{kind_cluster.name}", {"XDG_DATA_HOME": str(home)})
    commands = {learner: ("--lesson", str(lesson), "--learner", learner, "--context",
                          got.context) for learner, lesson in LESSON_OF.items()}
    started = False
    try:
        for learner, lesson in LESSON_OF.items():
            copy = reference_app_copy(home, "local", learner, lesson)
            build_lab_images(kind_cluster, lesson, learner, copy)
        started = True
        # Both at once: two stacks and namespaces, nothing shared but cached images.
        for learner, up in zip(commands, invoke_all(
                [("lab", "up", *args) for args in commands.values()], env=got.env,
                timeout=UP_TIMEOUT_S), strict=True):
            assert up.returncode == 0, f"lab up {commands[learner]}:\n{up.stderr[-4000:]}"
        yield got
    finally:
        if started:
            downs = invoke_all([("lab", "down", *args) for args in commands.values()],
                               env=got.env)
            left = [ns.metadata.name for ns in kind_cluster.core.list_namespace().items
                    if ns.metadata.name in {f"local-{learner}" for learner in LESSON_OF}]
            failed = [d.stderr[-2000:] for d in downs if d.returncode != 0]
            assert not failed and not left, f"lab down: {failed}; namespaces left: {left}"


def _pods_ready(cluster: KindCluster, namespace: str) -> dict[str, bool]:
    """Ready per workload (the pod's app.kubernetes.io/name) of the running pods."""
    ready: dict[str, bool] = {}
    for pod in cluster.core.list_namespaced_pod(namespace).items:
        if pod.status.phase == "Succeeded":
            continue  # the migration Job's pod
        name = pod.metadata.labels.get("app.kubernetes.io/name", pod.metadata.name)
        ready[name] = ready.get(name, True) and all(
            c.ready for c in pod.status.container_statuses or [])
    return ready


def test_lesson7_lab_is_ready_with_worker_beat_and_mailpit(labs: Labs) -> None:
    status = labs.lab("status", EMAIL, "--json")
    assert status.returncode == 0, status.stderr[-2000:]
    rows = {row["name"]: row["is_ready"] for row in json.loads(status.stdout)}
    expected = {"api", "worker", "beat", "mailpit", "postgres", "rabbitmq"}
    assert rows == dict.fromkeys(expected, True)
    assert _pods_ready(labs.cluster, f"local-{EMAIL}") == dict.fromkeys(expected, True)


def test_a_booking_is_emailed_by_the_worker_through_rabbitmq_into_mailpit(labs: Labs) -> None:
    with labs.forward(EMAIL, "api", 80) as api, labs.forward(EMAIL, "mailpit", 8025) as mail:
        host_client, host = signed_in(api, role="host", label="kindhost")
        listing = host_listing(host_client, host)
        guest_client, guest = signed_in(api, label="kindguest")
        booking_id = str(book(guest_client, guest, str(listing["listing_id"]))["booking_id"])
        message = mailcatcher.wait_for_message(mail, guest.email, timeout=MAIL_TIMEOUT_S)
        text = mailcatcher.message(mail, message["ID"])["Text"]
    assert message["Subject"].startswith("Booking confirmed") and booking_id in text
    # The worker pod ran it (the API publishes to RabbitMQ; tasks are never eager there).
    logs = labs.cluster.kubectl("-n", f"local-{EMAIL}", "logs", "deploy/worker").stdout
    done = [line for line in logs.splitlines()
            if "send_booking_confirmation[" in line and "succeeded" in line]
    assert any(booking_id in line for line in done), logs[-3000:]
    env = labs.cluster.kubectl("-n", f"local-{EMAIL}", "exec", "deploy/api", "--",
                               "printenv", "TASK_BROKER", "RABBITMQ_HOST", "EMAIL_HOST").stdout
    assert env.split() == ["rabbitmq", "rabbitmq", "mailpit"]


def test_lab_check_lesson7_passes_through_the_learners_port_forwards(labs: Labs) -> None:
    with labs.forward(EMAIL, "api", 80) as api, labs.forward(EMAIL, "mailpit", 8025) as mail:
        check = labs.lab("check", EMAIL, "--url", api, "--mail-url", mail, "--json")
    report = json.loads(check.stdout)
    assert check.returncode == 0 and report["passed"], json.dumps(report, indent=1)
    assert {c["id"] for c in report["checks"]} == {"email.booking-confirmed", "email.retried"}


def test_a_checkout_paid_at_the_sandbox_settles_through_its_signed_webhook(labs: Labs) -> None:
    """The real Chapa flow, all in the namespace: the API initializes at the sandbox; the payer
    pays on the hosted page; the sandbox's signed webhook reaches the API, which verifies with
    the sandbox and completes the payment. Nobody calls verify from outside."""
    with labs.forward(PAYMENTS, "api", 80) as api, \
            labs.forward(PAYMENTS, "chapa-sandbox", 80) as chapa:
        host_client, host = signed_in(api, role="host", label="kindhost")
        listing = host_listing(host_client, host)
        guest_client, guest = signed_in(api, label="kindpayer")
        booking = book(guest_client, guest, str(listing["listing_id"]))
        payment = guest_client.post("/api/payments/initiate/",
                                    {"booking": str(booking["booking_id"])}).expect(
            201, doing="initiate")
        assert payment["status"] == "pending" and payment["checkout_url"].startswith(
            f"http://chapa-sandbox.local-{PAYMENTS}.svc/checkout/payment/")
        page = chapa + payment["checkout_url"].split(".svc", 1)[1]
        assert payment["tx_ref"] in requests.get(page, timeout=30).text
        paid = requests.post(page, data={"outcome": "success"}, timeout=30)
        assert paid.status_code in (200, 302), paid.text[:500]
        status = _payment_status(Api(api, guest.token), payment["tx_ref"])
    assert status == "completed"
    logs = labs.cluster.kubectl("-n", f"local-{PAYMENTS}", "logs", "deploy/chapa-sandbox").stdout
    assert f"webhook http://api.local-{PAYMENTS}.svc/api/payments/webhook/ -> 200" in logs


def _payment_status(guest: Api, tx_ref: str, timeout: float = 30) -> str | None:
    deadline = time.monotonic() + timeout
    while True:
        listed = results(guest.get("/api/payments/").expect(200, doing="list payments"))
        status = next((p["status"] for p in listed if p["tx_ref"] == tx_ref), None)
        if status != "pending" or time.monotonic() > deadline:
            return status
        time.sleep(1)


def test_lab_check_lesson6_passes_against_the_in_cluster_sandbox(labs: Labs) -> None:
    with labs.forward(PAYMENTS, "api", 80) as api, \
            labs.forward(PAYMENTS, "chapa-sandbox", 80) as chapa:
        # the webhook secret: read from the namespace's app Secret by the command itself
        check = labs.lab("check", PAYMENTS, "--url", api, "--chapa-url", chapa, "--json")
    report = json.loads(check.stdout)
    assert check.returncode == 0 and report["passed"], json.dumps(report, indent=1)
    details = {c["id"]: c["detail"] for c in report["checks"]}
    assert "settled it once" in details["payments.settle-once"]  # the burst really raced


def _recipients(url: str) -> set[str]:
    listed = requests.get(f"{url}/api/v1/messages", params={"limit": 1000}, timeout=10).json()
    return {a["Address"] for m in listed["messages"] for a in m.get("To") or ()}


def _roster(path: Path, lesson: int, learners: tuple[str, ...]) -> Path:
    rows = "".join(f"  - {{id: {lr}, name: Learner {lr}, email: {lr}@example.com}}\n"
                   for lr in learners)
    path.write_text(f"cohort: local\nlesson: {lesson}\nlearners:\n{rows}")
    return path


def _report(out: Path) -> dict[str, dict[str, str]]:
    with (out / "cohort-report.csv").open() as f:
        return {row["learner"]: row for row in csv.DictReader(f)}


def test_cohort_check_reaches_each_learners_own_mailpit_and_sandbox(
        labs: Labs, tmp_path: Path) -> None:
    """A lesson-7 cohort check over both labs (cohort `local`: the same namespaces) and a
    lesson-6 one over the sandbox's. Each learner's booking e-mails land in their own Mailpit
    only: one shared port-forward would send both learners' checks to one of them."""
    with labs.forward(EMAIL, "mailpit", 8025) as a, labs.forward(PAYMENTS, "mailpit", 8025) as b:
        boxes = {EMAIL: a, PAYMENTS: b}
        before = {learner: _recipients(url) for learner, url in boxes.items()}
        out7 = tmp_path / "lesson7"
        run7 = invoke("cohort", "check", "--roster",
                      str(_roster(tmp_path / "l7.yaml", 7, (EMAIL, PAYMENTS))),
                      "--context", labs.context, "--out", str(out7), env=labs.env)
        new = {learner: _recipients(url) - before[learner] for learner, url in boxes.items()}
    assert run7.returncode == 0, run7.stderr[-3000:]
    report = _report(out7)
    for learner in (EMAIL, PAYMENTS):
        assert (report[learner]["email.booking-confirmed"], report[learner]["email.retried"]) \
            == ("pass", "pass"), run7.stderr[-3000:]
        assert new[learner] and all(a.startswith("mailguest-") for a in new[learner])
    assert not new[EMAIL] & new[PAYMENTS]  # two Mailpits, each with its own learner's mail

    out6 = tmp_path / "lesson6"
    run6 = invoke("cohort", "check", "--roster",
                  str(_roster(tmp_path / "l6.yaml", 6, (PAYMENTS,))),
                  "--context", labs.context, "--out", str(out6), env=labs.env)
    assert run6.returncode == 0, run6.stderr[-3000:]
    row = _report(out6)[PAYMENTS]
    assert (row["passed"], row["total"]) == ("4", "4"), run6.stderr[-3000:]
    assert (out6 / "cohort-report.html").is_file()
