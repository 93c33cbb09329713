"""e2e: the simulated cluster is a real control plane whose nodes kwok simulates."""

from __future__ import annotations

import time
import uuid

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from infra.cluster.sim import SIMULATED_NOTICE, SimCluster, _alive

pytestmark = pytest.mark.e2e


def _until(what: str, fn, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while True:
        result = fn()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.5)


@pytest.fixture
def namespace(sim_cluster):
    core = sim_cluster.core_api()
    name = f"t-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    _until("default ServiceAccount", lambda: any(
        sa.metadata.name == "default"
        for sa in core.list_namespaced_service_account(name).items))
    yield name
    core.delete_namespace(name)


def _container(cpu: str = "100m", memory: str = "64Mi") -> dict:
    return {"name": "app", "image": "registry.invalid/prodev/app:1",
            "resources": {"requests": {"cpu": cpu, "memory": memory},
                          "limits": {"cpu": cpu, "memory": memory}}}


def test_nodes_ready(sim_cluster):
    st = sim_cluster.status()
    assert st.running
    assert (st.nodes_total, st.nodes_ready) == (2, 2)
    assert "simulated" in st.notice.lower() and st.notice == SIMULATED_NOTICE
    node = sim_cluster.core_api().list_node().items[0]
    assert node.metadata.annotations["kwok.x-k8s.io/node"] == "fake"
    assert node.status.allocatable["cpu"] == "16"


def test_deployment_pods_run_and_become_ready(sim_cluster, namespace):
    apps = client.AppsV1Api(sim_cluster.api_client())
    labels = {"app": "web"}
    apps.create_namespaced_deployment(namespace, {
        "metadata": {"name": "web"},
        "spec": {"replicas": 3, "selector": {"matchLabels": labels},
                 "template": {"metadata": {"labels": labels},
                              "spec": {"containers": [_container()]}}},
    })
    dep = _until("deployment ready", lambda: (
        d := apps.read_namespaced_deployment("web", namespace)).status.ready_replicas == 3 and d)
    assert dep.status.available_replicas == 3
    pods = sim_cluster.core_api().list_namespaced_pod(namespace, label_selector="app=web").items
    assert len(pods) == 3
    for pod in pods:
        assert pod.status.phase == "Running"
        assert pod.spec.node_name.startswith(f"sim-{sim_cluster.name}-node-")
        assert any(c.type == "Ready" and c.status == "True" for c in pod.status.conditions)


def test_claim_binds_to_the_default_standard_class(sim_cluster, namespace):
    core = sim_cluster.core_api()
    core.create_namespaced_persistent_volume_claim(namespace, {
        "metadata": {"name": "data"},
        "spec": {"accessModes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": "1Gi"}}},
    })
    pvc = _until("claim bound", lambda: (
        c := core.read_namespaced_persistent_volume_claim("data", namespace)
    ).status.phase == "Bound" and c)
    assert pvc.spec.storage_class_name == "standard"  # DefaultStorageClass admission
    assert pvc.spec.volume_name.startswith(f"sim-{sim_cluster.name}-pv-")


def test_resource_quota_rejects_an_oversized_pod(sim_cluster, namespace):
    core = sim_cluster.core_api()
    core.create_namespaced_resource_quota(namespace, {
        "metadata": {"name": "quota"},
        "spec": {"hard": {"requests.cpu": "1", "limits.cpu": "1",
                          "requests.memory": "1Gi", "limits.memory": "1Gi"}},
    })
    _until("quota status", lambda: core.read_namespaced_resource_quota(
        "quota", namespace).status.hard)
    with pytest.raises(ApiException) as err:
        core.create_namespaced_pod(namespace, {
            "metadata": {"name": "too-big"},
            "spec": {"containers": [_container(cpu="2", memory="512Mi")]},
        })
    assert err.value.status == 403
    assert "exceeded quota" in err.value.body
    core.create_namespaced_pod(namespace, {  # a pod inside the quota is admitted
        "metadata": {"name": "fits"}, "spec": {"containers": [_container()]}})


def test_up_is_idempotent_and_down_leaves_no_process(toolchain, tmp_path):
    cluster = SimCluster(name="lifecycle", nodes=1, toolchain=toolchain, root=tmp_path)
    try:
        first = cluster.up()
        pids = {c.name: c.pid for c in first.components}
        assert all(pids.values()) and first.running and first.nodes_ready == 1
        again = cluster.up()
        assert {c.name: c.pid for c in again.components} == pids, "second up() restarted"
    finally:
        cluster.down()
    assert not any(_alive(pid) for pid in pids.values())
    assert not cluster.state_dir.exists()
    assert not cluster.status().running


PROGRAM = """\
import pulumi
import pulumi_kubernetes as k8s

ns = pulumi.Config().require("namespace")
cm = k8s.core.v1.ConfigMap("smoke", metadata={"name": "smoke", "namespace": ns},
                           data={"greeting": "hello"})
pulumi.export("uid", cm.metadata.uid)
"""


def test_pulumi_engine_and_provider_drive_the_cluster(toolchain, sim_cluster, namespace,
                                                      tmp_path):
    """The built CLI, Python language host and kubernetes provider, fully offline."""
    import subprocess

    prog = tmp_path / "prog"
    prog.mkdir()
    (prog / "Pulumi.yaml").write_text("name: smoke\nruntime: python\n")
    (prog / "__main__.py").write_text(PROGRAM)
    (tmp_path / "state").mkdir()
    env = toolchain.env()
    env.update(KUBECONFIG=str(sim_cluster.kubeconfig_path),
               PULUMI_BACKEND_URL=f"file://{tmp_path / 'state'}",
               PULUMI_CONFIG_PASSPHRASE="e2e")

    def pulumi(*args: str) -> str:
        proc = subprocess.run([str(toolchain.pulumi), *args, "--non-interactive"], cwd=prog,
                              env=env, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"pulumi {' '.join(args)}:\n{proc.stdout}\n{proc.stderr}"
        return proc.stdout + proc.stderr

    pulumi("stack", "init", "dev")
    pulumi("config", "set", "namespace", namespace)
    out = pulumi("up", "--yes", "--skip-preview")
    assert "warning" not in out.lower(), out
    cm = sim_cluster.core_api().read_namespaced_config_map("smoke", namespace)
    assert cm.data == {"greeting": "hello"}
    pulumi("preview", "--expect-no-changes")
    pulumi("destroy", "--yes", "--skip-preview")
    with pytest.raises(ApiException) as err:
        sim_cluster.core_api().read_namespaced_config_map("smoke", namespace)
    assert err.value.status == 404
