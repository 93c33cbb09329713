"""kind tier: a class of three on real pods, lesson 4 (the lightest realistic lab).

`invoke cohort up` from a roster written here shows its live board (each learner seen working,
then done), `cohort status` shows every learner Ready, each learner's API answers through its
own ingress host, `cohort check` writes its report (one learner did the Ingress exercise, so the
report tells learners apart), and `cohort down` leaves nothing of the cohort on the cluster.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from kubernetes import client

from infra.labels import COHORT, PART_OF, cohort_selector
from tests.infra.kind_support import KindCluster
from tests.labs.kind_labs import invoke

pytestmark = pytest.mark.kind

NAME = "h2c"
LEARNERS = ("h2b", "h2c", "h2d")
LESSON = 4
UP_TIMEOUT_S = 900
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


@dataclass(frozen=True)
class Cohort:
    cluster: KindCluster
    context: str
    roster: Path
    up: subprocess.CompletedProcess[str]

    def run(self, action: str, *extra: str, timeout: float = 600,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return invoke("cohort", action, "--roster", str(self.roster), "--context",
                      self.context, *extra, env=env, timeout=timeout)

    @property
    def namespaces(self) -> set[str]:
        return {f"{NAME}-{learner}" for learner in LEARNERS}


def write_roster(path: Path) -> Path:
    rows = "".join(f"  - {{id: {lr}, name: Learner {lr.upper()}, email: {lr}@example.com}}\n"
                   for lr in LEARNERS)
    path.write_text(f"cohort: {NAME}\nlesson: {LESSON}\nlearners:\n{rows}")
    return path


@pytest.fixture(scope="module")
def cohort(kind_cluster: KindCluster, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Cohort]:
    roster = write_roster(tmp_path_factory.mktemp("cohort") / "roster.yaml")
    context = f"kind-{kind_cluster.name}"
    # A terminal as far as rich can tell (FORCE_COLOR and TERM for rich 13, which lacks the
    # TTY_* switches): the board is redrawn live, as a user sees it.
    live = {"TTY_COMPATIBLE": "1", "TTY_INTERACTIVE": "1", "FORCE_COLOR": "1", "NO_COLOR": "1",
            "TERM": "xterm-256color"}
    up = invoke("cohort", "up", "--roster", str(roster), "--context", context,
                "--parallel", str(len(LEARNERS)), env=live, timeout=UP_TIMEOUT_S)
    got = Cohort(kind_cluster, context, roster, up)
    try:
        yield got
    finally:
        if _left(kind_cluster):  # the down test did not run or did not finish
            got.run("down")


def _left(cluster: KindCluster) -> list[str]:
    """Anything of the cohort on the cluster: its namespaces (even terminating), labelled
    cluster-scoped objects, and volumes its claims had."""
    selector = cohort_selector(NAME)
    left = [f"Namespace/{ns.metadata.name}" for ns in cluster.core.list_namespace().items
            if ns.metadata.name.startswith(f"{NAME}-")
            or (ns.metadata.labels or {}).get(COHORT) == NAME]
    rbac = client.RbacAuthorizationV1Api(cluster.api)
    left += [f"ClusterRole/{o.metadata.name}"
             for o in rbac.list_cluster_role(label_selector=selector).items]
    left += [f"ClusterRoleBinding/{o.metadata.name}"
             for o in rbac.list_cluster_role_binding(label_selector=selector).items]
    left += [f"PersistentVolume/{pv.metadata.name}"
             for pv in cluster.core.list_persistent_volume().items
             if pv.spec.claim_ref and pv.spec.claim_ref.namespace.startswith(f"{NAME}-")]
    return left


def test_cohort_up_shows_each_learner_working_then_done(cohort: Cohort) -> None:
    assert cohort.up.returncode == 0, cohort.up.stderr[-4000:]
    board = ANSI.sub("", cohort.up.stderr)
    assert f"cohort {NAME}: up lesson {LESSON}, {len(LEARNERS)} learners" in board
    for learner in LEARNERS:
        working = re.search(rf"│ {learner}\s+│ working", board)
        done = list(re.finditer(rf"│ {learner}\s+│ done\s+│ ([^│]+)│", board))
        assert working and done and done[-1].start() > working.start(), board[-3000:]
        assert re.match(r"create \d+ \(\d+s\)", done[-1][1]), done[-1][1]  # made it
    assert f"{len(LEARNERS)}/{len(LEARNERS)} learners up in" in board


def test_cohort_status_shows_every_learner_ready(cohort: Cohort) -> None:
    status = cohort.run("status", "--json")
    assert status.returncode == 0, status.stderr[-2000:]
    learners = json.loads(status.stdout)["learners"]
    assert set(learners) == set(LEARNERS)
    for learner, info in learners.items():
        assert info["ready"], (learner, info)
        assert info["components"] == {"api": "1/1", "postgres": "1/1", "rabbitmq": "1/1",
                                      "worker": "1/1"}, (learner, info)
    for learner in LEARNERS:  # each learner's own ingress host reaches their own API
        answer = requests.get("http://127.0.0.1/healthz", timeout=10,
                              headers={"Host": f"{learner}.labs.localhost"})
        assert answer.status_code == 200, (learner, answer.status_code, answer.text[:200])


def test_cohort_check_writes_a_report_telling_learners_apart(
        cohort: Cohort, tmp_path: Path) -> None:
    first = LEARNERS[0]  # does lesson 4's Ingress exercise; the others have not yet
    net = client.NetworkingV1Api(cohort.cluster.api)
    net.create_namespaced_ingress(f"{NAME}-{first}", client.V1Ingress(
        metadata=client.V1ObjectMeta(name="api-routes"),
        spec=client.V1IngressSpec(rules=[client.V1IngressRule(
            host=f"{first}.labs.localhost", http=client.V1HTTPIngressRuleValue(paths=[
                client.V1HTTPIngressPath(path="/api/", path_type="Prefix",
                                         backend=client.V1IngressBackend(
                                             service=client.V1IngressServiceBackend(
                                                 name="api",
                                                 port=client.V1ServiceBackendPort(
                                                     number=80))))]))])))
    check = cohort.run("check", "--out", str(tmp_path))
    assert check.returncode == 0, check.stderr[-3000:]
    with (tmp_path / "cohort-report.csv").open() as f:
        rows = {row["learner"]: row for row in csv.DictReader(f)}
    assert set(LEARNERS) <= set(rows)
    for learner in LEARNERS:
        ids = ("k8s.scaled", "k8s.blue-green", "k8s.rolling-update", "k8s.ingress")
        assert all(rows[learner][i] in ("pass", "fail") for i in ids), rows[learner]
        expected = "pass" if learner == first else "fail"
        assert rows[learner]["k8s.ingress"] == expected, rows[learner]
    html = (tmp_path / "cohort-report.html").read_text()
    assert all(learner in html for learner in LEARNERS)


def test_cohort_down_leaves_nothing_of_the_cohort(cohort: Cohort) -> None:
    down = cohort.run("down")
    assert down.returncode == 0, down.stderr[-3000:]
    assert f"nothing labelled for cohort {NAME} is left on the cluster" in down.stderr
    # Volumes go a moment after their claims (the provisioner's helper deletes the data).
    deadline = time.monotonic() + 120
    while (left := _left(cohort.cluster)) and time.monotonic() < deadline:
        time.sleep(2)
    assert left == []
    labelled = cohort.cluster.kubectl("get", "all,ingress,pvc,secret,configmap,networkpolicy,"
                                      "resourcequota,limitrange,serviceaccount,role,rolebinding",
                                      "-A", "-l", f"app.kubernetes.io/part-of={PART_OF},"
                                      f"{COHORT}={NAME}", "-o", "name")
    assert labelled.stdout.strip() == ""
