"""`invoke loadtest` inside the learner's namespace: apply the Locust Job, wait, read results back.

The objects come from infra/components/loadgen.py. The Job's container prints its CSV files at
the end of its log (`=== /tmp/locust/<file>.csv` and the file), so no volume or copy step is
needed: the log is split back into reports/<learner>/<timestamp>/ and the same report as a
local run is written (labs.loadtest.results.write_report). Every object of the run carries the
label `labs.prodev.dev/loadtest=<run id>` and is deleted when the run ends, however it ends.

On the simulated cluster (kwok nodes) the Job is accepted and its pod scheduled, but no
container runs and there is no log: that is reported as soon as the pod lands on a kwok node.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from infra.components.loadgen import (
    CSV_DIR,
    SEED_CONTAINER,
    LoadTest,
    Seed,
    loadgen_manifests,
    selector_for,
)
from infra.learner_cluster import is_simulated_node
from infra.replicas import replica_counts
from labs.loadtest.localapp import SeedSize
from labs.loadtest.replicas import DEFAULT_INTERVAL_S, ReplicaSampler
from labs.loadtest.results import LoadTestError, RunResult, RunSettings, write_report
from labs.loadtest.summary import Slo
from labs.spec import LabSpec

API_DEPLOYMENT = "api"
API_SERVICE = "api"
# Time for image pulls and scheduling on top of the run time; the Job's own deadline
# (activeDeadlineSeconds = run time + 300 s) fires first, so its reason is what we report.
STARTUP_ALLOWANCE_S = 330
# One header line per file, as the Job's shell loop prints it (`echo "=== $f"; cat "$f"`).
SECTION = re.compile(rf"^=== {re.escape(CSV_DIR)}/([A-Za-z0-9_.-]+\.csv)\n", re.MULTILINE)


class SimulatedClusterError(LoadTestError):
    """The Job was accepted and scheduled on a kwok node: nothing will run, there is no log."""

    def __init__(self, namespace: str, job: str, pod: str, node: str) -> None:
        self.namespace, self.job, self.pod, self.node = namespace, job, pod, node
        super().__init__(
            f"the load test Job {job} was accepted and its pod {pod} scheduled on node {node}, "
            f"but {node} is a simulated (kwok) node: the simulated cluster runs no containers, "
            "so Locust produces no numbers there. For numbers, port-forward the API and run "
            f"from this machine: kubectl -n {namespace} port-forward svc/api 8000:80 & "
            "invoke loadtest --target http://127.0.0.1:8000")


# --- the Job's log <-> CSV files ---------------------------------------------------------
def split_sections(log: str) -> dict[str, str]:
    """The CSV files at the end of a loadgen Job's log: file name -> its exact content."""
    found = list(SECTION.finditer(log))
    return {m.group(1): log[m.end():found[i + 1].start() if i + 1 < len(found) else len(log)]
            for i, m in enumerate(found)}


def join_sections(files: Mapping[str, str]) -> str:
    """What the Job's shell loop prints for these files (the inverse of split_sections)."""
    return "".join(f"=== {CSV_DIR}/{name}\n{content}" for name, content in files.items())


def write_sections(sections: Mapping[str, str], out: Path) -> list[Path]:
    paths = []
    for name, content in sections.items():
        path = out / Path(name).name  # names are plain file names (SECTION), never paths
        path.write_text(content, newline="")  # Locust writes \r\n rows: keep them as they are
        paths.append(path)
    return paths


# --- objects of one run ------------------------------------------------------------------
SEED_SIZE = SeedSize()  # what the local runs seed too: 50 accounts Locust logs in as


def seed_from_cluster(api: client.ApiClient, namespace: str,
                      size: SeedSize = SEED_SIZE) -> Seed | None:
    """Seeding with the API Deployment's own container (the learner's image and settings);
    None when the namespace has no such Deployment (e.g. renamed for blue/green)."""
    try:
        deployment = client.AppsV1Api(api).read_namespaced_deployment(API_DEPLOYMENT, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    pod = api.sanitize_for_serialization(deployment.spec.template.spec)
    containers = pod["containers"]
    container = next((c for c in containers if c["name"] == API_DEPLOYMENT), containers[0])
    return Seed(container=container, args=tuple(size.args()), users=size.users)


def results_job(load: LoadTest) -> str:
    """The Job whose log holds the CSV files: the standalone Job, or the master."""
    return load.name if load.workers == 0 else f"{load.name}-master"


def apply_run(api: client.ApiClient, objects: list[dict[str, Any]]) -> None:
    """Create the run's objects in order (they are new: each run has its own id)."""
    core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
    create = {"ConfigMap": core.create_namespaced_config_map,
              "Service": core.create_namespaced_service,
              "Job": batch.create_namespaced_job}
    for obj in objects:
        meta = obj["metadata"]
        try:
            create[obj["kind"]](meta["namespace"], obj)
        except ApiException as exc:
            raise LoadTestError(f"the cluster refused {obj['kind']} {meta['name']}: "
                                f"{exc.status} {_api_message(exc)}") from None


def leftovers(api: client.ApiClient, namespace: str, run_id: str) -> list[str]:
    """'Kind/name' of every object of the run still present (expected after cleanup: none)."""
    core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
    sel = selector_for(run_id)
    found = []
    for kind, lister in (("Job", batch.list_namespaced_job),
                         ("Pod", core.list_namespaced_pod),
                         ("Service", core.list_namespaced_service),
                         ("ConfigMap", core.list_namespaced_config_map)):
        found += [f"{kind}/{o.metadata.name}" for o in lister(namespace, label_selector=sel).items]
    return found


def delete_run(api: client.ApiClient, namespace: str, run_id: str, *,
               wait_s: float = 60) -> list[str]:
    """Delete every object of the run and wait until they are gone; what is left, if anything."""
    core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
    sel = selector_for(run_id)
    deleters = ((batch.list_namespaced_job, batch.delete_namespaced_job),
                (core.list_namespaced_service, core.delete_namespaced_service),
                (core.list_namespaced_config_map, core.delete_namespaced_config_map))
    for lister, delete in deleters:
        for obj in lister(namespace, label_selector=sel).items:
            try:
                delete(obj.metadata.name, namespace, propagation_policy="Background")
            except ApiException as exc:
                if exc.status != 404:
                    raise
    # The Job's pods would go with it (garbage collection); deleting them too does not wait
    # for the collector. The run is over, so a short grace period is enough.
    core.delete_collection_namespaced_pod(namespace, label_selector=sel, grace_period_seconds=5)
    deadline = time.monotonic() + wait_s
    while (left := leftovers(api, namespace, run_id)) and time.monotonic() < deadline:
        time.sleep(1)
    return left


# --- waiting ------------------------------------------------------------------------------
@dataclass(frozen=True)
class JobProgress:
    job: str
    phase: str  # the results pod's phase, or "waiting for a pod"
    node: str | None
    running_s: float  # seconds since its pod was first seen Running
    duration_s: int


def job_state(job: Any) -> tuple[str, str]:
    """('complete' | 'failed' | 'running', why) from the Job's conditions."""
    for cond in (job.status.conditions or []) if job.status else []:
        if cond.status == "True" and cond.type in {"Complete", "SuccessCriteriaMet"}:
            return "complete", ""
        if cond.status == "True" and cond.type in {"Failed", "FailureTarget"}:
            return "failed", f"{cond.reason}: {cond.message}"
    return "running", ""


def _api_message(exc: ApiException) -> str:
    try:
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    except ValueError:
        return str(exc.reason)


def _pods(api: client.ApiClient, namespace: str, job: str) -> list[Any]:
    pods = client.CoreV1Api(api).list_namespaced_pod(
        namespace, label_selector=f"batch.kubernetes.io/job-name={job}").items
    return sorted(pods, key=lambda p: p.metadata.creation_timestamp)


def why_pending(api: client.ApiClient, namespace: str, job: str, pod: Any | None) -> str:
    """The scheduler's or the Job controller's last word (quota, no node fits, image pull)."""
    if pod is not None:
        for cond in pod.status.conditions or []:
            if cond.type == "PodScheduled" and cond.status != "True" and cond.message:
                return cond.message
        for cs in [*(pod.status.init_container_statuses or []),
                   *(pod.status.container_statuses or [])]:
            if cs.state and cs.state.waiting and cs.state.waiting.message:
                return f"{cs.state.waiting.reason}: {cs.state.waiting.message}"
    events = client.CoreV1Api(api).list_namespaced_event(
        namespace, field_selector=f"involvedObject.name={job},type=Warning").items
    return events[-1].message if events else "no pod was created and no event says why"


def wait_for_job(api: client.ApiClient, namespace: str, load: LoadTest, *, timeout_s: float,
                 on_progress: Callable[[JobProgress], None] = lambda _: None,
                 poll_s: float = 2.0) -> str:
    """Wait for the results Job to complete; the name of the pod whose log holds the CSV files.

    Raises SimulatedClusterError as soon as that pod is scheduled on a kwok node, and
    LoadTestError when the Job fails or the time is up.
    """
    batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
    name = results_job(load)
    deadline = time.monotonic() + timeout_s
    running_since: float | None = None
    checked_nodes: set[str] = set()
    while True:
        job = batch.read_namespaced_job(name, namespace)
        state, why = job_state(job)
        pods = _pods(api, namespace, name)
        pod = pods[-1] if pods else None
        node = pod.spec.node_name if pod is not None else None
        if node and node not in checked_nodes:
            if is_simulated_node(core.read_node(node)):
                raise SimulatedClusterError(namespace, name, pod.metadata.name, node)
            checked_nodes.add(node)
        phase = pod_phase(pod)
        if phase == "Running" and running_since is None:
            running_since = time.monotonic()
        on_progress(JobProgress(name, phase, node, time.monotonic() - running_since
                                if running_since is not None else 0.0, load.duration_s))
        if state == "complete" and pod is not None:
            return pod.metadata.name
        if state == "failed":
            tail = failure_log(api, namespace, pod)[-2000:] if pod else ""
            raise LoadTestError(f"Job {name} failed ({why})" + (f"; its log ends:\n{tail}"
                                                                 if tail else ""))
        if time.monotonic() > deadline:
            raise LoadTestError(f"Job {name} did not finish within {timeout_s:.0f} s (pod "
                                f"{phase}): {why_pending(api, namespace, name, pod)}")
        time.sleep(poll_s)


def pod_phase(pod: Any | None) -> str:
    """The pod's phase, or what it is doing before Locust starts (seeding the database)."""
    if pod is None or not pod.status:
        return "waiting for a pod"
    for cs in pod.status.init_container_statuses or []:
        if cs.name == SEED_CONTAINER and cs.state and cs.state.running:
            return "seeding the database"
    return pod.status.phase


def failure_log(api: client.ApiClient, namespace: str, pod: Any) -> str:
    """Locust's log, or the seeding container's when Locust never ran (seeding failed)."""
    return (read_log(api, namespace, pod.metadata.name)
            or read_log(api, namespace, pod.metadata.name, container=SEED_CONTAINER))


def read_log(api: client.ApiClient, namespace: str, pod: str, container: str = "locust") -> str:
    """The pod's whole log, byte for byte (no JSON guessing by the client: raw response)."""
    try:
        raw = client.CoreV1Api(api).read_namespaced_pod_log(
            pod, namespace, container=container, _preload_content=False)
    except ApiException as exc:
        if exc.status in {400, 404}:
            return ""
        raise
    return raw.data.decode("utf-8", errors="replace")


# --- one run, start to finish --------------------------------------------------------------
def run_in_cluster(api: client.ApiClient, spec: LabSpec, load: LoadTest,
                   out_dir: Callable[[], Path], *, slo: Slo | None = None,
                   timeout_s: float | None = None,
                   on_progress: Callable[[JobProgress], None] = lambda _: None,
                   notify: Callable[[str], None] = lambda _: None,
                   sample_interval_s: float = DEFAULT_INTERVAL_S,
                   seed: bool = True) -> RunResult:
    """Apply the run's objects, wait, write the report into out_dir(), delete the objects.

    With `seed`, the database gets the accounts Locust logs in as first, when they are missing
    (infra.components.loadgen.Seed). `out_dir` is called only once results exist, so a failed
    run leaves no empty report dir.
    """
    ns = spec.namespace
    try:
        client.CoreV1Api(api).read_namespaced_service(API_SERVICE, ns)
    except ApiException as exc:
        if exc.status == 404:
            raise LoadTestError(f"namespace {ns} has no `{API_SERVICE}` Service to load: lesson "
                                f"{spec.lesson.number} deploys no API") from None
        raise
    if seed and load.seed is None:
        load = replace(load, seed=seed_from_cluster(api, ns))
        if load.seed is None:
            notify(f"no `{API_DEPLOYMENT}` Deployment in {ns} to seed the database with: "
                   "Locust logs in as the accounts of `manage.py seed`, seed them yourself")
    sampler = ReplicaSampler(lambda: replica_counts(api, ns, API_DEPLOYMENT),
                             deployment=API_DEPLOYMENT, interval_s=sample_interval_s)
    try:
        apply_run(api, loadgen_manifests(spec, load))
        shape = "one Job" if load.workers == 0 else f"a master and {load.workers} workers"
        seeding = (f", seeding {load.seed.users} accounts first if missing"
                   if load.seed else "")
        notify(f"applied {load.name} in {ns} ({shape}{seeding}); waiting for it to finish")
        sampler.start()
        pod = wait_for_job(api, ns, load, on_progress=on_progress,
                           timeout_s=timeout_s or load.duration_s + STARTUP_ALLOWANCE_S)
        replicas = sampler.stop()
        log = read_log(api, ns, pod)
        sections = split_sections(log)
        if not sections:
            raise LoadTestError(f"the log of pod {pod} holds no CSV files: Locust wrote no "
                                f"results (the log ends: {log[-1500:]!r})")
        out = out_dir()
        (out / "locust.out").write_text(log)
        write_sections(sections, out)
        return write_report(
            out, RunSettings(load.target, load.scenario, load.users, load.spawn_rate,
                             load.duration_s),
            slo=slo, replicas=replicas, title=f"Load test: {load.scenario} ({ns}, in-cluster)",
            extra_details={"ran as": f"Job {results_job(load)} in {ns}" + (
                f" with {load.workers} workers" if load.workers else "")})
    finally:
        sampler.stop()
        try:
            left = delete_run(api, ns, load.run_id)
            notify(f"left behind: {', '.join(left)}" if left else f"deleted {load.name}")
        except Exception as exc:  # never hide the run's own outcome behind a cleanup error
            notify(f"cleanup of {load.name} failed ({exc}): kubectl -n {ns} delete "
                   f"jobs,pods,services,configmaps -l {selector_for(load.run_id)}")
