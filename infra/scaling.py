"""`lab scale`: set the replica count of the API or the Celery workers of one learner.

Validation is separate from the API calls so bad arguments are refused before any cluster is
touched. The upper bound is the profile's `max_replicas`: the catalog sizes each profile so
that many replicas (with a surge pod) fit the namespace's ResourceQuota.

When an HPA targets the Deployment, the HPA owns the count: scaling only the Deployment would
be undone at the HPA's next sync. So `lab scale` moves the HPA's floor instead: minReplicas = N
(maxReplicas raised to N when it was lower) and the Deployment is set to N right away, so the
change shows without waiting for the autoscaler, which may still add replicas under load. The
HPA cannot go below one replica, so N = 0 is refused there. `lab up` keeps the change (Pulumi
compares with its own state, not the cluster); `lab reset` brings back the lesson's values.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubernetes import client
from kubernetes.client.rest import ApiException

from infra.replicas import ReplicaCounts, hpa_for, replica_counts
from labs.spec import LabSpec

# --component -> the Deployment's name (infra/components/api.py, infra/components/worker.py)
COMPONENTS: dict[str, str] = {"api": "api", "worker": "worker"}


class ScaleError(ValueError):
    """A scale request that cannot be carried out, with what to do instead."""


@dataclass(frozen=True)
class ScaleRequest:
    namespace: str
    component: str
    deployment: str
    replicas: int
    maximum: int


def validate(spec: LabSpec, component: str | None, replicas: str | int | None) -> ScaleRequest:
    """The request, or ScaleError naming every bad argument."""
    problems = []
    if component not in COMPONENTS:
        problems.append(f"--component must be one of {', '.join(COMPONENTS)}, not {component!r}"
                        if component else f"--component is required ({', '.join(COMPONENTS)})")
    elif not spec.deploys(component):
        problems.append(f"lesson {spec.lesson.number} deploys no {component} "
                        f"(it deploys: {', '.join(spec.lesson.components) or 'nothing'})")
    maximum = spec.profile.max_replicas
    count: int | None = None
    if replicas is None or str(replicas).strip() == "":
        problems.append("--replicas is required")
    else:
        try:
            count = int(str(replicas).strip())
        except ValueError:
            problems.append(f"--replicas must be a whole number, not {replicas!r}")
    if count is not None and not 0 <= count <= maximum:
        problems.append(f"--replicas must be 0..{maximum} (the {spec.profile.name} profile's "
                        f"max_replicas, sized to the namespace's quota), not {count}")
    if problems or component is None or count is None:
        raise ScaleError("; ".join(problems))
    return ScaleRequest(spec.namespace, component, COMPONENTS[component], count, maximum)


@dataclass(frozen=True)
class ScaleOutcome:
    before: ReplicaCounts
    hpa: str | None  # the HPA whose bounds were changed
    hpa_min: int | None = None
    hpa_max: int | None = None


def scale(api: client.ApiClient, request: ScaleRequest) -> ScaleOutcome:
    """Patch the Deployment's scale (and the HPA's bounds when one targets it)."""
    try:
        before = replica_counts(api, request.namespace, request.deployment)
    except ApiException as exc:
        if exc.status == 404:
            raise ScaleError(f"no Deployment {request.deployment} in {request.namespace}: "
                             "is the lab up for this lesson?") from None
        raise
    hpa = hpa_for(api, request.namespace, request.deployment)
    outcome = ScaleOutcome(before=before, hpa=None)
    if hpa is not None:
        if request.replicas < 1:
            raise ScaleError(f"HPA {hpa.metadata.name} scales {request.deployment} between "
                             f"{hpa.spec.min_replicas or 1} and {hpa.spec.max_replicas} and "
                             "keeps at least 1 replica; choose --replicas 1 or more")
        low, high = request.replicas, max(hpa.spec.max_replicas, request.replicas)
        client.AutoscalingV2Api(api).patch_namespaced_horizontal_pod_autoscaler(
            hpa.metadata.name, request.namespace,
            {"spec": {"minReplicas": low, "maxReplicas": high}})
        outcome = ScaleOutcome(before=before, hpa=hpa.metadata.name, hpa_min=low, hpa_max=high)
    client.AppsV1Api(api).patch_namespaced_deployment_scale(
        request.deployment, request.namespace, {"spec": {"replicas": request.replicas}})
    return outcome
