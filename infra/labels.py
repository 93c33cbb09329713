"""The labels and names every object carries (DESIGN.md conventions).

Teardown and status select by these labels, so they are built in one place only.
"""

from __future__ import annotations

from labs.spec import LabSpec

PART_OF = "prodev-labs"
MANAGED_BY = "pulumi"
DOMAIN = "labs.prodev.dev"
COHORT = f"{DOMAIN}/cohort"
LEARNER = f"{DOMAIN}/learner"
LESSON = f"{DOMAIN}/lesson"
EGRESS = f"{DOMAIN}/egress"  # "internet" on pods allowed to leave the cluster
NAME = "app.kubernetes.io/name"
COMPONENT = "app.kubernetes.io/component"


def learner_labels(spec: LabSpec) -> dict[str, str]:
    """Labels that identify a learner's objects (what teardown and status select by)."""
    return {
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        COHORT: spec.cohort,
        LEARNER: spec.learner,
        LESSON: str(spec.lesson.number),
    }


def object_labels(spec: LabSpec, name: str, component: str) -> dict[str, str]:
    return {NAME: name, COMPONENT: component, **learner_labels(spec)}


def selector(name: str) -> dict[str, str]:
    """Pod selector of a workload: stable across lessons so updates never orphan pods."""
    return {NAME: name}


def cohort_selector(cohort: str, learner: str | None = None) -> str:
    """A label selector string for kubectl/the API: a whole cohort or one learner."""
    parts = [f"app.kubernetes.io/part-of={PART_OF}", f"{COHORT}={cohort}"]
    if learner:
        parts.append(f"{LEARNER}={learner}")
    return ",".join(parts)


# The lab owns its objects: a re-run takes back fields another field manager holds, which is
# also how an update interrupted before Pulumi recorded an object adopts it (server-side apply
# conflicts otherwise, since each run's field manager has a new name).
OWNED = {"pulumi.com/patchForce": "true"}
