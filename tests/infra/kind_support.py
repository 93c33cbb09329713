"""Helpers of the kind tier: the cluster fixture's object, and pods run and reached for real."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from kubernetes import client

from infra.cluster import kind
from infra.cluster.kind_kit import Kit, ensure_kit
from infra.kubeconfig import admin_client


@dataclass
class KindCluster:
    name: str
    kubeconfig: Path
    kit: Kit
    up_seconds: float
    api: client.ApiClient = field(repr=False)

    @classmethod
    def start(cls, name: str) -> KindCluster:
        say = lambda m: print(f"[kind] {m}", flush=True)  # noqa: E731
        kit = ensure_kit(say)
        started = time.monotonic()
        path = kind.up(name, images="offline", progress=say)
        return cls(name, path, kit, time.monotonic() - started, admin_client(path))

    def stop(self) -> list[str]:
        return kind.down(self.name)

    @property
    def core(self) -> client.CoreV1Api:
        return client.CoreV1Api(self.api)

    def kubectl(self, *args: str, check: bool = True, timeout: float = 120,
                stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([str(self.kit.kubectl), "--kubeconfig", str(self.kubeconfig),
                               *args], capture_output=True, text=True, timeout=timeout,
                              input=stdin, check=False)
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)}: {done.stderr[-1500:]}")
        return done

    def namespace(self, name: str, **labels: str) -> str:
        self.core.create_namespace(client.V1Namespace(
            metadata=client.V1ObjectMeta(name=name, labels=labels or None)))
        return name

    def busybox_pod(self, namespace: str, name: str, script: str,
                    labels: dict[str, str] | None = None, image: str | None = None) -> None:
        """A pod running ``script`` under busybox's sh (the kit's helper image)."""
        self.core.create_namespaced_pod(namespace, client.V1Pod(
            metadata=client.V1ObjectMeta(name=name, labels=labels or {"app": name}),
            spec=client.V1PodSpec(
                restart_policy="Never", termination_grace_period_seconds=1,
                containers=[client.V1Container(
                    name="main", image=image or self.kit.names.local_path_helper,
                    image_pull_policy="IfNotPresent",
                    command=["/bin/busybox", "sh", "-c", script])])))

    def wait_pod(self, namespace: str, name: str, phases: set[str],
                 timeout: float = 180) -> client.V1Pod:
        deadline = time.monotonic() + timeout
        while True:
            pod = self.core.read_namespaced_pod(name, namespace)
            if pod.status.phase in phases and (
                    pod.status.phase != "Running" or all(
                        c.ready for c in pod.status.container_statuses or [])):
                return pod
            if time.monotonic() > deadline:
                events = self.kubectl("-n", namespace, "describe", "pod", name,
                                      check=False).stdout[-2000:]
                raise AssertionError(f"pod {namespace}/{name} is {pod.status.phase}, "
                                     f"not {phases}:\n{events}")
            time.sleep(1)

    def exec(self, namespace: str, pod: str, script: str,
             timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return self.kubectl("-n", namespace, "exec", pod, "--", "/bin/busybox", "sh", "-c",
                            script, check=False, timeout=timeout)

    def http_get(self, namespace: str, pod: str, host: str, port: int = 80) -> str:
        """The body of ``GET /`` from inside ``pod`` over a real TCP connection (busybox nc:
        Debian's static busybox wget crashes); '' when the connection fails or times out."""
        got = self.exec(namespace, pod,
                        f"printf 'GET / HTTP/1.0\\r\\nHost: {host}\\r\\n\\r\\n' | "
                        f"/bin/busybox nc -w 3 {host} {port}")
        head, _, body = got.stdout.replace("\r\n", "\n").partition("\n\n")
        return body.strip() if got.returncode == 0 and " 200 " in head else ""

    def eventually_get(self, namespace: str, pod: str, host: str, expect: str,
                       timeout: float = 60) -> bool:
        """Whether ``GET /`` answers ``expect`` within ``timeout``: a new Service reaches the
        node's proxy rules a moment after it is created, as on any cluster."""
        deadline = time.monotonic() + timeout
        while self.http_get(namespace, pod, host) != expect:
            if time.monotonic() > deadline:
                return False
            time.sleep(2)
        return True

    def web_server(self, namespace: str, name: str, body: str,
                   labels: dict[str, str] | None = None) -> str:
        """A busybox httpd pod answering ``body`` on port 8080, and a Service; its DNS name."""
        self.busybox_pod(namespace, name,
                         f"mkdir -p /www && echo {body} > /www/index.html && "
                         "exec /bin/busybox httpd -f -p 8080 -h /www",
                         labels=labels or {"app": name})
        self.core.create_namespaced_service(namespace, client.V1Service(
            metadata=client.V1ObjectMeta(name=name),
            spec=client.V1ServiceSpec(selector=labels or {"app": name},
                                      ports=[client.V1ServicePort(port=80,
                                                                  target_port=8080)])))
        self.wait_pod(namespace, name, {"Running"})
        return f"{name}.{namespace}.svc.cluster.local"
