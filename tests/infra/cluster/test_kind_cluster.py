"""kind tier: a real kind cluster from the offline kit, with real pods.

One cluster for the module (the session's `kind_cluster`): DNS, storage, metrics, ingress, the
local registry and NetworkPolicy enforcement are each shown with real traffic, not by reading
objects back. The fixture deletes the cluster and fails if anything is left behind.
"""

from __future__ import annotations

import subprocess
import time
import urllib.request

import pytest
from kubernetes import client

from infra.cluster import kind

pytestmark = pytest.mark.kind


def test_up_again_changes_nothing(kind_cluster) -> None:
    nodes = subprocess.run(["docker", "ps", "-q", "--filter",
                            f"label=io.x-k8s.kind.cluster={kind_cluster.name}"],
                           capture_output=True, text=True, check=True).stdout.split()
    started = time.monotonic()
    kind.up(kind_cluster.name, images="offline")
    again = time.monotonic() - started
    after = subprocess.run(["docker", "ps", "-q", "--filter",
                            f"label=io.x-k8s.kind.cluster={kind_cluster.name}"],
                           capture_output=True, text=True, check=True).stdout.split()
    assert after == nodes  # same containers: nothing recreated
    print(f"cluster up: first {kind_cluster.up_seconds:.0f} s, again {again:.0f} s")
    recorded = kind.recorded(kind_cluster.name)
    assert recorded["images"] == "offline"
    assert recorded["node_image"] == kind_cluster.kit.node_image


def test_the_node_is_ready_and_runs_only_local_images(kind_cluster) -> None:
    nodes = kind_cluster.core.list_node().items
    assert len(nodes) == 1
    assert any(c.type == "Ready" and c.status == "True" for c in nodes[0].status.conditions)
    pods = kind_cluster.core.list_pod_for_all_namespaces().items
    images = {c.image for p in pods for c in p.spec.containers}
    assert images, "no pods"
    offline = {kind_cluster.kit.names.kube_router, kind_cluster.kit.names.traefik,
               kind_cluster.kit.names.metrics_server, kind_cluster.kit.names.coredns}
    assert offline <= images | {f"docker.io/{i}" for i in images}
    for pod in pods:
        for status in pod.status.container_statuses or []:
            assert status.ready, f"{pod.metadata.namespace}/{pod.metadata.name} not ready"


def test_coredns_resolves_a_service(kind_cluster) -> None:
    ns = kind_cluster.namespace("dns-check")
    host = kind_cluster.web_server(ns, "web", "hello-dns")
    kind_cluster.busybox_pod(ns, "client", "exec /bin/busybox sleep 3600")
    kind_cluster.wait_pod(ns, "client", {"Running"})
    looked_up = kind_cluster.exec(ns, "client", f"/bin/busybox nslookup {host}")
    assert looked_up.returncode == 0, looked_up.stdout + looked_up.stderr
    service_ip = kind_cluster.core.read_namespaced_service("web", ns).spec.cluster_ip
    assert service_ip in looked_up.stdout
    assert kind_cluster.eventually_get(ns, "client", host, "hello-dns")


def test_a_claim_binds_through_the_default_storage_class(kind_cluster) -> None:
    ns = kind_cluster.namespace("storage-check")
    kind_cluster.core.create_namespaced_persistent_volume_claim(ns, client.V1PersistentVolumeClaim(
        metadata=client.V1ObjectMeta(name="data"),
        spec=client.V1PersistentVolumeClaimSpec(
            access_modes=["ReadWriteOnce"],
            resources=client.V1VolumeResourceRequirements(requests={"storage": "64Mi"}))))
    kind_cluster.core.create_namespaced_pod(ns, client.V1Pod(
        metadata=client.V1ObjectMeta(name="writer"),
        spec=client.V1PodSpec(
            restart_policy="Never",
            containers=[client.V1Container(
                name="main", image=kind_cluster.kit.names.local_path_helper,
                image_pull_policy="IfNotPresent",
                command=["/bin/busybox", "sh", "-c", "echo kept > /data/f && cat /data/f"],
                volume_mounts=[client.V1VolumeMount(name="d", mount_path="/data")])],
            volumes=[client.V1Volume(name="d", persistent_volume_claim=(
                client.V1PersistentVolumeClaimVolumeSource(claim_name="data")))])))
    pod = kind_cluster.wait_pod(ns, "writer", {"Succeeded", "Failed"})
    assert pod.status.phase == "Succeeded"
    claim = kind_cluster.core.read_namespaced_persistent_volume_claim("data", ns)
    assert claim.status.phase == "Bound"
    assert claim.spec.storage_class_name == "standard"


def test_metrics_server_answers_kubectl_top(kind_cluster) -> None:
    deadline = time.monotonic() + 180
    while True:
        top = kind_cluster.kubectl("top", "pods", "-A", "--no-headers", check=False)
        if top.returncode == 0 and "kube-apiserver" in top.stdout:
            break
        assert time.monotonic() < deadline, f"kubectl top never answered: {top.stderr}"
        time.sleep(5)
    row = next(line.split() for line in top.stdout.splitlines() if "kube-apiserver" in line)
    assert row[2].endswith("m") and row[3].endswith("Mi")  # CPU(cores), MEMORY(bytes)


def test_traefik_routes_a_host_header_to_a_service(kind_cluster) -> None:
    ns = kind_cluster.namespace("ingress-check")
    kind_cluster.web_server(ns, "site", "hello-ingress")
    client.NetworkingV1Api(kind_cluster.api).create_namespaced_ingress(ns, client.V1Ingress(
        metadata=client.V1ObjectMeta(name="site"),
        spec=client.V1IngressSpec(rules=[client.V1IngressRule(
            host="site.labs.localhost",
            http=client.V1HTTPIngressRuleValue(paths=[client.V1HTTPIngressPath(
                path="/", path_type="Prefix",
                backend=client.V1IngressBackend(service=client.V1IngressServiceBackend(
                    name="site", port=client.V1ServiceBackendPort(number=80))))]))])))
    deadline = time.monotonic() + 60
    while True:
        req = urllib.request.Request("http://127.0.0.1/",
                                     headers={"Host": "site.labs.localhost"})
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                body = resp.read().decode().strip()
                break
        except OSError as exc:
            assert time.monotonic() < deadline, f"Traefik never routed: {exc}"
            time.sleep(2)
    assert body == "hello-ingress"
    other = urllib.request.Request("http://127.0.0.1/", headers={"Host": "nobody.localhost"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(other, timeout=5)
    assert err.value.code == 404


def test_an_image_pushed_to_the_local_registry_runs(kind_cluster) -> None:
    # An image of its own (a learner's build): a different image ID from every preloaded one.
    # (containerd 1.6's CRI loses track of a preloaded image when a pull registers the same
    # image ID under a new name; a build of one's own never collides.)
    ref = f"localhost:{kind.REGISTRY_PORT}/probe/hello:1"
    built = subprocess.run(["docker", "build", "-q", "-t", ref, "-"], capture_output=True,
                           text=True, input=f"FROM {kind_cluster.kit.names.local_path_helper}\n"
                           f"LABEL org.opencontainers.image.title=kind-tier-{time.time_ns()}\n")
    assert built.returncode == 0, built.stderr
    pushed = subprocess.run(["docker", "push", ref], capture_output=True, text=True)
    assert pushed.returncode == 0, pushed.stderr
    subprocess.run(["docker", "rmi", ref], capture_output=True)
    ns = kind_cluster.namespace("registry-check")
    kind_cluster.busybox_pod(ns, "pushed", "echo ran-from-registry", image=ref)
    pod = kind_cluster.wait_pod(ns, "pushed", {"Succeeded", "Failed"})
    assert pod.status.phase == "Succeeded"
    log = kind_cluster.core.read_namespaced_pod_log("pushed", ns)
    assert log.strip() == "ran-from-registry"


def _can_connect(kind_cluster, ns: str, pod: str, host: str) -> bool:
    return kind_cluster.http_get(ns, pod, host) == "hello-policy"


def test_network_policies_are_enforced_on_real_connections(kind_cluster) -> None:
    server_ns = kind_cluster.namespace("policy-b", team="b")
    client_ns = kind_cluster.namespace("policy-a", team="a")
    host = kind_cluster.web_server(server_ns, "api", "hello-policy")
    kind_cluster.busybox_pod(client_ns, "client", "exec /bin/busybox sleep 3600")
    kind_cluster.wait_pod(client_ns, "client", {"Running"})
    assert kind_cluster.eventually_get(client_ns, "client", host, "hello-policy")

    net = client.NetworkingV1Api(kind_cluster.api)
    net.create_namespaced_network_policy(server_ns, client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="default-deny"),
        spec=client.V1NetworkPolicySpec(pod_selector=client.V1LabelSelector(),
                                        policy_types=["Ingress"])))
    deadline = time.monotonic() + 60
    while _can_connect(kind_cluster, client_ns, "client", host):
        assert time.monotonic() < deadline, "default-deny never blocked the connection"
        time.sleep(2)

    net.create_namespaced_network_policy(server_ns, client.V1NetworkPolicy(
        metadata=client.V1ObjectMeta(name="allow-team-a"),
        spec=client.V1NetworkPolicySpec(
            pod_selector=client.V1LabelSelector(match_labels={"app": "api"}),
            policy_types=["Ingress"],
            ingress=[client.V1NetworkPolicyIngressRule(_from=[client.V1NetworkPolicyPeer(
                namespace_selector=client.V1LabelSelector(match_labels={"team": "a"}))])])))
    deadline = time.monotonic() + 60
    while not _can_connect(kind_cluster, client_ns, "client", host):
        assert time.monotonic() < deadline, "the allow policy never let the connection through"
        time.sleep(2)
