"""e2e: the real Pulumi engine provisions lesson 4 on a real API server (simulated nodes)."""

from __future__ import annotations

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from infra.automation import LearnerStack
from infra.kubeconfig import admin_client, learner_kubeconfig, write_kubeconfig
from infra.status import labelled_leftovers, workload_status
from labs.spec import build_spec
from tests.infra.e2e_support import engine_for, target_for

pytestmark = pytest.mark.e2e
COHORT = "e2e"


@pytest.fixture(scope="module")
def lab(sim_cluster, toolchain, tmp_path_factory):
    """Two learners of lesson 4, provisioned for the module and removed at its end."""
    engine = engine_for(toolchain, tmp_path_factory.mktemp("state"))
    target = target_for(sim_cluster)
    stacks = {name: LearnerStack(build_spec({"cohort": COHORT, "learner": name, "lesson": 4}),
                                 target, engine) for name in ("ana", "ben")}
    results = {name: stack.up() for name, stack in stacks.items()}
    yield stacks, results, admin_client(sim_cluster.kubeconfig_path)
    for stack in stacks.values():
        stack.destroy()


def test_every_workload_becomes_ready(lab) -> None:
    _, results, api = lab
    assert results["ana"].summary.resource_changes["create"] >= 25
    rows = workload_status(api, COHORT, "ana")
    assert {(r.kind, r.name) for r in rows} == {("Deployment", "api"), ("Deployment", "worker"),
                                                ("StatefulSet", "postgres"),
                                                ("StatefulSet", "rabbitmq")}
    assert all(r.is_ready for r in rows), rows


def test_second_up_changes_nothing(lab) -> None:
    stacks, _, _ = lab
    changes = stacks["ana"].preview_changes()
    assert set(changes) == {"same"}, changes
    again = stacks["ana"].up().summary.resource_changes
    assert set(again) == {"same"}, again


def test_outputs_say_where_things_are_and_hold_no_secret(lab) -> None:
    stacks, _, _ = lab
    outputs = stacks["ana"].outputs()
    assert outputs["namespace"] == "e2e-ana"
    assert outputs["postgres"]["secret"] == "postgres-credentials"
    config = stacks["ana"].stack.get_all_config()
    secrets = [v.value for k, v in config.items() if v.secret]
    assert len(secrets) >= 6
    text = repr(outputs)
    assert not [s for s in secrets if s in text]


def test_quota_admission_rejects_an_oversized_pod(lab) -> None:
    _, _, api = lab
    # Each container is inside the LimitRange maximum (2 CPU); together they exceed the quota.
    containers = [client.V1Container(name=f"c{i}", image="busybox", resources=client.
                                     V1ResourceRequirements(requests={"cpu": "2"},
                                                            limits={"cpu": "2"}))
                  for i in range(4)]
    pod = client.V1Pod(metadata=client.V1ObjectMeta(name="too-big"),
                       spec=client.V1PodSpec(containers=containers))
    with pytest.raises(ApiException) as info:
        client.CoreV1Api(api).create_namespaced_pod("e2e-ana", pod)
    assert info.value.status == 403
    assert "exceeded quota" in info.value.body


def test_learner_kubeconfig_is_confined_to_its_namespace(lab, tmp_path) -> None:
    from kubernetes import config

    _, _, api = lab
    path = write_kubeconfig(learner_kubeconfig(api, "e2e-ana", expiry_seconds=600),
                            tmp_path / "ana.yaml")
    learner = config.new_client_from_config(config_file=str(path))
    auth = client.AuthorizationV1Api(learner)

    def can(verb: str, resource: str, namespace: str, group: str = "") -> bool:
        review = client.V1SelfSubjectAccessReview(spec=client.V1SelfSubjectAccessReviewSpec(
            resource_attributes=client.V1ResourceAttributes(
                verb=verb, resource=resource, namespace=namespace, group=group)))
        return auth.create_self_subject_access_review(review).status.allowed

    assert can("create", "deployments", "e2e-ana", "apps")
    assert can("delete", "pods", "e2e-ana")
    assert not can("get", "secrets", "e2e-ben")
    assert not can("list", "pods", "e2e-ben")
    assert not can("create", "rolebindings", "e2e-ana", "rbac.authorization.k8s.io")
    assert not can("update", "resourcequotas", "e2e-ana")
    assert not can("delete", "networkpolicies", "e2e-ana", "networking.k8s.io")
    pods = client.CoreV1Api(learner).list_namespaced_pod("e2e-ana").items
    assert {p.metadata.labels["app.kubernetes.io/name"] for p in pods} >= {"api", "postgres"}
    with pytest.raises(ApiException) as info:
        client.CoreV1Api(learner).list_namespaced_secret("e2e-ben")
    assert info.value.status == 403


def test_down_leaves_nothing_behind(sim_cluster, toolchain, tmp_path) -> None:
    engine = engine_for(toolchain, tmp_path / "state")
    spec = build_spec({"cohort": "e2edown", "learner": "cara", "lesson": 1})
    stack = LearnerStack(spec, target_for(sim_cluster), engine)
    stack.up()
    api = admin_client(sim_cluster.kubeconfig_path)
    assert labelled_leftovers(api, "e2edown")
    stack.destroy()
    assert labelled_leftovers(api, "e2edown") == []
