"""Cluster add-ons the labs rely on: metrics-server (for HPAs) and Traefik (for Ingresses).

Plain manifests, applied with server-side apply (what `kubectl apply --server-side` does), so
`cluster up` can run any number of times and converge. Traefik is the ingress controller:
ingress-nginx was retired in March 2026; Traefik is maintained, implements the Ingress API
the labs use (and Gateway API for later), and runs as one small non-root Deployment.

On kind, Traefik listens on the control-plane node's ports 80/443 (`ingress-ready=true`,
mapped to 127.0.0.1 by kind-config.yaml), so `http://<learner>.labs.localhost/` reaches each
learner's API. metrics-server gets `--kubelet-insecure-tls`: kind's kubelets serve
self-signed certificates.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kubernetes import client, dynamic

FIELD_MANAGER = "prodev-labs"
PART_OF = {"app.kubernetes.io/part-of": "prodev-labs",
           "app.kubernetes.io/managed-by": "prodev-labs"}


@dataclass(frozen=True)
class AddonVersions:
    metrics_server: str = "v0.8.0"
    traefik: str = "v3.6.2"


@dataclass(frozen=True)
class Addon:
    name: str
    namespace: str
    deployment: str
    objects: tuple[dict[str, Any], ...]


def _meta(name: str, namespace: str | None = None, **labels: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": {**PART_OF, **labels}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def _restricted(uid: int) -> dict[str, Any]:
    return {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": uid,
            "allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}


def metrics_server(version: str, image: str | None = None) -> Addon:
    ns, name = "kube-system", "metrics-server"
    labels = {"app.kubernetes.io/name": name}
    reader_rules = [{"apiGroups": ["metrics.k8s.io"], "resources": ["pods", "nodes"],
                     "verbs": ["get", "list", "watch"]}]
    objects: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, ns, **labels)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": _meta("system:aggregated-metrics-reader", **labels, **{
             f"rbac.authorization.k8s.io/aggregate-to-{role}": "true"
             for role in ("view", "edit", "admin")}),
         "rules": reader_rules},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": _meta("system:metrics-server", **labels),
         "rules": [{"apiGroups": [""], "resources": ["nodes/metrics"], "verbs": ["get"]},
                   {"apiGroups": [""], "resources": ["pods", "nodes"],
                    "verbs": ["get", "list", "watch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
         "metadata": _meta("metrics-server-auth-reader", ns, **labels),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                     "name": "extension-apiserver-authentication-reader"},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": _meta("metrics-server:system:auth-delegator", **labels),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "system:auth-delegator"},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": _meta("system:metrics-server", **labels),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "system:metrics-server"},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": ns}]},
        {"apiVersion": "v1", "kind": "Service", "metadata": _meta(name, ns, **labels),
         "spec": {"selector": labels,
                  "ports": [{"name": "https", "port": 443, "targetPort": "https"}]}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(name, ns, **labels),
         "spec": {
             "selector": {"matchLabels": labels},
             "strategy": {"rollingUpdate": {"maxUnavailable": 0}},
             "template": {"metadata": {"labels": {**PART_OF, **labels}}, "spec": {
                 "serviceAccountName": name,
                 "priorityClassName": "system-cluster-critical",
                 "nodeSelector": {"kubernetes.io/os": "linux"},
                 "containers": [{
                     "name": name,
                     "image": image or f"registry.k8s.io/metrics-server/metrics-server:{version}",
                     "imagePullPolicy": "IfNotPresent",
                     "args": ["--cert-dir=/tmp", "--secure-port=10250",
                              "--kubelet-preferred-address-types=InternalIP,ExternalIP,"
                              "Hostname",
                              "--kubelet-use-node-status-port", "--metric-resolution=15s",
                              "--kubelet-insecure-tls"],
                     "ports": [{"name": "https", "containerPort": 10250, "protocol": "TCP"}],
                     "readinessProbe": {"httpGet": {"path": "/readyz", "port": "https",
                                                    "scheme": "HTTPS"},
                                        "initialDelaySeconds": 20, "periodSeconds": 10},
                     "livenessProbe": {"httpGet": {"path": "/livez", "port": "https",
                                                   "scheme": "HTTPS"},
                                       "periodSeconds": 10},
                     "resources": {"requests": {"cpu": "100m", "memory": "200Mi"},
                                   "limits": {"memory": "400Mi"}},
                     "securityContext": _restricted(1000),
                     "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                 }],
                 "volumes": [{"name": "tmp", "emptyDir": {}}],
             }},
         }},
        {"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
         "metadata": _meta("v1beta1.metrics.k8s.io", **labels),
         "spec": {"group": "metrics.k8s.io", "version": "v1beta1",
                  "groupPriorityMinimum": 100, "versionPriority": 100,
                  "insecureSkipTLSVerify": True,
                  "service": {"name": name, "namespace": ns}}},
    ]
    return Addon("metrics-server", ns, name, tuple(objects))


def traefik(version: str, namespace: str = "traefik", ingress_class: str = "traefik",
            image: str | None = None) -> Addon:
    name = "traefik"
    labels = {"app.kubernetes.io/name": name}
    objects: list[dict[str, Any]] = [
        # Pod Security "baseline" forbids hostPort, which kind's ingress pattern needs (the
        # node's 80/443 are the host's). Only this add-on's namespace is "privileged"; the
        # container itself stays restricted (non-root, no capabilities, read-only root), and
        # warn/audit at restricted keep saying so. Learner namespaces are untouched.
        {"apiVersion": "v1", "kind": "Namespace", "metadata": _meta(namespace, **{
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/audit": "restricted"})},
        {"apiVersion": "v1", "kind": "ServiceAccount",
         "metadata": _meta(name, namespace, **labels)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
         "metadata": _meta("prodev-labs-traefik", **labels),
         "rules": [
             {"apiGroups": [""], "resources": ["services", "secrets", "nodes"],
              "verbs": ["get", "list", "watch"]},
             {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"],
              "verbs": ["list", "watch"]},
             {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses", "ingressclasses"],
              "verbs": ["get", "list", "watch"]},
             {"apiGroups": ["networking.k8s.io"], "resources": ["ingresses/status"],
              "verbs": ["update"]},
         ]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
         "metadata": _meta("prodev-labs-traefik", **labels),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                     "name": "prodev-labs-traefik"},
         "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]},
        {"apiVersion": "networking.k8s.io/v1", "kind": "IngressClass",
         "metadata": {**_meta(ingress_class, **labels), "annotations": {
             "ingressclass.kubernetes.io/is-default-class": "true"}},
         "spec": {"controller": "traefik.io/ingress-controller"}},
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": _meta(name, namespace, **labels),
         "spec": {
             "replicas": 1,
             "selector": {"matchLabels": labels},
             # hostPorts: a second pod could not bind them until the first is gone.
             "strategy": {"type": "Recreate"},
             "template": {"metadata": {"labels": {**PART_OF, **labels}}, "spec": {
                 "serviceAccountName": name,
                 # kind maps 127.0.0.1:80/443 to the node labelled ingress-ready=true.
                 "nodeSelector": {"ingress-ready": "true"},
                 "tolerations": [{"key": "node-role.kubernetes.io/control-plane",
                                  "operator": "Exists", "effect": "NoSchedule"}],
                 "containers": [{
                     "name": name,
                     "image": image or f"docker.io/library/traefik:{version}",
                     "imagePullPolicy": "IfNotPresent",
                     "args": ["--entryPoints.web.address=:8000",
                              "--entryPoints.websecure.address=:8443",
                              "--entryPoints.traefik.address=:9000", "--ping=true",
                              "--providers.kubernetesingress=true",
                              f"--providers.kubernetesingress.ingressClass={ingress_class}",
                              "--providers.kubernetesingress.ingressEndpoint.ip=127.0.0.1",
                              "--log.level=INFO", "--accesslog=true"],
                     "ports": [
                         {"name": "web", "containerPort": 8000, "hostPort": 80},
                         {"name": "websecure", "containerPort": 8443, "hostPort": 443},
                         {"name": "traefik", "containerPort": 9000},
                     ],
                     "readinessProbe": {"httpGet": {"path": "/ping", "port": "traefik"},
                                        "periodSeconds": 5},
                     "livenessProbe": {"httpGet": {"path": "/ping", "port": "traefik"},
                                       "periodSeconds": 10},
                     "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                   "limits": {"memory": "256Mi"}},
                     "securityContext": _restricted(65532),
                 }],
             }},
         }},
    ]
    return Addon("traefik", namespace, name, tuple(objects))


def addons(versions: AddonVersions = AddonVersions(),
           images: Mapping[str, str] | None = None) -> tuple[Addon, ...]:
    """The add-ons; ``images`` (by add-on name) replaces upstream images, e.g. the offline
    kit's locally built ones."""
    images = images or {}
    return (metrics_server(versions.metrics_server, images.get("metrics-server")),
            traefik(versions.traefik, image=images.get("traefik")))


def apply(api: client.ApiClient, objects: Iterable[dict[str, Any]],
          dry_run: bool = False) -> list[str]:
    """Server-side apply each object (forcing our field manager); returns `Kind/name`s."""
    dyn = dynamic.DynamicClient(api)
    applied = []
    for obj in objects:
        resource = dyn.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
        meta = obj["metadata"]
        kwargs: dict[str, Any] = {"body": obj, "name": meta["name"],
                                  "field_manager": FIELD_MANAGER, "force_conflicts": True}
        if resource.namespaced:
            kwargs["namespace"] = meta["namespace"]
        if dry_run:
            kwargs["dry_run"] = "All"
        dyn.server_side_apply(resource, **kwargs)
        applied.append(f"{obj['kind']}/{meta['name']}")
    return applied


def install(api: client.ApiClient, *, versions: AddonVersions = AddonVersions(),
            progress: Callable[[str], None] = lambda _: None, timeout_s: float = 300,
            wait: bool = True, images: Mapping[str, str] | None = None) -> None:
    """Apply every add-on, then wait until each Deployment has a ready replica."""
    # An APIService is registered only once its Deployment is Ready: registered earlier, the
    # aggregator connects to the Service IP before kube-proxy has rules for it, and that
    # connection (kept alive) goes wherever the node's default route leads, for good.
    def registers(obj: dict[str, Any]) -> bool:
        return obj["kind"] == "APIService"

    for addon in addons(versions, images):
        progress(f"applying {addon.name} ({len(addon.objects)} objects)")
        apply(api, [o for o in addon.objects if not registers(o) or not wait])
    if not wait:
        return
    apps = client.AppsV1Api(api)
    for addon in addons(versions, images):
        deadline = time.monotonic() + timeout_s
        progress(f"waiting for {addon.name}")
        while True:
            dep = apps.read_namespaced_deployment(addon.deployment, addon.namespace)
            if (dep.status.ready_replicas or 0) >= 1:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"{addon.name} has no ready replica after {timeout_s:.0f}s "
                                   f"(kubectl -n {addon.namespace} describe deploy "
                                   f"{addon.deployment})")
            time.sleep(2)
        late = [o for o in addon.objects if registers(o)]
        if late:
            apply(api, late)
            _wait_available(api, [o["metadata"]["name"] for o in late], deadline, progress)


def _wait_available(api: client.ApiClient, names: list[str], deadline: float,
                    progress: Callable[[str], None]) -> None:
    """Until each APIService reports Available (its API answers through the aggregator)."""
    dyn = dynamic.DynamicClient(api)
    services = dyn.resources.get(api_version="apiregistration.k8s.io/v1", kind="APIService")
    for name in names:
        progress(f"waiting for APIService {name}")
        while True:
            conditions = services.get(name=name).to_dict().get("status", {}).get(
                "conditions", [])
            if any(c["type"] == "Available" and c["status"] == "True" for c in conditions):
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"APIService {name} is not Available: "
                                   f"{[c.get('message') for c in conditions]}")
            time.sleep(2)
