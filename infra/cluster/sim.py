"""A simulated Kubernetes cluster on 127.0.0.1: a real control plane, simulated nodes.

etcd, kube-apiserver, kube-controller-manager and kube-scheduler are the real Kubernetes
binaries (built by :mod:`infra.cluster.toolchain`); only the nodes are fake: kwok plays the
kubelet, so Node objects report Ready and scheduled pods go Running and Ready without any
container ever starting. Admission (ResourceQuota, LimitRanger, PodSecurity, ServiceAccount,
...), RBAC, the scheduler's bin-packing and every controller are the real thing, which is what an
instructor needs to rehearse a cohort's capacity and timing without the hardware.

State lives in ``<state>/sim/<name>/`` (``platformdirs.user_state_dir("prodev-labs")`` or
``$PRODEV_LABS_STATE``): certificates, etcd's data, logs, ``cluster.json`` (ports, PIDs) and the
admin ``kubeconfig``. ``down()`` stops every process recorded there and removes the directory.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml
from platformdirs import user_state_dir

from infra.cluster.toolchain import Toolchain, ensure_toolchain

SIMULATED_NOTICE = (
    "Containers are simulated: kwok plays the kubelet, so pods report Running/Ready but no "
    "container runs. The control plane (API server, admission, RBAC, scheduler, controllers) "
    "is real."
)

COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
STORAGE_CLASS = "standard"
SERVICE_CIDR = "10.96.0.0/16"
POD_CIDR = "10.244.0.0/16"

Progress = Callable[[str], None]


class SimClusterError(RuntimeError):
    """The simulated cluster could not be brought up (names the component and its log tail)."""


def state_root() -> Path:
    """``$PRODEV_LABS_STATE`` or the platform's user state dir for prodev-labs."""
    override = os.environ.get("PRODEV_LABS_STATE")
    return Path(override) if override else Path(user_state_dir("prodev-labs"))


# --- status --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    pid: int | None
    running: bool
    log: str


@dataclass(frozen=True)
class SimStatus:
    name: str
    state_dir: str
    kubeconfig: str
    server: str | None
    running: bool  # every component process alive and /readyz ok
    components: tuple[ComponentStatus, ...]
    nodes_total: int = 0
    nodes_ready: int = 0
    notice: str = SIMULATED_NOTICE

    def to_dict(self) -> dict:
        return asdict(self)


# --- certificates --------------------------------------------------------------------------------


def _key():
    from cryptography.hazmat.primitives.asymmetric import ec

    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key) -> None:
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.TraditionalOpenSSL,
                                       serialization.NoEncryption()))
    path.chmod(0o600)


def _write_cert(path: Path, cert) -> None:
    from cryptography.hazmat.primitives import serialization

    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _make_pki(pki: Path) -> None:
    """CA, API server serving cert, client certs per component, ServiceAccount signing key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    if (pki / "complete").is_file():
        return
    pki.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    until = now + dt.timedelta(days=365)

    def name(cn: str, org: str | None = None) -> x509.Name:
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        return x509.Name(attrs)

    ca_key = _key()
    ca_name = name("prodev-labs-sim-ca")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now).not_valid_after(until)
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    _write_key(pki / "ca.key", ca_key)
    _write_cert(pki / "ca.crt", ca)

    def issue(stem: str, subject: x509.Name, *, server: bool, sans: list | None = None) -> None:
        key = _key()
        b = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now).not_valid_after(until)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.ExtendedKeyUsage(
                 [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH] if server
                 else [ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False))
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        _write_key(pki / f"{stem}.key", key)
        _write_cert(pki / f"{stem}.crt", b.sign(ca_key, hashes.SHA256()))

    service_ip = next(ipaddress.ip_network(SERVICE_CIDR).hosts())
    issue("apiserver", name("kube-apiserver"), server=True, sans=[
        x509.DNSName("localhost"), x509.DNSName("kubernetes"),
        x509.DNSName("kubernetes.default"), x509.DNSName("kubernetes.default.svc"),
        x509.DNSName("kubernetes.default.svc.cluster.local"),
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.IPAddress(service_ip)])
    issue("admin", name("kubernetes-admin", "system:masters"), server=False)
    issue("controller-manager", name("system:kube-controller-manager"), server=True,
          sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    issue("scheduler", name("system:kube-scheduler"), server=True,
          sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    # kwok writes node and pod status for every fake node: it acts as an admin, like kwokctl.
    issue("kwok", name("kwok-controller", "system:masters"), server=True,
          sans=[x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    sa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _write_key(pki / "sa.key", sa)
    (pki / "sa.pub").write_bytes(sa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (pki / "complete").write_text("ok\n")


def _kubeconfig(path: Path, server: str, pki: Path, user: str, stem: str, cluster: str) -> None:
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {
            "server": server, "certificate-authority": str(pki / "ca.crt")}}],
        "users": [{"name": user, "user": {
            "client-certificate": str(pki / f"{stem}.crt"),
            "client-key": str(pki / f"{stem}.key")}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": user}}],
        "current-context": cluster,
    }
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    path.chmod(0o600)


# --- processes -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int | None, exe: str | None = None) -> bool:
    """True when pid runs (not a zombie) and, if given, its executable is ``exe``."""
    if not pid:
        return False
    try:
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    if stat_line.rsplit(")", 1)[1].split()[0] in ("Z", "X"):
        return False
    if exe:
        try:
            cmd0 = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0", 1)[0].decode()
        except OSError:
            return False
        return cmd0 == exe
    return True


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "".join(path.read_text(errors="replace").splitlines(True)[-lines:])
    except OSError:
        return "(no log)"


# --- the cluster ---------------------------------------------------------------------------------


@dataclass
class SimCluster:
    """A simulated cluster named ``name`` with ``nodes`` fake nodes of the given capacity.

    ``volumes`` statically provisioned hostPath PersistentVolumes of ``volume_size`` form the
    pool behind the default ``standard`` StorageClass (no provisioner, Immediate binding);
    ``up()`` tops the pool up again after claims were deleted. ``taint_nodes`` adds kwok's
    ``kwok.x-k8s.io/node=fake:NoSchedule`` taint; it is off by default because every node of this
    cluster is fake, so unmodified workloads (the lab components) must schedule onto them.
    ``toolchain`` defaults to :func:`ensure_toolchain` (built on first use); ``root`` to
    :func:`state_root`.
    """

    name: str = "sim"
    nodes: int = 3
    node_cpu: str = "16"
    node_memory: str = "64Gi"
    node_pods: int = 110
    volumes: int = 64
    volume_size: str = "20Gi"
    taint_nodes: bool = False
    toolchain: Toolchain | None = None
    root: Path | None = None  # state root; default state_root()
    _procs: dict[str, subprocess.Popen] = field(default_factory=dict, repr=False)

    # --- paths
    @property
    def state_dir(self) -> Path:
        return (self.root or state_root()) / "sim" / self.name

    @property
    def kubeconfig_path(self) -> Path:
        return self.state_dir / "kubeconfig"

    @property
    def _state_file(self) -> Path:
        return self.state_dir / "cluster.json"

    def _read_state(self) -> dict:
        try:
            return json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return {}

    def _write_state(self, state: dict) -> None:
        tmp = self._state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(self._state_file)

    @property
    def server(self) -> str | None:
        port = self._read_state().get("ports", {}).get("apiserver")
        return f"https://127.0.0.1:{port}" if port else None

    # --- lifecycle
    def up(self, progress: Progress | None = None, timeout: float = 180.0) -> SimStatus:
        """Start whatever is not running (idempotent); wait for /readyz and Ready nodes."""
        say = progress or (lambda _m: None)
        tc = self.toolchain or ensure_toolchain(progress)
        self.toolchain = tc
        say(SIMULATED_NOTICE)
        state = self._read_state()
        try:
            if state and self._all_alive(state) and self._ready(state):
                say(f"sim cluster {self.name!r} already running at {self.server}")
            else:
                if state:
                    self._stop(state, say)  # partial or stale: restart everything, keep data
                state = self._start(tc, state, say, timeout)
            self._bootstrap(say, time.monotonic() + timeout)
        except BaseException:
            # leave nothing running; keep the state dir so its logs can be read
            self._stop(self._read_state(), say)
            raise
        st = self.status()
        say(f"sim cluster {self.name!r} ready: {st.nodes_ready}/{st.nodes_total} nodes, "
            f"kubeconfig {self.kubeconfig_path}")
        return st

    def down(self, progress: Progress | None = None) -> None:
        """Stop every process this cluster started and remove its state directory."""
        say = progress or (lambda _m: None)
        state = self._read_state()
        if state:
            self._stop(state, say)
        if self.state_dir.exists():
            shutil.rmtree(self.state_dir)
            say(f"removed {self.state_dir}")

    def status(self) -> SimStatus:
        state = self._read_state()
        comps = tuple(
            ComponentStatus(c, state.get("pids", {}).get(c),
                            _alive(state.get("pids", {}).get(c), state.get("exes", {}).get(c)),
                            str(self.state_dir / "logs" / f"{c}.log"))
            for c in COMPONENTS
        )
        running = bool(state) and all(c.running for c in comps) and self._ready(state)
        total = ready = 0
        if running:
            with contextlib.suppress(Exception):
                for n in self.core_api().list_node().items:
                    total += 1
                    ready += any(c.type == "Ready" and c.status == "True"
                                 for c in (n.status.conditions or []))
        return SimStatus(self.name, str(self.state_dir), str(self.kubeconfig_path), self.server,
                         running, comps, total, ready)

    # --- API access
    def api_client(self):
        from kubernetes import client, config

        cfg = client.Configuration()
        config.load_kube_config(config_file=str(self.kubeconfig_path),
                                client_configuration=cfg)
        return client.ApiClient(cfg)

    def core_api(self):
        from kubernetes import client

        return client.CoreV1Api(self.api_client())

    # --- internals
    def _all_alive(self, state: dict) -> bool:
        pids, exes = state.get("pids", {}), state.get("exes", {})
        return all(_alive(pids.get(c), exes.get(c)) for c in COMPONENTS)

    def _ready(self, state: dict) -> bool:
        port = state.get("ports", {}).get("apiserver")
        if not port:
            return False
        pki = self.state_dir / "pki"
        ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        ctx.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        try:
            with urllib.request.urlopen(f"https://127.0.0.1:{port}/readyz", context=ctx,
                                        timeout=5) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError, ssl.SSLError):
            return False

    def _stop(self, state: dict, say: Progress) -> None:
        pids, exes = state.get("pids", {}), state.get("exes", {})
        for comp in reversed(COMPONENTS):  # kwok first, etcd last
            pid = pids.get(comp)
            if not _alive(pid, exes.get(comp)):
                continue
            say(f"stopping {comp} (pid {pid})")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            while _alive(pid) and time.monotonic() < deadline:
                self._reap(comp)
                time.sleep(0.1)
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
                while _alive(pid):
                    self._reap(comp)
                    time.sleep(0.05)
            self._reap(comp)
        self._procs.clear()
        if self._state_file.exists():
            state = {**state, "pids": {}}
            self._write_state(state)

    def _reap(self, comp: str) -> None:
        p = self._procs.get(comp)
        if p is not None:
            p.poll()

    def _spawn(self, comp: str, argv: list[str], state: dict) -> None:
        logs = self.state_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with (logs / f"{comp}.log").open("ab") as log:
            p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True,
                                 cwd=self.state_dir)
        self._procs[comp] = p
        state.setdefault("pids", {})[comp] = p.pid
        state.setdefault("exes", {})[comp] = argv[0]
        self._write_state(state)

    def _check_died(self, state: dict) -> None:
        for comp, pid in state.get("pids", {}).items():
            if not _alive(pid):
                p = self._procs.get(comp)
                code = p.poll() if p is not None else None
                log = self.state_dir / "logs" / f"{comp}.log"
                raise SimClusterError(
                    f"{comp} exited (code {code}) while starting sim cluster {self.name!r}; "
                    f"last lines of {log}:\n{_tail(log)}")

    def _wait(self, what: str, ok: Callable[[], bool], state: dict, deadline: float) -> None:
        while True:
            self._check_died(state)
            if ok():
                return
            if time.monotonic() > deadline:
                raise SimClusterError(f"timed out waiting for {what} (sim cluster {self.name!r};"
                                      f" logs in {self.state_dir / 'logs'})")
            time.sleep(0.25)

    def _start(self, tc: Toolchain, old: dict, say: Progress, timeout: float) -> dict:
        sd = self.state_dir
        sd.mkdir(parents=True, exist_ok=True)
        pki = sd / "pki"
        _make_pki(pki)
        ports = {k: _free_port() for k in ("etcd", "etcd_peer", "apiserver",
                                           "controller_manager", "scheduler", "kwok")}
        state = {"name": self.name, "ports": ports, "pids": {}, "exes": {},
                 "spec": {"nodes": self.nodes, "node_cpu": self.node_cpu,
                          "node_memory": self.node_memory}}
        self._write_state(state)
        server = f"https://127.0.0.1:{ports['apiserver']}"
        _kubeconfig(self.kubeconfig_path, server, pki, "admin", "admin", f"sim-{self.name}")
        for comp, stem in (("controller-manager", "controller-manager"),
                           ("scheduler", "scheduler"), ("kwok", "kwok")):
            _kubeconfig(sd / f"{comp}.kubeconfig", server, pki, f"system:{comp}", stem,
                        f"sim-{self.name}")
        deadline = time.monotonic() + timeout

        say(f"starting etcd on 127.0.0.1:{ports['etcd']}")
        etcd_url = f"http://127.0.0.1:{ports['etcd']}"
        peer_url = f"http://127.0.0.1:{ports['etcd_peer']}"
        self._spawn("etcd", [
            str(tc.etcd), "--name", "sim", "--data-dir", str(sd / "etcd"),
            "--listen-client-urls", etcd_url, "--advertise-client-urls", etcd_url,
            "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
            "--initial-cluster", f"sim={peer_url}", "--initial-cluster-state", "new",
            "--unsafe-no-fsync", "--quota-backend-bytes", str(4 * 1024**3),
            "--log-level", "warn",
        ], state)
        self._wait("etcd", lambda: _http_ok(f"{etcd_url}/health"), state, deadline)

        say(f"starting kube-apiserver on {server}")
        self._spawn("kube-apiserver", [
            str(tc.kube_apiserver),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={ports['apiserver']}",
            f"--cert-dir={sd / 'apiserver-certs'}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=Node,RBAC",
            "--enable-admission-plugins=NamespaceLifecycle,LimitRanger,ServiceAccount,"
            "DefaultStorageClass,DefaultTolerationSeconds,PodSecurity,Priority,"
            "PersistentVolumeClaimResize,RuntimeClass,StorageObjectInUseProtection,"
            "MutatingAdmissionWebhook,ValidatingAdmissionPolicy,ValidatingAdmissionWebhook,"
            "ResourceQuota,NodeRestriction",
            "--allow-privileged=true",
            "--endpoint-reconciler-type=none",
            "--profiling=false",
            "--v=1",
        ], state)
        self._wait("kube-apiserver /readyz", lambda: self._ready(state), state, deadline)

        say("starting kube-controller-manager")
        self._spawn("kube-controller-manager", [
            str(tc.kube_controller_manager),
            f"--kubeconfig={sd / 'controller-manager.kubeconfig'}",
            f"--authentication-kubeconfig={sd / 'controller-manager.kubeconfig'}",
            f"--authorization-kubeconfig={sd / 'controller-manager.kubeconfig'}",
            "--bind-address=127.0.0.1", f"--secure-port={ports['controller_manager']}",
            f"--cert-dir={sd / 'controller-manager-certs'}",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            f"--cluster-signing-cert-file={pki / 'ca.crt'}",
            f"--cluster-signing-key-file={pki / 'ca.key'}",
            "--use-service-account-credentials=true",
            # every default controller: replicaset, deployment, statefulset, job, namespace,
            # garbagecollector, resourcequota, serviceaccount(-token), persistentvolume-binder...
            "--controllers=*",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--leader-elect=false",
            # kwok renews node leases (40s); kwokctl's node monitor settings
            "--node-monitor-period=5s", "--node-monitor-grace-period=40s",
            "--kube-api-qps=500", "--kube-api-burst=1000",
            # a class's `cohort down` deletes every learner's namespace at once
            "--concurrent-namespace-syncs=50",
            "--v=1",
        ], state)

        say("starting kube-scheduler")
        self._spawn("kube-scheduler", [
            str(tc.kube_scheduler),
            f"--kubeconfig={sd / 'scheduler.kubeconfig'}",
            f"--authentication-kubeconfig={sd / 'scheduler.kubeconfig'}",
            f"--authorization-kubeconfig={sd / 'scheduler.kubeconfig'}",
            "--bind-address=127.0.0.1", f"--secure-port={ports['scheduler']}",
            f"--cert-dir={sd / 'scheduler-certs'}",
            "--leader-elect=false",
            "--v=1",
        ], state)

        say("starting kwok (simulated kubelets)")
        kwok_cfg = sd / "kwok.yaml"
        # only Stage objects: a KwokConfiguration document here would replace kwok's defaults
        kwok_cfg.write_text("\n---\n".join(
            p.read_text() for p in sorted(tc.kwok_stages_dir.glob("*.yaml"))))
        self._spawn("kwok", [
            str(tc.kwok),
            f"--kubeconfig={sd / 'kwok.kubeconfig'}",
            f"--config={kwok_cfg}",
            "--manage-all-nodes=false",
            f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
            f"--cidr={POD_CIDR}",
            "--node-ip=127.0.0.1",
            f"--node-port={ports['kwok']}",
            f"--server-address=127.0.0.1:{ports['kwok']}",
            f"--tls-cert-file={pki / 'kwok.crt'}",
            f"--tls-private-key-file={pki / 'kwok.key'}",
            "--node-lease-duration-seconds=40",
        ], state)
        time.sleep(0.5)
        self._check_died(state)
        return state

    def _bootstrap(self, say: Progress, deadline: float) -> None:
        """Nodes, the default StorageClass and the volume pool; then wait for Ready nodes."""
        from kubernetes import client
        from kubernetes.client.rest import ApiException

        api = self.api_client()
        core = client.CoreV1Api(api)
        storage = client.StorageV1Api(api)
        state = self._read_state()

        def create(fn, body) -> None:
            try:
                fn(body=body)
            except ApiException as e:
                if e.status != 409:
                    raise

        # the default ServiceAccount exists once the controller-manager runs; wait for it so
        # callers can create pods right away
        self._wait("controller-manager (default ServiceAccount)",
                   lambda: _exists(lambda: core.read_namespaced_service_account(
                       "default", "default")), state, deadline)
        names = [f"sim-{self.name}-node-{i}" for i in range(self.nodes)]
        for n in names:
            create(core.create_node, self._node(n))
        create(storage.create_storage_class, {
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": {"name": STORAGE_CLASS, "annotations": {
                "storageclass.kubernetes.io/is-default-class": "true"}},
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "Immediate", "reclaimPolicy": "Retain",
        })
        self.replenish_volumes(say)
        say(f"waiting for {len(names)} simulated nodes to be Ready")

        def nodes_ready() -> bool:
            ready = 0
            for node in core.list_node(label_selector="type=kwok").items:
                if node.metadata.name in names and any(
                        c.type == "Ready" and c.status == "True"
                        for c in (node.status.conditions or [])):
                    ready += 1
            return ready == len(names)

        self._wait("simulated nodes Ready", nodes_ready, state, deadline)

    def replenish_volumes(self, progress: Progress | None = None) -> int:
        """Delete Released pool volumes and create fresh ones so ``volumes`` are unclaimed or
        bound; returns how many were created."""
        from kubernetes import client

        core = client.CoreV1Api(self.api_client())
        prefix = f"sim-{self.name}-pv-"
        pvs = [pv for pv in core.list_persistent_volume().items
               if pv.metadata.name.startswith(prefix)]
        for pv in pvs:
            if pv.status and pv.status.phase in ("Released", "Failed"):
                core.delete_persistent_volume(pv.metadata.name)
        live = {pv.metadata.name for pv in pvs
                if not (pv.status and pv.status.phase in ("Released", "Failed"))}
        created, i = 0, 0
        while len(live) < self.volumes:
            name = f"{prefix}{i:04d}"
            i += 1
            if name in live:
                continue
            try:
                core.create_persistent_volume(self._volume(name))
            except client.ApiException as e:
                if e.status != 409:  # a Released one still being deleted: take the next name
                    raise
                continue
            live.add(name)
            created += 1
        if created and progress:
            progress(f"created {created} PersistentVolumes ({self.volume_size} each, "
                     f"class {STORAGE_CLASS})")
        return created

    def _volume(self, name: str) -> dict:
        return _volume(self.name, name, self.volume_size, self.state_dir / "volumes")

    def _node(self, name: str) -> dict:
        resources = {"cpu": self.node_cpu, "memory": self.node_memory,
                     "pods": str(self.node_pods), "ephemeral-storage": "500Gi"}
        spec: dict = {}
        if self.taint_nodes:
            spec["taints"] = [{"key": KWOK_NODE_ANNOTATION, "value": "fake",
                               "effect": "NoSchedule"}]
        return {
            "apiVersion": "v1", "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {KWOK_NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {
                    "beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64", "kubernetes.io/os": "linux",
                    "kubernetes.io/hostname": name, "kubernetes.io/role": "agent",
                    "node-role.kubernetes.io/agent": "", "type": "kwok",
                },
            },
            "spec": spec,
            "status": {"allocatable": resources, "capacity": resources},  # kwok fills the rest
        }


POOL_LABEL = "prodev-labs/sim-pool"


def _volume(pool: str, name: str, size: str, base: Path) -> dict:
    return {
        "apiVersion": "v1", "kind": "PersistentVolume",
        "metadata": {"name": name, "labels": {POOL_LABEL: pool}},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": ["ReadWriteOnce", "ReadWriteMany", "ReadOnlyMany"],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": STORAGE_CLASS,
            "hostPath": {"path": str(base / name), "type": "DirectoryOrCreate"},
        },
    }


def ensure_free_volumes(api, free: int) -> int:
    """Top a simulated cluster's volume pool up to `free` unclaimed volumes (dropping
    Released ones first), through the API alone; returns how many were created. A cluster
    without the pool (not simulated) is left alone."""
    from kubernetes import client

    core = client.CoreV1Api(api)
    pvs = core.list_persistent_volume(label_selector=POOL_LABEL).items
    if not pvs:
        return 0
    sample = pvs[0]
    pool = sample.metadata.labels[POOL_LABEL]
    size = sample.spec.capacity["storage"]
    base = Path(sample.spec.host_path.path).parent
    names = {pv.metadata.name for pv in pvs}
    available = 0
    for pv in pvs:
        phase = pv.status.phase if pv.status else None
        if phase in ("Released", "Failed"):
            core.delete_persistent_volume(pv.metadata.name)
        elif phase in ("Available", "Pending", None):
            available += 1
    created, i = 0, 0
    while available < free:
        name = f"sim-{pool}-pv-{i:04d}"
        i += 1
        if name in names:
            continue
        try:
            core.create_persistent_volume(_volume(pool, name, size, base))
        except client.ApiException as e:
            if e.status != 409:
                raise
            continue
        available += 1
        created += 1
    return created


def _exists(fn: Callable[[], object]) -> bool:
    from kubernetes.client.rest import ApiException

    try:
        fn()
        return True
    except ApiException as e:
        if e.status == 404:
            return False
        raise


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, OSError):
        return False
