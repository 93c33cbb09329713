"""Readiness of a learner's workloads, read from the Kubernetes API by label."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from kubernetes import client

from infra.labels import COMPONENT, NAME, cohort_selector


@dataclass(frozen=True)
class WorkloadStatus:
    namespace: str
    learner: str
    name: str
    kind: str
    component: str
    ready: int
    desired: int

    @property
    def is_ready(self) -> bool:
        return self.desired > 0 and self.ready >= self.desired

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"is_ready": self.is_ready}


def workload_status(api: client.ApiClient, cohort: str,
                    learner: str | None = None) -> list[WorkloadStatus]:
    """Every Deployment and StatefulSet of the cohort (or one learner), sorted."""
    apps = client.AppsV1Api(api)
    selector = cohort_selector(cohort, learner)
    found: list[WorkloadStatus] = []
    for kind, items in (
        ("Deployment", apps.list_deployment_for_all_namespaces(label_selector=selector).items),
        ("StatefulSet", apps.list_stateful_set_for_all_namespaces(label_selector=selector).items),
    ):
        for obj in items:
            labels = obj.metadata.labels or {}
            found.append(WorkloadStatus(
                namespace=obj.metadata.namespace,
                learner=labels.get("labs.prodev.dev/learner", ""),
                name=labels.get(NAME, obj.metadata.name),
                kind=kind,
                component=labels.get(COMPONENT, ""),
                ready=(obj.status.ready_replicas or 0) if obj.status else 0,
                desired=obj.spec.replicas if obj.spec.replicas is not None else 1,
            ))
    return sorted(found, key=lambda s: (s.namespace, s.name))


def labelled_leftovers(api: client.ApiClient, cohort: str) -> list[str]:
    """Namespaces and workloads of the cohort still on the cluster (expected: none)."""
    selector = cohort_selector(cohort)
    core = client.CoreV1Api(api)
    left = [f"Namespace/{n.metadata.name}" for n in
            core.list_namespace(label_selector=selector).items
            if n.status.phase != "Terminating"]
    left += [f"{s.kind}/{s.namespace}/{s.name}" for s in workload_status(api, cohort)]
    return left
