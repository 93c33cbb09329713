"""Replica counts of a learner's Deployment and of the HPA that scales it, read by name.

Shared by `invoke lab scale` (which patches them) and the load test's replica sampler.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubernetes import client


@dataclass(frozen=True)
class ReplicaCounts:
    """What the API says now: the Deployment's desired/ready and its HPA's, if one targets it."""

    deployment: str
    desired: int
    ready: int
    hpa: str | None = None
    hpa_min: int | None = None
    hpa_max: int | None = None
    hpa_current: int | None = None
    hpa_desired: int | None = None


def hpa_for(api: client.ApiClient, namespace: str, deployment: str) -> Any | None:
    """The HorizontalPodAutoscaler (autoscaling/v2) whose target is this Deployment, if any."""
    hpas = client.AutoscalingV2Api(api).list_namespaced_horizontal_pod_autoscaler(namespace)
    for hpa in hpas.items:
        ref = hpa.spec.scale_target_ref
        if ref.kind == "Deployment" and ref.name == deployment:
            return hpa
    return None


def replica_counts(api: client.ApiClient, namespace: str, deployment: str) -> ReplicaCounts:
    """Raises kubernetes.client.ApiException (404) when the Deployment does not exist."""
    dep = client.AppsV1Api(api).read_namespaced_deployment(deployment, namespace)
    status = dep.status
    counts = ReplicaCounts(deployment=deployment,
                           desired=dep.spec.replicas if dep.spec.replicas is not None else 1,
                           ready=(status.ready_replicas or 0) if status else 0)
    hpa = hpa_for(api, namespace, deployment)
    if hpa is None:
        return counts
    hs = hpa.status
    return ReplicaCounts(deployment=deployment, desired=counts.desired, ready=counts.ready,
                         hpa=hpa.metadata.name, hpa_min=hpa.spec.min_replicas or 1,
                         hpa_max=hpa.spec.max_replicas,
                         hpa_current=hs.current_replicas if hs else None,
                         hpa_desired=hs.desired_replicas if hs else None)
