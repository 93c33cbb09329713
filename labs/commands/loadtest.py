"""`invoke loadtest`: Locust against the learner's API, with report, charts and SLO verdict.

Without --target the run is a Job inside the learner's namespace (labs/loadtest/incluster.py);
with --target, Locust runs on this machine (labs/loadtest/runner.py). Either way the API's
replica count is sampled while the test runs, when the learner's namespace can be reached.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import urllib3
from kubernetes.client.rest import ApiException
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from infra.components.loadgen import IMAGE, LoadTest
from infra.images.offline import ImageBuildError
from infra.learner_cluster import LearnerCluster, LearnerClusterError, connect
from infra.replicas import replica_counts
from labs.catalog import CatalogError
from labs.loadtest.incluster import (
    API_DEPLOYMENT,
    JobProgress,
    SimulatedClusterError,
    run_in_cluster,
)
from labs.loadtest.replicas import ReplicaHistory, ReplicaSampler
from labs.loadtest.results import RunResult
from labs.loadtest.runner import LoadTestError, report_dir, run_local, validate_load
from labs.loadtest.summary import slo_for_lesson, slo_table, summary_table
from labs.names import default_learner, namespace_for
from labs.spec import DEFAULT_COHORT, SpecError, build_spec

console = Console(stderr=True)
SLO_LESSON = 8  # the load-testing lesson: its SLO applies when no lesson is known


def seconds(text: str) -> int:
    """'90', '90s', '2m', '1h' -> seconds."""
    match = re.fullmatch(r"(\d+)([smh]?)", text.strip())
    if not match:
        raise ValueError(f"--duration {text!r}: use a number of seconds, or 30s, 2m, 1h")
    return int(match.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600}[match.group(2)]


def run(*, target: str | None, learner: str | None, lesson: int | None, users: int,
        spawn_rate: float, duration: str, scenario: str, workers: int = 0,
        cohort: str | None = None, context: str | None = None) -> int:
    """Exit code: 0 SLO held (or none), 1 SLO missed, 2 the test could not run."""
    learner = learner or default_learner()
    namespace = namespace_for(cohort or DEFAULT_COHORT, learner)
    try:
        duration_s = seconds(duration)
        validate_load(users, spawn_rate, duration_s, scenario)
        if target and workers:
            raise ValueError("--workers is for in-cluster runs; leave out --target to use it")
        if target:
            result = _local(target, learner, namespace, lesson, users, spawn_rate, duration_s,
                            scenario, context)
        else:
            result = _in_cluster(learner, cohort or DEFAULT_COHORT, namespace, lesson, users,
                                 spawn_rate, duration_s, scenario, workers, context)
    except SimulatedClusterError as exc:
        console.print(f"[yellow]simulated cluster:[/] {exc}")
        return 2
    except (LoadTestError, LearnerClusterError, ValueError, SpecError, CatalogError,
            ImageBuildError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 2
    except (ApiException, urllib3.exceptions.HTTPError) as exc:
        console.print(f"[red]error:[/] the cluster failed the request: {exc}")
        return 2
    console.print(summary_table(result.summary))
    if result.slo is not None:
        console.print(slo_table(result.slo))
    if result.replicas is not None:
        console.print(f"replicas: {result.replicas.describe()}")
    console.print(f"report: {result.html}")
    return 0 if result.slo is None or result.slo.passed else 1


def loadgen_image(lab: LearnerCluster, registry: str, say: Callable[[str], None]) -> str:
    """Locust's image for the Job: on a kind cluster of offline images the upstream one
    cannot be pulled (no registry is reachable), so the stand-in is built here and pushed
    to the cluster's registry like the lab's other images; elsewhere the upstream image."""
    from infra.images.for_lab import image_mode
    from infra.images.offline import offline_images

    if image_mode(lab.target) != "offline":
        return IMAGE
    return offline_images(["loadgen"], registry, say)["loadgen"]


def _sampler(lab: LearnerCluster) -> ReplicaSampler:
    return ReplicaSampler(lambda: replica_counts(lab.api, lab.namespace, API_DEPLOYMENT),
                          deployment=API_DEPLOYMENT)


def _local(target: str, learner: str, namespace: str, lesson: int | None, users: int,
           spawn_rate: float, duration_s: int, scenario: str,
           context: str | None) -> RunResult:
    try:
        lab = connect(namespace, context)
        replicas: ReplicaSampler | ReplicaHistory = _sampler(lab)
        lesson = lesson or lab.lesson
    except LearnerClusterError as exc:
        replicas = ReplicaHistory(API_DEPLOYMENT, note=f"no cluster reachable ({exc})")
    out = report_dir(learner)
    with console.status(f"{users} users against {target} for {duration_s} s ..."):
        return run_local(target, users, spawn_rate, duration_s, scenario, out,
                         slo=slo_for_lesson(lesson or SLO_LESSON), replicas=replicas)


def _in_cluster(learner: str, cohort: str, namespace: str, lesson: int | None, users: int,
                spawn_rate: float, duration_s: int, scenario: str, workers: int,
                context: str | None) -> RunResult:
    lab = connect(namespace, context)
    console.print(f"cluster: {lab.reason}")
    lesson = lesson or lab.lesson or SLO_LESSON
    spec = build_spec({"lesson": lesson, "learner": learner, "cohort": cohort})
    load = LoadTest(users=users, spawn_rate=spawn_rate, duration_s=duration_s,
                    scenario=scenario, workers=workers,
                    image=loadgen_image(lab, spec.registry,
                                        lambda m: console.print(f"[dim]{m}[/]")))
    columns = (TextColumn("{task.description}"), BarColumn(),
               TextColumn("{task.completed:.0f}/{task.total:.0f} s"), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        task = progress.add_task(f"{load.name}: applying", total=duration_s)

        def show(p: JobProgress) -> None:
            where = f" on {p.node}" if p.node else ""
            progress.update(task, description=f"{p.job}: {p.phase}{where}",
                            completed=min(p.running_s, p.duration_s))

        return run_in_cluster(lab.api, spec, load, lambda: report_dir(learner),
                              slo=slo_for_lesson(lesson), on_progress=show,
                              notify=progress.console.log)
