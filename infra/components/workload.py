"""Object shapes every workload component shares: metadata, Services, Deployments, StatefulSets.

Components decide *what* runs (image, env, probes, sizes); these functions decide how it is
laid out, so labels, selectors and security settings are the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from infra.labels import EGRESS, OWNED, object_labels, selector
from labs.spec import LabSpec


@dataclass(frozen=True)
class Port:
    name: str
    port: int
    target: int | None = None  # container port when it differs from the Service port

    @property
    def container_port(self) -> int:
        return self.target or self.port


@dataclass(frozen=True)
class Workload:
    """One pod template: the parts components choose."""

    name: str
    component: str  # app.kubernetes.io/component
    containers: list[dict[str, Any]]
    uid: int | None  # run as this user with a restricted context; None keeps the image's
    internet: bool = False  # may reach the internet (NetworkPolicy opt-in label)
    volumes: list[dict[str, Any]] = field(default_factory=list)
    init_containers: list[dict[str, Any]] = field(default_factory=list)


def metadata(spec: LabSpec, name: str, component: str) -> dict[str, Any]:
    return {"name": name, "namespace": spec.namespace,
            "labels": object_labels(spec, name, component), "annotations": dict(OWNED)}


def pod_template(spec: LabSpec, w: Workload) -> dict[str, Any]:
    labels = object_labels(spec, w.name, w.component)
    if w.internet:
        labels[EGRESS] = "internet"
    pod_spec: dict[str, Any] = {
        "containers": w.containers,
        "automount_service_account_token": False,
        "enable_service_links": False,
    }
    if w.uid is not None:
        pod_spec["security_context"] = {
            "run_as_non_root": True, "run_as_user": w.uid, "run_as_group": w.uid,
            "fs_group": w.uid, "seccomp_profile": {"type": "RuntimeDefault"}}
    if w.volumes:
        pod_spec["volumes"] = w.volumes
    if w.init_containers:
        pod_spec["init_containers"] = w.init_containers
    return {"metadata": {"labels": labels}, "spec": pod_spec}


def service(spec: LabSpec, name: str, component: str, ports: list[Port], *,
            headless: bool = False, opts: pulumi.ResourceOptions,
            service_name: str | None = None) -> k8s.core.v1.Service:
    svc = service_name or name
    body: dict[str, Any] = {
        "selector": selector(name),
        "ports": [{"name": p.name, "port": p.port, "target_port": p.container_port}
                  for p in ports],
    }
    if headless:
        body["cluster_ip"] = "None"
    return k8s.core.v1.Service(f"{spec.namespace}-{svc}", metadata=metadata(spec, svc, component),
                               spec=body, opts=opts)


def deployment(spec: LabSpec, w: Workload, *, replicas: int,
               opts: pulumi.ResourceOptions) -> k8s.apps.v1.Deployment:
    return k8s.apps.v1.Deployment(
        f"{spec.namespace}-{w.name}",
        metadata=metadata(spec, w.name, w.component),
        spec={
            "replicas": replicas,
            "selector": {"match_labels": selector(w.name)},
            # One surge pod at most: the quota counts exactly one (labs.sizing).
            "strategy": {"type": "RollingUpdate",
                         "rolling_update": {"max_surge": 1, "max_unavailable": 0}},
            "template": pod_template(spec, w),
        },
        opts=opts,
    )


def statefulset(spec: LabSpec, w: Workload, *, service_name: str, volume: str, storage: str,
                mount_path: str, opts: pulumi.ResourceOptions) -> k8s.apps.v1.StatefulSet:
    claim: dict[str, Any] = {
        "metadata": {"name": volume, "labels": object_labels(spec, w.name, w.component)},
        "spec": {"access_modes": ["ReadWriteOnce"],
                 "resources": {"requests": {"storage": storage}}},
    }
    if spec.storage_class:
        claim["spec"]["storage_class_name"] = spec.storage_class
    for container in w.containers[:1]:
        container.setdefault("volume_mounts", []).append({"name": volume,
                                                          "mount_path": mount_path})
    return k8s.apps.v1.StatefulSet(
        f"{spec.namespace}-{w.name}",
        metadata=metadata(spec, w.name, w.component),
        spec={
            "service_name": service_name,
            "replicas": 1,
            "selector": {"match_labels": selector(w.name)},
            "template": pod_template(spec, w),
            "volume_claim_templates": [claim],
            "persistent_volume_claim_retention_policy": {"when_deleted": "Delete",
                                                         "when_scaled": "Retain"},
        },
        opts=opts,
    )
