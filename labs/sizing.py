"""What one learner's environment asks of the cluster, from its lesson and sizing profile.

Used when the catalog loads (a lesson must fit its own quota) and when an instructor plans a
cohort (how many learners fit the cluster). Worst case counts: autoscaled workloads at their
maximum, one extra API pod during a rolling update, and the migration Job's pod.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from kubernetes.utils import parse_quantity

if TYPE_CHECKING:
    from labs.catalog import Lesson, Profile

from labs.catalog import PROFILE_ENTRY_FOR_RUNNER


@dataclass(frozen=True)
class Footprint:
    """Peak totals for one learner namespace (CPU in cores, memory and storage in bytes)."""

    requests_cpu: Decimal
    requests_memory: Decimal
    limits_cpu: Decimal
    limits_memory: Decimal
    pods: int
    volume_claims: int
    storage: Decimal

    def as_quota(self) -> dict[str, Decimal]:
        return {
            "requests.cpu": self.requests_cpu,
            "requests.memory": self.requests_memory,
            "limits.cpu": self.limits_cpu,
            "limits.memory": self.limits_memory,
            "pods": Decimal(self.pods),
            "persistentvolumeclaims": Decimal(self.volume_claims),
            "requests.storage": self.storage,
        }


def profile_entry(component: str, ci_runner: str) -> str:
    """The profile entry that sizes a component (the CI runner depends on its kind)."""
    return PROFILE_ENTRY_FOR_RUNNER[ci_runner] if component == "ci_runner" else component


def pod_counts(lesson: Lesson, profile: Profile) -> dict[str, int]:
    """Peak pods per component: replicas, autoscaling maximum, surge and migration Job."""
    counts: dict[str, int] = {}
    for comp in lesson.components:
        if comp == "api":
            peak = profile.max_replicas if lesson.api.autoscale else lesson.api.replicas
            counts[comp] = peak + 1 + 1  # one surge pod, one migration Job pod
        elif comp == "worker":
            counts[comp] = profile.max_replicas if lesson.worker.autoscale else \
                lesson.worker.replicas
        else:
            counts[comp] = 1
    return counts


def footprint(lesson: Lesson, profile: Profile, ci_runner: str | None = None) -> Footprint:
    runner = ci_runner or lesson.ci_runner
    totals = dict.fromkeys(("rc", "rm", "lc", "lm", "st"), Decimal(0))
    pods = claims = 0
    for comp, count in pod_counts(lesson, profile).items():
        if comp == "ci_runner" and runner == "none":  # lesson 5 offline: no runner image
            continue
        size = profile.components[profile_entry(comp, runner)]
        res = size.resources
        totals["rc"] += count * parse_quantity(res.cpu_request)
        totals["rm"] += count * parse_quantity(res.memory_request)
        totals["lc"] += count * parse_quantity(res.cpu_limit)
        totals["lm"] += count * parse_quantity(res.memory_limit)
        pods += count
        if size.storage:
            claims += 1
            totals["st"] += parse_quantity(size.storage)
    return Footprint(totals["rc"], totals["rm"], totals["lc"], totals["lm"], pods, claims,
                     totals["st"])


def quota_problems(lesson: Lesson, profile: Profile) -> list[str]:
    """Each quota line the lesson's peak footprint exceeds, for every CI runner kind."""
    runners = [lesson.ci_runner] if "ci_runner" not in lesson.components else \
        list(PROFILE_ENTRY_FOR_RUNNER)
    problems = []
    for runner in runners:
        need = footprint(lesson, profile, runner).as_quota()
        for key, amount in need.items():
            allowed = parse_quantity(profile.quota[key])
            if amount > allowed:
                problems.append(f"{profile.name} quota {key}={profile.quota[key]} is less than "
                                f"the lesson needs at peak ({_fmt(key, amount)}, "
                                f"CI runner {runner})")
    return problems


def _fmt(key: str, amount: Decimal) -> str:
    if "memory" in key or "storage" in key:
        return f"{amount / (1024 ** 2):.0f}Mi"
    return f"{amount.normalize()}"
