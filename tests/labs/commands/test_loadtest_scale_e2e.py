"""e2e: in-cluster load test Jobs and `lab scale` on a learner's lab (simulated cluster).

One lesson-1 lab (the smallest with an `api` Deployment) is brought up for the module with
the real Pulumi engine. The commands run as a learner types them, through invoke, with
--context pointing at the simulated cluster.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from infra.automation import LearnerStack
from infra.components.loadgen import LoadTest, loadgen_manifests
from infra.kubeconfig import admin_client
from infra.learner_cluster import is_simulated_node
from labs.loadtest.incluster import (
    SimulatedClusterError,
    apply_run,
    delete_run,
    leftovers,
    wait_for_job,
)
from labs.spec import build_spec
from tests.infra.e2e_support import engine_for, target_for
from tests.test_tasks import run

pytestmark = pytest.mark.e2e
COHORT, LEARNER = "e2elt", "lt"
NAMESPACE = f"{COHORT}-{LEARNER}"
DESIGN_LABELS = ("app.kubernetes.io/part-of", "app.kubernetes.io/managed-by",
                 "labs.prodev.dev/cohort", "labs.prodev.dev/learner", "labs.prodev.dev/lesson")


@pytest.fixture(scope="module")
def lab(sim_cluster, toolchain, tmp_path_factory) -> Iterator[client.ApiClient]:
    spec = build_spec({"cohort": COHORT, "learner": LEARNER, "lesson": 1})
    stack = LearnerStack(spec, target_for(sim_cluster),
                         engine_for(toolchain, tmp_path_factory.mktemp("state")))
    stack.up()
    try:
        yield admin_client(sim_cluster.kubeconfig_path)
    finally:
        stack.destroy()


@pytest.fixture
def as_learner(sim_cluster, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """--context/--learner/--cohort flags for the sim cluster; reports/ goes to tmp_path."""
    kubeconfig = Path(sim_cluster.kubeconfig_path)
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    monkeypatch.chdir(tmp_path)
    context = yaml.safe_load(kubeconfig.read_text())["current-context"]
    return ["--context", context, "--learner", LEARNER, "--cohort", COHORT]


def _any_loadgen(api: client.ApiClient) -> list[str]:
    sel = "labs.prodev.dev/loadtest"
    core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
    listers = {"Job": batch.list_namespaced_job, "Pod": core.list_namespaced_pod,
               "Service": core.list_namespaced_service,
               "ConfigMap": core.list_namespaced_config_map}
    return [f"{kind}/{o.metadata.name}" for kind, lister in listers.items()
            for o in lister(NAMESPACE, label_selector=sel).items]


def _text(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    return " ".join((captured.out + captured.err).split())


def test_loadgen_job_is_accepted_and_scheduled(lab: client.ApiClient) -> None:
    spec = build_spec({"cohort": COHORT, "learner": LEARNER, "lesson": 1})
    load = LoadTest(users=2, duration_s=5, scenario="browse", run_id="e2e1")
    apply_run(lab, loadgen_manifests(spec, load))
    try:
        job = client.BatchV1Api(lab).read_namespaced_job(load.name, NAMESPACE)
        labels = job.metadata.labels
        assert all(labels.get(k) for k in DESIGN_LABELS), labels
        assert labels["labs.prodev.dev/loadtest"] == "e2e1"
        assert labels["app.kubernetes.io/component"] == "loadgen"

        with pytest.raises(SimulatedClusterError) as info:
            wait_for_job(lab, NAMESPACE, load, timeout_s=60, poll_s=0.5)
        pod = client.CoreV1Api(lab).read_namespaced_pod(info.value.pod, NAMESPACE)
        assert pod.spec.node_name == info.value.node
        assert is_simulated_node(client.CoreV1Api(lab).read_node(pod.spec.node_name))
        assert pod.metadata.labels["labs.prodev.dev/loadtest"] == "e2e1"
    finally:
        assert delete_run(lab, NAMESPACE, "e2e1") == []
    assert leftovers(lab, NAMESPACE, "e2e1") == []


@pytest.mark.parametrize("workers", [0, 2])
def test_loadtest_command_reports_the_simulated_cluster(
        lab: client.ApiClient, as_learner: list[str], workers: int, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    code = run(["loadtest", *as_learner, "--users", "2", "--duration", "5s",
                "--workers", str(workers)])
    text = _text(capsys)
    assert code == 2, text
    assert "was accepted and its pod" in text and "scheduled on node" in text, text
    assert "runs no containers" in text and "--target" in text
    assert ("-master" in text) == (workers > 0)
    assert _any_loadgen(lab) == []
    assert not (tmp_path / "reports").exists()  # no empty report directory either
    assert time.monotonic() - started < 90


def test_loadtest_without_a_lab_says_so(sim_cluster, as_learner: list[str],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    flags = [*as_learner[:2], "--learner", "nobody", "--cohort", COHORT]
    assert run(["loadtest", *flags, "--duration", "5s"]) == 2
    assert "namespace e2elt-nobody does not exist" in _text(capsys)


def _deployment(api: client.ApiClient) -> Any:
    return client.AppsV1Api(api).read_namespaced_deployment("api", NAMESPACE)


def test_lab_scale_changes_the_api_replicas(lab: client.ApiClient, as_learner: list[str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["lab", "scale", "--component", "api", "--replicas", "3", *as_learner]) == 0
    assert "1 -> 3 replicas" in _text(capsys)
    assert _deployment(lab).spec.replicas == 3
    deadline = time.monotonic() + 90
    while (_deployment(lab).status.ready_replicas or 0) < 3 and time.monotonic() < deadline:
        time.sleep(1)
    assert _deployment(lab).status.ready_replicas == 3

    # Beyond the small profile's max_replicas, and a component lesson 1 does not deploy.
    assert run(["lab", "scale", "--component", "api", "--replicas", "4", *as_learner]) == 2
    assert run(["lab", "scale", "--component", "worker", "--replicas", "1", *as_learner]) == 2
    text = _text(capsys)
    assert "--replicas must be 0..3" in text and "lesson 1 deploys no worker" in text
    assert _deployment(lab).spec.replicas == 3


def test_lab_scale_moves_the_floor_of_an_hpa(lab: client.ApiClient, as_learner: list[str],
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from infra.replicas import replica_counts

    scaling = client.AutoscalingV2Api(lab)
    scaling.create_namespaced_horizontal_pod_autoscaler(NAMESPACE, {
        "apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "api-e2e"},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment",
                                    "name": "api"},
                 "minReplicas": 1, "maxReplicas": 2,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                     "type": "Utilization", "averageUtilization": 70}}}]}})
    try:
        assert run(["lab", "scale", "--component", "api", "--replicas", "3", *as_learner]) == 0
        assert "HPA api-e2e owns this count: its range was 1..2, now 3..3" in _text(capsys)
        hpa = scaling.read_namespaced_horizontal_pod_autoscaler("api-e2e", NAMESPACE)
        assert (hpa.spec.min_replicas, hpa.spec.max_replicas) == (3, 3)
        assert _deployment(lab).spec.replicas == 3
        counts = replica_counts(lab, NAMESPACE, "api")
        assert (counts.hpa, counts.hpa_min, counts.hpa_max) == ("api-e2e", 3, 3)

        assert run(["lab", "scale", "--component", "api", "--replicas", "0", *as_learner]) == 2
        assert "keeps at least 1 replica" in _text(capsys)
        assert _deployment(lab).spec.replicas == 3
    finally:
        scaling.delete_namespaced_horizontal_pod_autoscaler("api-e2e", NAMESPACE)
