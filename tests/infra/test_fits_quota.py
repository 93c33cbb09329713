"""What the rendered objects ask for fits the namespace's LimitRange and ResourceQuota."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kubernetes.utils import parse_quantity

from tests.infra.conftest import containers, find, rendered, spec_for

WORKLOADS = {"Deployment", "StatefulSet", "Job"}


def peak_pods(obj: dict, max_replicas: int) -> int:
    """Pods of one workload at peak: HPA maximum, plus a rolling update's surge pod."""
    if obj["kind"] == "Job":
        return 1
    replicas = obj["spec"].get("replicas", 1)
    if obj["kind"] == "Deployment":
        return max(replicas, max_replicas if obj.get("_hpa") else replicas) + 1
    return replicas


@pytest.mark.parametrize("lesson", range(1, 9))
def test_every_container_is_sized_probed_and_restricted(lesson: int) -> None:
    objects = rendered(lesson)
    [limit] = find(objects, "LimitRange")["spec"]["limits"]
    for obj in (o for o in objects if o["kind"] in WORKLOADS):
        for c in containers(obj):
            res = c["resources"]
            for kind in ("cpu", "memory"):
                assert parse_quantity(res["requests"][kind]) <= parse_quantity(
                    res["limits"][kind])
                assert parse_quantity(res["limits"][kind]) <= parse_quantity(limit["max"][kind])
            ctx = c["securityContext"]
            assert ctx["allowPrivilegeEscalation"] is False
            assert ctx["capabilities"] == {"drop": ["ALL"]}
            assert ctx["runAsNonRoot"] is True
            if obj["kind"] != "Job":  # run-to-completion pods have nothing to probe
                assert "readinessProbe" in c and "livenessProbe" in c, c["name"]


@pytest.mark.parametrize("lesson", range(1, 9))
def test_sum_of_requests_at_peak_fits_the_quota(lesson: int) -> None:
    objects = rendered(lesson)
    max_replicas = spec_for(lesson).profile.max_replicas
    autoscaled = {o["spec"]["scaleTargetRef"]["name"] for o in objects
                  if o["kind"] == "HorizontalPodAutoscaler"}
    hard = {k: parse_quantity(v) for k, v in find(objects, "ResourceQuota")["spec"]["hard"]
            .items()}
    total = {"requests.cpu": Decimal(0), "requests.memory": Decimal(0),
             "limits.cpu": Decimal(0), "limits.memory": Decimal(0), "pods": Decimal(0)}
    for obj in (o for o in objects if o["kind"] in WORKLOADS):
        if obj["metadata"]["name"] in autoscaled:
            obj = {**obj, "_hpa": True}
        pods = peak_pods(obj, max_replicas)
        total["pods"] += pods
        for c in containers(obj):
            for part in ("requests", "limits"):
                for kind in ("cpu", "memory"):
                    total[f"{part}.{kind}"] += pods * parse_quantity(c["resources"][part][kind])
    for key, amount in total.items():
        assert amount <= hard[key], f"lesson {lesson}: {key} {amount} > {hard[key]}"
