"""kind tier: lessons 4 and 1 as a learner runs them, with real pods on the session's cluster.

Each lesson's lab is brought up once by the real command (`invoke lab up ... --context
kind-<cluster>`: images built offline and pushed to the cluster's registry, the Pulumi program
run) and shared by its class's tests, then removed with `invoke lab down`. The checks run as
`invoke lab check` does: the starter (a fresh lab, the learner's untouched app copy) fails,
the reference solution (lesson 4: labs/checks/solution_lesson4.py after pushing the `:2.0`
image as the guide says; lesson 1: the reference app written into the learner's copy and
rolled out by `lab up`) passes.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from labs.checks import checks_for
from labs.checks.solution_lesson4 import api_image, blue_green, roll_out, route_api, scale
from labs.checks.solution_lesson4 import wait_ready as rollout_status
from labs.practice.app_workspace import STARTER_TAG, workspace_path
from labs.practice.git_practice import default_practice_root
from labs.practice.solution_app import solve_app

pytestmark = pytest.mark.kind

ROOT = Path(__file__).resolve().parents[2]
INVOKE = Path(sys.executable).parent / "invoke"
UP_TIMEOUT = 600  # a cold image build and the first rollout on a 2-core node
# A pod in one of these states longer than this (seconds) will not start by waiting: `lab up`
# is stopped then, rather than waiting out Pulumi's own ~10 minutes.
STUCK_AFTER = {"ImagePullBackOff": 90, "ErrImagePull": 90, "CrashLoopBackOff": 90,
               "CreateContainerConfigError": 60, "CreateContainerError": 60,
               "InvalidImageName": 30, "RunContainerError": 60, "Unschedulable": 240,
               "FailedCreate": 60}
CONTENT_TAG = re.compile(r"^localhost:5001/prodev-labs/api:[0-9a-f]{12}$")


@dataclass(frozen=True)
class Lab:
    lesson: int
    learner: str
    context: str
    core: client.CoreV1Api
    api: client.ApiClient

    @property
    def namespace(self) -> str:
        return f"local-{self.learner}"

    @property
    def host(self) -> str:
        return f"{self.learner}.labs.localhost"

    def flags(self) -> list[str]:
        return ["--lesson", str(self.lesson), "--learner", self.learner,
                "--context", self.context]


def _stuck(lab: Lab) -> dict[str, tuple[str, str]]:
    """Object -> (state, message) for pods that cannot start as things are now: a container
    waiting in a failing state, a pod the scheduler cannot place, or a ReplicaSet whose pods
    are refused (Pod Security, quota)."""
    stuck: dict[str, tuple[str, str]] = {}
    with contextlib.suppress(ApiException):
        for pod in lab.core.list_namespaced_pod(lab.namespace).items:
            for status in [*(pod.status.init_container_statuses or []),
                           *(pod.status.container_statuses or [])]:
                waiting = status.state.waiting if status.state else None
                if waiting and waiting.reason in STUCK_AFTER:
                    stuck[pod.metadata.name] = (waiting.reason, waiting.message or "")
            for cond in pod.status.conditions or []:
                if cond.type == "PodScheduled" and cond.reason == "Unschedulable":
                    stuck[pod.metadata.name] = ("Unschedulable", cond.message or "")
        for rs in client.AppsV1Api(lab.api).list_namespaced_replica_set(lab.namespace).items:
            for cond in rs.status.conditions or []:
                if cond.type == "ReplicaFailure" and cond.status == "True":
                    stuck[rs.metadata.name] = ("FailedCreate", cond.message or "")
    return stuck


def invoke_lab(action: str, lab: Lab, *extra: str,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(INVOKE), "lab", action, *lab.flags(), *extra], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout, check=False)


def lab_up(lab: Lab) -> float:
    """`invoke lab up` for the lab; its wall time. Stopped early (Ctrl-C, as a learner would)
    when a pod sits in a failing state, rather than waiting out Pulumi's own timeout."""
    started = time.monotonic()
    proc = subprocess.Popen([str(INVOKE), "lab", "up", *lab.flags()], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.extend(proc.stdout or []), daemon=True)
    reader.start()
    first_seen: dict[tuple[str, str], float] = {}
    why = ""
    while proc.poll() is None:
        now = time.monotonic()
        stuck = _stuck(lab)
        first_seen = {(k, s[0]): first_seen.get((k, s[0]), now) for k, s in stuck.items()}
        late = [f"{k} {state} for {now - t:.0f}s: {stuck[k][1]}"
                for (k, state), t in first_seen.items() if now - t > STUCK_AFTER[state]]
        if late or now - started > UP_TIMEOUT:
            why = "; ".join(late) or f"over {UP_TIMEOUT}s"
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            break
        time.sleep(3)
    reader.join(10)
    log = "".join(out)[-4000:]
    assert not why and proc.returncode == 0, f"lab up {lab.flags()} failed ({why}):\n{log}"
    return time.monotonic() - started


class Downs:
    """`invoke lab down` of each lab, started when its class ends (it mostly waits for pods
    to stop, so the next lab comes up meanwhile) and awaited at the module's end."""

    def __init__(self) -> None:
        self.running: list[tuple[Lab, subprocess.Popen[str]]] = []

    def start(self, lab: Lab) -> None:
        self.running.append((lab, subprocess.Popen(
            [str(INVOKE), "lab", "down", *lab.flags()], cwd=ROOT, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True)))

    def finish(self) -> None:
        for lab, proc in self.running:
            out, _ = proc.communicate(timeout=300)
            assert proc.returncode == 0, f"lab down {lab.flags()}: {out[-3000:]}"
            names = [n.metadata.name for n in lab.core.list_namespace().items]
            assert lab.namespace not in names, f"{lab.namespace} left after lab down"


@pytest.fixture(scope="module")
def downs() -> Iterator[Downs]:
    pending = Downs()
    try:
        yield pending
    finally:
        pending.finish()


@contextlib.contextmanager
def running_lab(kind_cluster, downs: Downs, lesson: int, learner: str) -> Iterator[Lab]:
    lab = Lab(lesson, learner, f"kind-{kind_cluster.name}", kind_cluster.core, kind_cluster.api)
    try:
        took = lab_up(lab)
        print(f"lab up --lesson {lesson}: {took:.0f} s", flush=True)
        yield lab
    finally:
        downs.start(lab)


def check(lab: Lab, *extra: str) -> tuple[int, dict[str, dict]]:
    """`invoke lab check --json`: its exit code and the checks by id."""
    done = invoke_lab("check", lab, "--json", *extra, timeout=300)
    assert done.stdout.strip(), f"no JSON from lab check: {done.stderr[-2000:]}"
    report = json.loads(done.stdout)
    return done.returncode, {c["id"]: c for c in report["checks"]}


def failed(results: dict[str, dict]) -> dict[str, str]:
    return {k: c["detail"] for k, c in results.items() if not c["passed"]}


def get(host: str, path: str, port: int = 80, timeout: float = 5) -> tuple[int, str]:
    """GET through 127.0.0.1:`port` with `host` as Host (Traefik routes by it)."""
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace")
    except OSError as exc:
        return 0, repr(exc)


def eventually(host: str, path: str, port: int = 80, timeout: float = 60,
               want: frozenset[int] = frozenset({200})) -> tuple[int, str]:
    """The first answer of a status in `want` within `timeout` (a new route reaches Traefik
    a moment later), else the last answer."""
    deadline = time.monotonic() + timeout
    while True:
        got = get(host, path, port)
        if got[0] in want or time.monotonic() > deadline:
            return got
        time.sleep(1)


def assert_all_ready(lab: Lab) -> list[client.V1Pod]:
    """Every pod Running and Ready, but the migration Job's (Succeeded); the Job Complete;
    every container within the restricted Pod Security Standard."""
    pods = [p for p in lab.core.list_namespaced_pod(lab.namespace).items
            if not p.metadata.deletion_timestamp]  # old replicas draining after a rollout
    assert pods
    for pod in pods:
        name = f"{lab.namespace}/{pod.metadata.name}"
        owner = (pod.metadata.owner_references or [None])[0]
        if owner is not None and owner.kind == "Job":
            assert pod.status.phase == "Succeeded", f"{name} is {pod.status.phase}"
        else:
            assert pod.status.phase == "Running", f"{name} is {pod.status.phase}"
            assert all(s.ready for s in pod.status.container_statuses), f"{name} not ready"
        pod_ctx = pod.spec.security_context or client.V1PodSecurityContext()
        for c in pod.spec.containers + (pod.spec.init_containers or []):
            ctx = c.security_context or client.V1SecurityContext()
            where = f"{name}/{c.name}"
            assert (ctx.run_as_non_root or pod_ctx.run_as_non_root), where
            assert ctx.allow_privilege_escalation is False, where
            assert "ALL" in ((ctx.capabilities and ctx.capabilities.drop) or []), where
            profile = ctx.seccomp_profile or pod_ctx.seccomp_profile
            assert profile is not None and profile.type == "RuntimeDefault", where
    jobs = client.BatchV1Api(lab.api).list_namespaced_job(lab.namespace).items
    assert [j.metadata.name for j in jobs if j.metadata.name.startswith("api-migrate-")]
    for job in jobs:
        conditions = {c.type: c.status for c in job.status.conditions or []}
        assert conditions.get("Complete") == "True", f"Job {job.metadata.name}: {conditions}"
    ns = lab.core.read_namespace(lab.namespace)
    assert ns.metadata.labels["pod-security.kubernetes.io/enforce"] in {"baseline",
                                                                         "restricted"}
    return pods


@contextlib.contextmanager
def port_forward(kind_cluster, lab: Lab, target: str, port: int) -> Iterator[int]:
    """`kubectl port-forward <target> :<port>` as the guide runs it; the local port."""
    proc = subprocess.Popen([str(kind_cluster.kit.kubectl), "--kubeconfig",
                             str(kind_cluster.kubeconfig), "-n", lab.namespace,
                             "port-forward", target, f":{port}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"127\.0\.0\.1:(\d+)", line)
        assert match, f"port-forward said {line!r}: {proc.stderr.read() if proc.stderr else ''}"
        yield int(match[1])
    finally:
        proc.terminate()
        proc.wait(10)


class Poller:
    """GET a URL every 0.2 s in the background; every status seen, to find failed requests."""

    def __init__(self, host: str, path: str) -> None:
        self.host, self.path = host, path
        self.statuses: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.statuses.append(get(self.host, self.path, timeout=3)[0])
            time.sleep(0.2)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


@pytest.fixture(scope="class")
def lesson4(kind_cluster, downs: Downs) -> Iterator[Lab]:
    """Lesson 4's lab for learner h1a, up for the tests of one class."""
    with running_lab(kind_cluster, downs, 4, "h1a") as lab:
        yield lab


@pytest.fixture(scope="class")
def lesson1(kind_cluster, downs: Downs,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """Lesson 1's lab for learner h1b; their app copy goes under a scratch data dir, for
    `lab up` and for this process alike."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
        with running_lab(kind_cluster, downs, 1, "h1b") as lab:
            yield lab


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Lab:
    """The lab of the test's class (its `lesson`)."""
    return request.getfixturevalue(f"lesson{request.cls.lesson}")


class TestLesson4:
    lesson = 4

    def test_up_brings_every_pod_ready_and_the_migration_complete(self, lab: Lab) -> None:
        pods = assert_all_ready(lab)
        names = {p.metadata.labels.get("app.kubernetes.io/name") for p in pods}
        assert {"api", "worker", "postgres", "rabbitmq", "api-migrate"} <= names
        assert CONTENT_TAG.match(api_image(lab.api, lab.namespace))

    def test_the_api_answers_through_port_forward_and_the_ingress(self, kind_cluster,
                                                                   lab: Lab) -> None:
        with port_forward(kind_cluster, lab, "svc/api", 80) as local:
            status, body = eventually("localhost", "/healthz", port=local, timeout=30)
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        status, body = eventually(lab.host, "/healthz")
        assert (status, json.loads(body)) == (200, {"status": "ok"})
        status, body = eventually(lab.host, "/readyz")
        assert status == 200 and json.loads(body)["checks"] == {"database": "ok",
                                                                "broker": "ok"}

    def test_a_fresh_lab_fails_every_check(self, lab: Lab) -> None:
        code, results = check(lab)
        assert code == 1
        assert set(failed(results)) == {c.id for c in checks_for(4)}
        assert "1 replica(s), not 3" in results["k8s.scaled"]["detail"]
        assert "no Deployment api-blue" in results["k8s.blue-green"]["detail"]
        assert "its tag should be 2.0" in results["k8s.rolling-update"]["detail"]
        assert "no Ingress" in results["k8s.ingress"]["detail"]

    def test_the_reference_solution_passes_every_check(self, lab: Lab) -> None:
        # Step 1 as the guide has it on an offline cluster: the running image tagged 2.0.
        running = api_image(lab.api, lab.namespace)
        new = running.rpartition(":")[0] + ":2.0"
        pushing = time.monotonic()
        for args in (["tag", running, new], ["push", new]):
            done = subprocess.run(["docker", *args], capture_output=True, text=True,
                                  timeout=300, check=False)
            assert done.returncode == 0, f"docker {args}: {done.stderr[-1000:]}"

        started = time.monotonic()
        print(f"push {started - pushing:.0f} s", flush=True)
        scale(lab.api, lab.namespace)
        rollout_status(lab.api, lab.namespace, "api", timeout=240)
        scaled = time.monotonic()
        # The rollout and the switch to green with a client watching, as in the guide.
        with Poller(lab.host, "/healthz") as watch:
            old, rolled = roll_out(lab.api, lab.namespace)
            assert (old, rolled) == (running, new)
            rollout_status(lab.api, lab.namespace, "api", timeout=300)
            rolled_at = time.monotonic()
            blue_green(lab.api, lab.namespace, old, rolled, ready_timeout=240)
            time.sleep(3)
        route_api(lab.api, lab.namespace)
        print(f"scale {scaled - started:.0f} s, rollout {rolled_at - scaled:.0f} s, "
              f"blue/green {time.monotonic() - rolled_at:.0f} s; "
              f"{len(watch.statuses)} requests meanwhile", flush=True)
        bad = [s for s in watch.statuses if s != 200]
        assert len(watch.statuses) > 20 and not bad, \
            f"{len(bad)} of {len(watch.statuses)} requests failed: {sorted(set(bad))}"

        checking = time.monotonic()
        deadline = time.monotonic() + 120  # the new pods reach ready, the controller counts
        while (result := check(lab))[0] != 0 and time.monotonic() < deadline:
            time.sleep(3)
        code, results = result
        print(f"checks pass {time.monotonic() - checking:.0f} s after", flush=True)
        assert code == 0, failed(results)
        assert "api → api-green" in results["k8s.blue-green"]["detail"]
        assert f"{new}: 3/3 updated and available" == results["k8s.rolling-update"]["detail"]
        assert f"api-routes: {lab.host}/api/ → api" == results["k8s.ingress"]["detail"]
        # Green now serves the lab's host: through the Ingress, and /api/ by api-routes.
        assert eventually(lab.host, "/healthz")[0] == 200
        # The API's own answer (401: no token), not Traefik's 404 or 502.
        status, body = eventually(lab.host, "/api/conversations/", want=frozenset({401}))
        assert status == 401 and "detail" in json.loads(body)


class TestLesson1:
    lesson = 1

    @staticmethod
    def work(lab: Lab) -> Path:
        return workspace_path(default_practice_root("local", lab.learner), 1)

    def check_through_ingress(self, lab: Lab) -> tuple[int, dict[str, dict]]:
        return check(lab, "--url", f"http://{lab.host}")

    def test_up_runs_the_learners_starter_without_a_broker(self, lab: Lab) -> None:
        pods = assert_all_ready(lab)
        names = {p.metadata.labels.get("app.kubernetes.io/name") for p in pods}
        assert names == {"api", "postgres", "api-migrate"}  # no RabbitMQ, no worker
        api = next(p for p in pods if p.metadata.labels["app.kubernetes.io/name"] == "api")
        env = {e.name: e.value for e in api.spec.containers[0].env}
        assert env["TASK_BROKER"] == "none"
        assert CONTENT_TAG.match(api.spec.containers[0].image)
        status, body = eventually(lab.host, "/readyz")
        assert status == 200 and json.loads(body)["checks"] == {
            "database": "ok", "broker": "not configured"}
        tags = subprocess.run(["git", "tag"], cwd=self.work(lab), capture_output=True,
                              text=True, check=True).stdout.split()
        assert tags == [STARTER_TAG]

    def test_the_starter_fails_the_exercise_checks(self, lab: Lab) -> None:
        code, results = self.check_through_ingress(lab)
        assert code == 1
        # JWT sign-in is given to learners in the starter; everything they build must fail.
        assert set(failed(results)) == {c.id for c in checks_for(1)} - {"api.jwt"}
        assert results["api.jwt"]["passed"]
        detail = failed(results)
        assert "Eve (not a participant) sees" in detail["api.conversations-private"]
        assert "expected 20 of 23" in detail["api.messages-nested"]
        assert "returned None" in detail["graphql.hello"]

    def test_the_reference_solution_rolled_out_by_lab_up_passes(self, lab: Lab) -> None:
        work = self.work(lab)
        assert solve_app(1, work)
        subprocess.run(["git", "commit", "-qam", "lesson 1 done"], cwd=work, check=True)
        before = api_image(lab.api, lab.namespace)
        took = lab_up(lab)
        print(f"lab up --lesson 1 with the solution: {took:.0f} s", flush=True)
        after = api_image(lab.api, lab.namespace)
        assert after != before and CONTENT_TAG.match(after)  # the learner's code, rebuilt
        assert_all_ready(lab)
        code, results = self.check_through_ingress(lab)
        assert code == 0, failed(results)
