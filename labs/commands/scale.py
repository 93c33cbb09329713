"""`invoke lab scale --component api|worker --replicas N`: what it checks, does and prints."""

from __future__ import annotations

from rich.console import Console

from infra.learner_cluster import LearnerClusterError, connect
from infra.scaling import ScaleError, ScaleRequest, scale, validate
from labs.catalog import CatalogError
from labs.names import default_learner, namespace_for
from labs.spec import DEFAULT_COHORT, LabSpec, SpecError, build_spec

console = Console(stderr=True)


def _spec(lesson: int | str, learner: str, cohort: str) -> LabSpec:
    return build_spec({"lesson": lesson, "learner": learner, "cohort": cohort})


def run(*, lesson: int | str | None, learner: str | None, cohort: str | None, context: str | None,
        component: str | None, replicas: str | int | None) -> int:
    """Exit code: 0 scaled, 2 bad arguments or nothing to scale (the message says which)."""
    learner = learner or default_learner()
    cohort = cohort or DEFAULT_COHORT
    try:
        # With --lesson, bad arguments are refused before any cluster is touched; without it,
        # the lesson is the one the namespace was built for (its lesson label).
        request: ScaleRequest | None = None
        if lesson is not None:
            request = validate(_spec(lesson, learner, cohort), component, replicas)
        lab = connect(namespace_for(cohort, learner), context)
        if request is None:
            if lab.lesson is None:
                raise ScaleError(f"namespace {lab.namespace} has no lesson label: pass --lesson")
            request = validate(_spec(lab.lesson, learner, cohort), component, replicas)
        console.print(f"cluster: {lab.reason}")
        outcome = scale(lab.api, request)
    except (ScaleError, SpecError, CatalogError, LearnerClusterError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    before = outcome.before
    console.print(f"[green]scaled[/] {request.namespace}/{request.deployment}: "
                  f"{before.desired} -> {request.replicas} replicas "
                  f"({before.ready} ready before)")
    if outcome.hpa:
        console.print(f"HPA {outcome.hpa} owns this count: its range was "
                      f"{before.hpa_min}..{before.hpa_max}, now {outcome.hpa_min}.."
                      f"{outcome.hpa_max}, so it keeps at least {request.replicas} and may add "
                      "more under load; `invoke lab reset` restores the lesson's range")
    console.print(f"watch it: invoke lab status --lesson {lab.lesson or lesson} "
                  f"--learner {learner}")
    return 0
