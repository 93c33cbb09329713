"""kind tier: learners are isolated from each other, shown with real connections.

Two lesson-7 labs (Postgres, RabbitMQ, the API, Celery and Mailpit each) come up side by side
with the real `invoke lab up`. A busybox probe pod in each namespace then speaks each service's
own protocol to its own lab and to the other one (an HTTP GET, Postgres' SSLRequest, the AMQP
header, the SMTP greeting); only the own lab may answer. Egress is tried against a TCP listener
this test runs on the host, reached at the host's own address: outside the pod network, and
outside the private ranges NetworkPolicy `allow-internet-egress` keeps out, so to the policy
it is "the internet". A probe in a namespace of the test's own, without policies, is the
control: it reaches what the learners' pods are refused, so a refusal is the policy's doing.

The learner kubeconfig (`invoke lab kubeconfig`) is then used with kubectl: exec, logs,
port-forward and scale work in its own namespace, and nothing works in the other one.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import yaml
from kubernetes import client
from kubernetes.client.rest import ApiException

from infra.components.namespace import PRIVATE_RANGES
from infra.labels import EGRESS
from tests.infra.kind_labs import context, invoke, labs_up, namespace

pytestmark = pytest.mark.kind
A, B = "h3a", "h3b"
NS_A, NS_B = namespace(A), namespace(B)
CONTROL_NS = "h3-isolation-control"  # no policies: what a connection does without them
PROBE, OUT = "probe", "probe-out"  # OUT carries the internet-egress label
HOST_REPLY = b"hello-from-the-host"
NC_WAIT_S = 3


# --- the probes --------------------------------------------------------------------------
def probe_pod(ns: str, name: str, image: str, labels: dict[str, str]) -> dict:
    """busybox sleeping, as the `restricted` Pod Security level wants it (the namespaces
    enforce baseline and warn on restricted: no warning is accepted), within the quota."""
    return {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "namespace": ns, "labels": {"app": name, **labels}},
        "spec": {
            "restartPolicy": "Never", "terminationGracePeriodSeconds": 1,
            "automountServiceAccountToken": False,
            "securityContext": {"runAsNonRoot": True, "runAsUser": 65534, "runAsGroup": 65534,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{
                "name": "main", "image": image, "imagePullPolicy": "IfNotPresent",
                "command": ["/bin/busybox", "sleep", "3600"],
                "resources": {"requests": {"cpu": "5m", "memory": "8Mi"},
                              "limits": {"cpu": "100m", "memory": "32Mi"}},
                "securityContext": {"allowPrivilegeEscalation": False,
                                    "readOnlyRootFilesystem": True,
                                    "capabilities": {"drop": ["ALL"]}}}]},
    }


@dataclass(frozen=True)
class Target:
    service: str  # what the matrix calls it
    host: str
    port: int
    send: str  # printf format busybox sends once connected
    answer: bytes  # in the reply only when the right service answered


def lab_targets(ns: str) -> list[Target]:
    """The services of a lesson-7 lab, each greeted in its own protocol."""
    svc = "svc.cluster.local"
    http = "GET {path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n"
    return [
        Target("API /healthz", f"api.{ns}.{svc}", 80, http.format(path="/healthz"),
               b'{"status": "ok"}'),
        # SSLRequest: Postgres answers one byte, N (no TLS here) or S.
        Target("Postgres", f"postgres.{ns}.{svc}", 5432, "\\000\\000\\000\\010\\004\\322\\026\\057",
               b"N"),
        # The AMQP 0-9-1 header: RabbitMQ answers Connection.Start, naming its cluster.
        Target("RabbitMQ AMQP", f"rabbitmq.{ns}.{svc}", 5672, "AMQP\\000\\000\\011\\001",
               f"rabbitmq-headless.{ns}".encode()),
        Target("Mailpit SMTP", f"mailpit.{ns}.{svc}", 1025, "QUIT\\r\\n", b"220 mailpit-"),
        Target("Mailpit web", f"mailpit.{ns}.{svc}", 8025, http.format(path="/livez"),
               b"200 OK"),
    ]


@dataclass(frozen=True)
class Outcome:
    answered: bool
    how: str  # for the matrix: "answered", "refused", "timed out", ...


def connect(kubectl: list[str], ns: str, pod: str, target: Target) -> Outcome:
    """One real TCP connection from `pod`, sending `target.send`; what came back."""
    script = (f"printf '{target.send}' | /bin/busybox nc -w {NC_WAIT_S} "
              f"{target.host} {target.port}")
    done = subprocess.run([*kubectl, "-n", ns, "exec", pod, "--", "/bin/busybox", "sh", "-c",
                           script], capture_output=True, timeout=60, check=False)
    err = done.stderr.decode(errors="replace")
    if done.stdout and target.answer in done.stdout:
        return Outcome(True, "answered")
    if done.stdout:
        return Outcome(False, f"other reply {done.stdout[:40]!r}")
    if "refused" in err:
        return Outcome(False, "refused")
    if "timed out" in err or "timeout" in err:
        return Outcome(False, "timed out")
    if not err.strip():
        return Outcome(False, f"no reply in {NC_WAIT_S} s")
    return Outcome(False, err.strip().splitlines()[-1][:60])


# --- outside the cluster: a listener on the host -------------------------------------------
def outside_address() -> str:
    """An address of this host outside every private range (the policy's "internet")."""
    shown = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"],
                           capture_output=True, text=True, check=True).stdout
    nets = [ipaddress.ip_network(r) for r in PRIVATE_RANGES]
    for line in shown.splitlines():
        addr = ipaddress.ip_address(line.split()[3].split("/")[0])
        if not any(addr in n for n in nets):
            return str(addr)
    pytest.fail("this host has no IPv4 address outside the private ranges, so no address "
                "outside the cluster is also outside what allow-internet-egress keeps out:\n"
                + shown)


def node_gateway(cluster: str) -> str:
    """The IPv4 gateway of the kind node's Docker network: the host, on a private address."""
    shown = subprocess.run(["docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}",
                            f"{cluster}-control-plane"], capture_output=True, text=True,
                           check=True).stdout
    return next(n["Gateway"] for n in json.loads(shown).values() if n.get("Gateway"))


@pytest.fixture(scope="module")
def host_listener() -> Iterator[int]:
    """A TCP server on all of the host's addresses: each connection gets HOST_REPLY."""
    server = socket.create_server(("0.0.0.0", 0))
    server.settimeout(0.5)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.sendall(HOST_REPLY + b"\n")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()


# --- the labs ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def labs(kind_cluster) -> Iterator[list[str]]:
    """Both lesson-7 labs, a probe in each (and an internet-labelled one in A), and the
    control namespace; everything is removed at the end."""
    kubectl = [str(kind_cluster.kit.kubectl), "--kubeconfig", str(kind_cluster.kubeconfig)]
    image = kind_cluster.kit.names.local_path_helper
    with labs_up(kind_cluster, 7, A, B):
        try:
            kind_cluster.namespace(CONTROL_NS)
            pods = [probe_pod(NS_A, PROBE, image, {}),
                    probe_pod(NS_A, OUT, image, {EGRESS: "internet"}),
                    probe_pod(NS_B, PROBE, image, {}),
                    probe_pod(CONTROL_NS, PROBE, image, {})]
            made = kind_cluster.kubectl("apply", "-f", "-", stdin=yaml.safe_dump_all(pods))
            assert "Warning" not in made.stderr, made.stderr  # restricted, not just baseline
            for pod in pods:
                meta = pod["metadata"]
                kind_cluster.wait_pod(meta["namespace"], meta["name"], {"Running"}, timeout=120)
            yield kubectl
        finally:
            try:
                kind_cluster.core.delete_namespace(CONTROL_NS)
            except ApiException as exc:
                if exc.status != 404:
                    raise


# --- 1. the isolation matrix ---------------------------------------------------------------
@dataclass(frozen=True)
class Cell:
    source: str  # "<namespace>/<pod>"
    target: Target
    expect: bool  # should it answer?


def print_matrix(rows: list[tuple[Cell, Outcome]]) -> None:
    head = ("from", "to", "address", "expected", "got", "")
    lines = [(c.source, c.target.service, f"{c.target.host}:{c.target.port}",
              "answers" if c.expect else "blocked", o.how,
              "ok" if o.answered == c.expect else "WRONG") for c, o in rows]
    widths = [max(len(r[i]) for r in [head, *lines]) for i in range(len(head))]
    fmt = " | ".join(f"{{:<{w}}}" for w in widths)
    print("\n" + fmt.format(*head) + "\n" + "-+-".join("-" * w for w in widths))
    for line in lines:
        print(fmt.format(*line))


def test_isolation_matrix(kind_cluster, labs: list[str], host_listener: int) -> None:
    outside, gateway = outside_address(), node_gateway(kind_cluster.name)
    host = Target(f"host {outside} (outside)", outside, host_listener, "", HOST_REPLY)
    private = Target(f"host {gateway} (kind gw, private)", gateway, host_listener, "",
                     HOST_REPLY)
    # Plain HTTP to the API server's TLS port: Go's server answers it with a 400.
    api_server = Target("Kubernetes API", "kubernetes.default.svc.cluster.local", 443,
                        "GET / HTTP/1.0\\r\\n\\r\\n", b"HTTP/1.0 400")
    a, b = f"{NS_A}/{PROBE}", f"{NS_B}/{PROBE}"
    cells = ([Cell(a, t, True) for t in lab_targets(NS_A)]
             + [Cell(a, t, False) for t in lab_targets(NS_B)]
             + [Cell(b, t, True) for t in lab_targets(NS_B)]
             + [Cell(b, t, False) for t in lab_targets(NS_A)]
             + [Cell(f"{CONTROL_NS}/{PROBE}", t, False) for t in lab_targets(NS_B)[:2]]
             + [Cell(a, host, False), Cell(f"{NS_A}/{OUT}", host, True),
                Cell(f"{NS_A}/{OUT}", private, False), Cell(a, private, False),
                Cell(f"{CONTROL_NS}/{PROBE}", host, True),
                Cell(f"{CONTROL_NS}/{PROBE}", private, True),
                Cell(a, api_server, False), Cell(f"{NS_A}/{OUT}", api_server, False),
                Cell(f"{CONTROL_NS}/{PROBE}", api_server, True)])

    def run(cell: Cell) -> Outcome:
        ns, pod = cell.source.split("/")
        return connect(labs, ns, pod, cell.target)

    started = time.monotonic()
    # A new lab's Services reach the node's proxy rules within moments; retry the cells
    # that must answer for a short while, never the ones that must not.
    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(run, cells))
    for i, (cell, got) in enumerate(zip(cells, outcomes, strict=True)):
        deadline = time.monotonic() + 30
        while cell.expect and not got.answered and time.monotonic() < deadline:
            time.sleep(2)
            got = outcomes[i] = run(cell)
    rows = list(zip(cells, outcomes, strict=True))
    print_matrix(rows)
    print(f"{len(cells)} connections in {time.monotonic() - started:.0f} s")
    wrong = [f"{c.source} -> {c.target.service}: expected "
             f"{'an answer' if c.expect else 'no answer'}, got {o.how}"
             for c, o in rows if o.answered != c.expect]
    assert not wrong, "\n".join(wrong)


def test_dns_answers_for_every_namespace(kind_cluster, labs: list[str]) -> None:
    """DNS is allowed (kube-dns only): names resolve, even the other lab's (names are not
    secrets; connections are what the policies refuse)."""
    for name in (f"api.{NS_A}.svc.cluster.local", f"api.{NS_B}.svc.cluster.local",
                 "kubernetes.default.svc.cluster.local"):
        looked = kind_cluster.exec(NS_A, PROBE, f"/bin/busybox nslookup {name}")
        assert looked.returncode == 0 and "Address" in looked.stdout.split("Name:")[-1], (
            name, looked.stdout, looked.stderr)


# --- 2. the learner's kubeconfig -----------------------------------------------------------
@pytest.fixture(scope="module")
def learner_kubectl(kind_cluster, labs: list[str],
                    tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    path = tmp_path_factory.mktemp("kubeconfig") / f"{NS_A}.yaml"
    made = invoke("lab", "kubeconfig", "--lesson", "7", "--learner", A, "--context",
                  context(kind_cluster), "--out", str(path), timeout=120)
    assert made.returncode == 0, made.stdout + made.stderr
    assert path.stat().st_mode & 0o077 == 0  # the token is the learner's alone
    return [str(kind_cluster.kit.kubectl), "--kubeconfig", str(path)]


def _run(kubectl: list[str], *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([*kubectl, *args], capture_output=True, text=True, timeout=timeout,
                          check=False)


def _pod(kind_cluster, ns: str, app: str) -> str:
    pods = kind_cluster.core.list_namespaced_pod(
        ns, label_selector=f"app.kubernetes.io/name={app}",
        field_selector="status.phase=Running").items
    assert pods, f"no running {app} pod in {ns}"
    return pods[0].metadata.name


OWN_ALLOWED = ["create pods/exec", "get pods/log", "create pods/portforward",
               "patch deployments.apps/scale", "update deployments.apps", "list pods",
               "create jobs.batch", "list pods.metrics.k8s.io"]
OWN_DENIED = ["create endpoints", "update endpoints",
              "create endpointslices.discovery.k8s.io",
              "create rolebindings.rbac.authorization.k8s.io",
              "update roles.rbac.authorization.k8s.io",
              "delete networkpolicies.networking.k8s.io", "update resourcequotas",
              "delete limitranges", "patch namespaces"]


def test_learner_kubeconfig_can_do_its_work_in_its_own_namespace(
        kind_cluster, learner_kubectl: list[str]) -> None:
    kc = learner_kubectl
    for verb in OWN_ALLOWED:
        assert _run(kc, "auth", "can-i", *verb.split()).stdout.strip() == "yes", verb
    for verb in OWN_DENIED:
        assert _run(kc, "auth", "can-i", *verb.split()).stdout.strip() == "no", verb

    api = _pod(kind_cluster, NS_A, "api")
    ran = _run(kc, "exec", api, "--", "python", "-c", "print('exec-ok')")
    assert ran.returncode == 0 and ran.stdout.strip() == "exec-ok", ran.stderr
    logs = _run(kc, "logs", api, "--tail=5")
    assert logs.returncode == 0 and logs.stdout.strip(), logs.stderr

    port = socket.create_server(("127.0.0.1", 0))
    local = port.getsockname()[1]
    port.close()
    forward = subprocess.Popen([*kc, "port-forward", "svc/api", f"{local}:80"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        body = _get_through(local, forward)
    finally:
        forward.terminate()
        forward.communicate(timeout=10)
    assert json.loads(body) == {"status": "ok"}

    apps = client.AppsV1Api(kind_cluster.api)
    try:
        scaled = _run(kc, "scale", "deployment/worker", "--replicas=2")
        assert scaled.returncode == 0, scaled.stderr
        assert apps.read_namespaced_deployment("worker", NS_A).spec.replicas == 2
    finally:
        assert _run(kc, "scale", "deployment/worker", "--replicas=1").returncode == 0


def _get_through(port: int, forward: subprocess.Popen, timeout: float = 30) -> str:
    """GET /healthz through a starting `kubectl port-forward` (retried until it listens)."""
    deadline = time.monotonic() + timeout
    req = urllib.request.Request(f"http://127.0.0.1:{port}/healthz",
                                 headers={"Host": "localhost"})
    while True:
        try:
            with urllib.request.urlopen(req, timeout=5) as resp:
                return resp.read().decode()
        except OSError as exc:
            if forward.poll() is not None or time.monotonic() > deadline:
                out, err = forward.communicate(timeout=5) if forward.poll() is not None else (
                    "", "")
                raise AssertionError(f"port-forward gave nothing: {exc} {err}") from None
            time.sleep(0.5)


def test_learner_kubeconfig_can_do_nothing_in_another_namespace(
        kind_cluster, learner_kubectl: list[str]) -> None:
    kc = learner_kubectl
    listed = _run(kc, "auth", "can-i", "--list", "-n", NS_B)
    resources = {line.split()[0] for line in listed.stdout.splitlines()[1:]
                 if line and not line.startswith(" ")}
    # Only the self-reviews every account has (asking what it may do, and who it is).
    assert resources <= {"selfsubjectreviews.authentication.k8s.io",
                         "selfsubjectaccessreviews.authorization.k8s.io",
                         "selfsubjectrulesreviews.authorization.k8s.io"}, listed.stdout

    api = _pod(kind_cluster, NS_B, "api")
    attempts = {
        "get pods": ["get", "pods"],
        "logs": ["logs", api],
        "exec": ["exec", api, "--", "true"],
        "port-forward": ["port-forward", f"pod/{api}", "0:8000"],
        "scale": ["patch", "deployment", "worker", "--subresource=scale", "--type=merge",
                  "-p", '{"spec":{"replicas":2}}'],
        "read secrets": ["get", "secrets"],
        "delete a pod": ["delete", "pod", api, "--wait=false"],
    }
    for what, args in attempts.items():
        done = _run(kc, "-n", NS_B, *args, timeout=30)
        assert done.returncode != 0 and "Forbidden" in done.stderr, (what, done.stderr)
    for what, args in {"nodes": ["get", "nodes"], "namespaces": ["get", "namespaces"],
                       "kube-system": ["-n", "kube-system", "get", "secrets"]}.items():
        done = _run(kc, *args)
        assert done.returncode != 0 and "Forbidden" in done.stderr, (what, done.stderr)
    # B is untouched.
    apps = client.AppsV1Api(kind_cluster.api)
    assert apps.read_namespaced_deployment("worker", NS_B).spec.replicas == 1
    assert kind_cluster.core.read_namespaced_pod(api, NS_B).metadata.deletion_timestamp is None


def test_learner_cannot_point_its_ingress_at_another_learners_pods(
        kind_cluster, learner_kubectl: list[str]) -> None:
    """Hand-made Endpoints of a selector-less Service would let A's Ingress, carried by the
    ingress controller that every namespace admits, reach B's pods (B's Mailpit, say)."""
    mailpit = kind_cluster.core.list_namespaced_pod(
        NS_B, label_selector="app.kubernetes.io/name=mailpit").items[0].status.pod_ip
    objects = [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "borrowed"},
         "spec": {"ports": [{"port": 80, "targetPort": 8025}]}},
        {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "borrowed"},
         "subsets": [{"addresses": [{"ip": mailpit}], "ports": [{"port": 8025}]}]},
        {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
         "metadata": {"name": "borrowed-1",
                      "labels": {"kubernetes.io/service-name": "borrowed"}},
         "addressType": "IPv4", "endpoints": [{"addresses": [mailpit]}],
         "ports": [{"port": 8025}]},
    ]
    try:
        done = subprocess.run([*learner_kubectl, "create", "-f", "-"],
                              input=yaml.safe_dump_all(objects), capture_output=True,
                              text=True, timeout=60, check=False)
        assert "service/borrowed created" in done.stdout, done.stdout + done.stderr
        for resource in ("endpoints", "endpointslices"):
            assert f'cannot create resource "{resource}"' in done.stderr, done.stderr
        slices = client.DiscoveryV1Api(kind_cluster.api).list_namespaced_endpoint_slice(
            NS_A, label_selector="kubernetes.io/service-name=borrowed").items
        assert not [e for s in slices for e in s.endpoints or []], slices
    finally:
        _run(learner_kubectl, "delete", "service", "borrowed", "--ignore-not-found")
