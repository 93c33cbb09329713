"""Local ports for Services of a namespace, through the API server: `kubectl port-forward svc/x`
without kubectl, for commands that reach many learners at once (`cohort check`).

Each forward listens on 127.0.0.1 at a port the OS picks, so forwards never collide with each
other or with a learner's own port-forwards, and carries every accepted connection over a
pods/portforward stream of its own to a Ready pod behind the Service. The stream enters the
pod's network namespace, as kubectl's does: no NetworkPolicy has to admit the caller, and the
caller's RBAC (pods/portforward in that namespace) decides.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

from kubernetes import client
from kubernetes.stream import portforward

ClientFactory = Callable[[], client.ApiClient]
CHUNK = 64 * 1024
POD_TTL_S = 10.0  # how long a chosen pod is reused before the Service is looked up again


class ForwardError(RuntimeError):
    """The Service has no Ready pod to forward to, or has no such port."""


@dataclass(frozen=True)
class Backend:
    pod: str
    port: int  # the container port the Service's port targets


def ready_backend(core: client.CoreV1Api, namespace: str, service: str, port: int) -> Backend:
    """A Ready, running pod behind `service` and the container port its `port` targets."""
    svc = core.read_namespaced_service(service, namespace)
    ports = [p for p in svc.spec.ports or [] if p.port == port]
    if not ports:
        raise ForwardError(f"service {namespace}/{service} has no port {port}")
    target = ports[0].target_port if ports[0].target_port is not None else port
    selector = ",".join(f"{k}={v}" for k, v in sorted((svc.spec.selector or {}).items()))
    if not selector:
        raise ForwardError(f"service {namespace}/{service} selects no pods")
    for pod in core.list_namespaced_pod(namespace, label_selector=selector).items:
        ready = any(c.type == "Ready" and c.status == "True"
                    for c in pod.status.conditions or [])
        if pod.metadata.deletion_timestamp or pod.status.phase != "Running" or not ready:
            continue
        if isinstance(target, int) or str(target).isdigit():
            return Backend(pod.metadata.name, int(target))
        for container in pod.spec.containers:
            for cport in container.ports or []:
                if cport.name == target:
                    return Backend(pod.metadata.name, cport.container_port)
    raise ForwardError(f"service {namespace}/{service} has no Ready pod")


class ServiceForward:
    """127.0.0.1:<free port> -> svc/<service>:<port> in <namespace>, until closed.

    `make_client` returns a new ApiClient: the stream helper of the Kubernetes client swaps a
    method of the client it is given while it connects, so this forward keeps one client of
    its own for streams (one connect at a time) and another for looking pods up."""

    def __init__(self, make_client: ClientFactory, namespace: str, service: str,
                 port: int) -> None:
        self.namespace, self.service, self.port = namespace, service, port
        self._core = client.CoreV1Api(make_client())
        self._streams = client.CoreV1Api(make_client())
        self._connect_lock = threading.Lock()
        self._backend: tuple[Backend, float] | None = None
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.local_port: int = self._listener.getsockname()[1]
        self._closed = threading.Event()
        self._accepting = threading.Thread(target=self._accept, daemon=True,
                                           name=f"forward {namespace}/{service}:{port}")
        self._accepting.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"

    def backend(self, fresh: bool = False) -> Backend:
        cached = self._backend
        if cached and not fresh and time.monotonic() - cached[1] < POD_TTL_S:
            return cached[0]
        found = ready_backend(self._core, self.namespace, self.service, self.port)
        self._backend = (found, time.monotonic())
        return found

    def _open(self) -> socket.socket:
        """A stream to a Ready pod's port (looked up again once if the cached pod is gone)."""
        for fresh in (False, True):
            backend = self.backend(fresh)
            try:
                with self._connect_lock:
                    stream = portforward(self._streams.connect_get_namespaced_pod_portforward,
                                         backend.pod, self.namespace, ports=str(backend.port))
                return stream.socket(backend.port)
            except Exception:  # noqa: BLE001 - a pod that went away: look it up once more
                if fresh:
                    raise
        raise AssertionError("unreachable")

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        try:
            remote = self._open()
        except Exception:  # noqa: BLE001 - the client sees a closed connection, as with kubectl
            conn.close()
            return
        pump(conn, remote, self._closed)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()

    def __enter__(self) -> ServiceForward:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def pump(local: socket.socket, remote: socket.socket, stop: threading.Event) -> None:
    """Copy bytes both ways until either side closes. The stream cannot be half-closed (its
    local end closes whole on EOF), so an end of either direction ends the connection."""
    other = {local: remote, remote: local}
    with selectors.DefaultSelector() as sel:
        sel.register(local, selectors.EVENT_READ)
        sel.register(remote, selectors.EVENT_READ)
        try:
            while not stop.is_set():
                for key, _ in sel.select(timeout=1.0):
                    data = key.fileobj.recv(CHUNK)  # type: ignore[union-attr]
                    if not data:
                        return
                    other[key.fileobj].sendall(data)  # type: ignore[index]
        except OSError:
            return
        finally:
            local.close()
            remote.close()
