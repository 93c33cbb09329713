"""Lesson 4 checks against a real API server with kwok nodes: starter fails, solution passes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from kubernetes import client

from infra.kubeconfig import admin_client
from labs.checks import CheckContext, CheckResult, run_checks
from labs.checks.solution_lesson4 import solve_lesson4

pytestmark = pytest.mark.e2e

IMAGE = "localhost:5001/prodev-labs/api:latest"
LABELS = {"app.kubernetes.io/name": "api", "app.kubernetes.io/component": "api"}


def _starter(api: client.ApiClient, ns: str) -> None:
    apps, core, net = client.AppsV1Api(api), client.CoreV1Api(api), client.NetworkingV1Api(api)
    apps.create_namespaced_deployment(ns, {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "api", "labels": LABELS},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "api"}},
                 "template": {"metadata": {"labels": LABELS}, "spec": {"containers": [{
                     "name": "api", "image": IMAGE,
                     "ports": [{"name": "http", "containerPort": 8000}]}]}}}})
    core.create_namespaced_service(ns, {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "api", "labels": LABELS},
        "spec": {"selector": {"app.kubernetes.io/name": "api"},
                 "ports": [{"name": "http", "port": 80, "targetPort": "http"}]}})
    # The lab's own Ingress routes "/" to api: that alone must not satisfy the /api/ check.
    net.create_namespaced_ingress(ns, {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "api"},
        "spec": {"rules": [{"host": "ada.labs.localhost", "http": {"paths": [{
            "path": "/", "pathType": "Prefix",
            "backend": {"service": {"name": "api", "port": {"number": 80}}}}]}}]}})


def _wait(ctx: CheckContext, want: bool, timeout: float = 120) -> list[CheckResult]:
    deadline = time.monotonic() + timeout
    while True:
        results = run_checks(4, ctx)
        if all(r.passed == want for r in results) or time.monotonic() > deadline:
            return results
        time.sleep(2)


@pytest.fixture
def lesson4(sim_cluster) -> Iterator[CheckContext]:
    api = admin_client(sim_cluster.kubeconfig_path)
    ns = f"l4-checks-{uuid.uuid4().hex[:6]}"
    core = client.CoreV1Api(api)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    try:
        _starter(api, ns)
        yield CheckContext(namespace=ns, learner="ada", cohort="l4", api=api)
    finally:
        core.delete_namespace(ns)


def test_lesson4_checks_fail_on_starter_and_pass_on_solution(lesson4: CheckContext) -> None:
    # Let the starter settle (1 ready replica) so failures are about the exercise, not timing.
    apps = client.AppsV1Api(lesson4.api)
    deadline = time.monotonic() + 60
    while (apps.read_namespaced_deployment("api", lesson4.namespace).status.ready_replicas
           or 0) < 1 and time.monotonic() < deadline:
        time.sleep(1)

    starter = {r.id: r for r in run_checks(4, lesson4)}
    assert set(starter) == {"k8s.scaled", "k8s.blue-green", "k8s.rolling-update",
                            "k8s.ingress"}
    for r in starter.values():
        assert not r.passed, r
        assert not r.detail.startswith("error:"), r
    assert "1 replica(s), not 3" in starter["k8s.scaled"].detail
    assert "no Deployment api-blue" in starter["k8s.blue-green"].detail
    assert "api:latest" in starter["k8s.rolling-update"].detail
    assert "no Ingress" in starter["k8s.ingress"].detail

    solve_lesson4(lesson4.api, lesson4.namespace)
    solved = {r.id: r for r in _wait(lesson4, want=True)}
    assert [r for r in solved.values() if not r.passed] == []
    assert "api → api-green" in solved["k8s.blue-green"].detail
    assert solved["k8s.scaled"].detail == "3/3 ready"
    assert ":2.0" in solved["k8s.rolling-update"].detail
    assert "api-routes" in solved["k8s.ingress"].detail

    # Switching back to blue is still a valid blue/green state, and is reported as such.
    client.CoreV1Api(lesson4.api).patch_namespaced_service("api", lesson4.namespace, [
        {"op": "replace", "path": "/spec/selector",
         "value": {"app.kubernetes.io/name": "api-blue"}}])
    back = {r.id: r for r in run_checks(4, lesson4)}["k8s.blue-green"]
    assert back.passed and "api → api-blue" in back.detail
