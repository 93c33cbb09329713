"""Benchmark: how many lesson-4 learners one kind host holds Ready at once (not a test).

Adds learners to a kind cluster of offline images in batches, each with the real
`invoke cohort up` (Pulumi engine, images from the cluster's registry), until the target is
reached or a batch does not come up Ready. After each batch, and once the pods have settled,
it reads what the learners really use (metrics-server) and what they request (the
scheduler's view), and prints a table. The baseline is the capacity the capacity planner
(labs/capacity.py) computes, on the same node in the same run, for the requests lesson 4 had
before they were sized from measurement (1.1 CPU per learner at peak): labelled "planned",
since a learner of that size cannot even be scheduled twice here.

    python -m bench.kind_capacity --learners 20 --step 5   (a cluster `bench-capacity`)

Writes bench/results/kind-capacity.json and kind-capacity.png.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import yaml
from kubernetes import client
from kubernetes.utils import parse_quantity
from rich.console import Console
from rich.table import Table

from infra.cluster import kind
from infra.kubeconfig import admin_client
from infra.labels import COHORT as COHORT_LABEL
from infra.labels import COMPONENT
from labs.capacity import plan_capacity
from labs.catalog import default_catalog
from labs.sizing import footprint

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
COHORT = "cap"
console = Console()

# Lesson 4's `standard` requests before sizing from measurement (profiles.yaml at d9e3f73).
BEFORE = {"postgres": ("200m", "384Mi"), "rabbitmq": ("200m", "384Mi"),
          "api": ("200m", "256Mi"), "worker": ("100m", "256Mi")}


@dataclass
class Step:
    learners: int  # learners asked for so far
    ready: int  # learners whose every workload is Ready
    up_seconds: float  # wall time of this batch's `cohort up`
    requested_cpu_m: float  # every pod's CPU requests on the node (system included)
    allocatable_cpu_m: float
    node_cpu_m: float  # metrics-server: the node's real use, pods settled
    node_memory_mib: float
    per_component: dict[str, dict[str, float]] = field(default_factory=dict)  # mean use


def _invoke(*args: str) -> tuple[int, float, str]:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "invoke", *args], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    return done.returncode, time.monotonic() - started, done.stdout + done.stderr


def _roster(path: Path, count: int) -> None:
    path.write_text(yaml.safe_dump({"cohort": COHORT, "lesson": 4, "learners": [
        {"id": f"l{i:03d}", "name": f"Learner {i}", "email": f"l{i:03d}@example.com"}
        for i in range(1, count + 1)]}))


def _ready_learners(api: client.ApiClient) -> int:
    from infra.status import workload_status

    by_ns: dict[str, bool] = defaultdict(lambda: True)
    for row in workload_status(api, COHORT):
        by_ns[row.namespace] &= row.is_ready
    return sum(by_ns.values())


def _cpu_m(q: str) -> float:
    return float(parse_quantity(q)) * 1000


def _node_figures(api: client.ApiClient) -> tuple[float, float, float, float]:
    core = client.CoreV1Api(api)
    node = core.list_node().items[0]
    requested = 0.0
    for pod in core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName="
                                                f"{node.metadata.name}").items:
        if pod.status.phase in {"Succeeded", "Failed"}:
            continue
        for c in pod.spec.containers:
            requested += _cpu_m(((c.resources and c.resources.requests) or {}).get("cpu", "0"))
    usage = client.CustomObjectsApi(api).get_cluster_custom_object(
        "metrics.k8s.io", "v1beta1", "nodes", node.metadata.name)["usage"]
    return (requested, _cpu_m(node.status.allocatable["cpu"]), _cpu_m(usage["cpu"]),
            float(parse_quantity(usage["memory"])) / 2**20)


def _per_component(api: client.ApiClient) -> dict[str, dict[str, float]]:
    """Mean CPU (m) and memory (MiB) per pod of each component, over the cohort's pods."""
    items = client.CustomObjectsApi(api).list_cluster_custom_object(
        "metrics.k8s.io", "v1beta1", "pods", label_selector=f"{COHORT_LABEL}={COHORT}")
    core = client.CoreV1Api(api)
    sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for item in items["items"]:
        meta = item["metadata"]
        pod = core.read_namespaced_pod(meta["name"], meta["namespace"])
        comp = (pod.metadata.labels or {}).get(COMPONENT, "?")
        for c in item["containers"]:
            sums[comp][0] += _cpu_m(c["usage"]["cpu"])
            sums[comp][1] += float(parse_quantity(c["usage"]["memory"])) / 2**20
        sums[comp][2] += 1
    return {k: {"cpu_m": round(v[0] / v[2], 1), "memory_mib": round(v[1] / v[2], 1),
                "pods": int(v[2])} for k, v in sorted(sums.items())}


def planned_before(api: client.ApiClient) -> tuple[int | None, int | None]:
    """(learners planned with the old requests, with today's) on this node."""
    catalog = default_catalog()
    lesson = catalog.lessons[4]
    profile = catalog.profile(lesson.profile)
    node = api.sanitize_for_serialization(client.CoreV1Api(api).list_node().items[0])
    old = {comp: replace(size, resources=replace(size.resources, cpu_request=BEFORE[comp][0],
                                                  memory_request=BEFORE[comp][1]))
           if comp in BEFORE else size for comp, size in profile.components.items()}
    before = footprint(lesson, replace(profile, components=old))
    now = footprint(lesson, profile)
    system = _system_requests(api)
    node["status"]["allocatable"]["cpu"] = \
        f"{_cpu_m(node['status']['allocatable']['cpu']) - system:.0f}m"
    return (plan_capacity([before] * 64, [node]).fit_count,
            plan_capacity([now] * 64, [node]).fit_count)


def _system_requests(api: client.ApiClient) -> float:
    total = 0.0
    for pod in client.CoreV1Api(api).list_pod_for_all_namespaces().items:
        if (pod.metadata.labels or {}).get(COHORT_LABEL):
            continue
        for c in pod.spec.containers:
            total += _cpu_m(((c.resources and c.resources.requests) or {}).get("cpu", "0"))
    return total


def run(cluster: str, learners: int, step: int, settle: float) -> dict:
    console.print(f"kind cluster {cluster}: creating if missing (offline images)")
    # No host ports: the local cluster may hold 127.0.0.1:80 already; nothing here needs them.
    kubeconfig = kind.up(cluster, images="offline", host_ports=False,
                         progress=lambda m: console.print(f"  {m}"))
    api = admin_client(kubeconfig)
    planned_old, planned_now = planned_before(api)
    steps: list[Step] = []
    with tempfile.TemporaryDirectory() as tmp:
        roster = Path(tmp) / "roster.yaml"
        sizes = [1, *range(step, learners + 1, step)]
        if sizes[-1] != learners:
            sizes.append(learners)
        for size in sorted(set(sizes)):
            _roster(roster, size)
            rc, seconds, out = _invoke("cohort", "up", "--roster", str(roster),
                                       "--context", f"kind-{cluster}")
            time.sleep(settle)  # let start-up CPU (migrations, imports) pass before measuring
            ready = _ready_learners(api)
            requested, allocatable, node_cpu, node_mem = _node_figures(api)
            s = Step(size, ready, round(seconds, 1), requested, allocatable, node_cpu, node_mem,
                     _per_component(api))
            steps.append(s)
            console.print(f"{size} learners asked, {ready} Ready; cohort up {seconds:.0f} s; "
                          f"node CPU requested {requested:.0f}m of {allocatable:.0f}m, used "
                          f"{node_cpu:.0f}m; memory used {node_mem:.0f} MiB")
            if rc != 0 or ready < size:
                console.print(out[-1500:], markup=False, highlight=False)
                break
    return {"cluster": cluster, "lesson": 4, "planned_before": planned_old,
            "planned_now": planned_now, "steps": [asdict(s) for s in steps],
            "held_ready": max((s.ready for s in steps if s.ready == s.learners), default=0)}


def report(result: dict) -> None:
    table = Table(title="Lesson-4 learners on one kind host (2 cores)", title_justify="left")
    for col in ("learners", "Ready", "cohort up s", "CPU requested", "CPU used",
                "memory used"):
        table.add_column(col, justify="right")
    for s in result["steps"]:
        table.add_row(str(s["learners"]), str(s["ready"]), f"{s['up_seconds']:.0f}",
                      f"{s['requested_cpu_m']:.0f}m / {s['allocatable_cpu_m']:.0f}m",
                      f"{s['node_cpu_m']:.0f}m", f"{s['node_memory_mib'] / 1024:.1f} GiB")
    console.print(table)
    last = result["steps"][-1]
    comp = Table(title=f"Mean use per pod at {last['learners']} learners (idle, settled)",
                 title_justify="left")
    for col in ("component", "pods", "CPU", "memory"):
        comp.add_column(col, justify="right")
    for name, v in last["per_component"].items():
        comp.add_row(name, str(v["pods"]), f"{v['cpu_m']}m", f"{v['memory_mib']} MiB")
    console.print(comp)
    held, before = result["held_ready"], result["planned_before"] or 0
    console.print(f"held Ready at once: {held} learners (planned with today's requests: "
                  f"{result['planned_now']}); with the requests before sizing: {before} "
                  f"(planned) -> {held / max(before, 1):.0f}x")


def chart(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = result["steps"]
    xs = [s["ready"] for s in steps]
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(xs, [s["requested_cpu_m"] for s in steps], "o-", label="CPU requested (m)")
    ax.plot(xs, [s["node_cpu_m"] for s in steps], "s-", label="CPU used, idle (m)")
    ax.axhline(steps[-1]["allocatable_cpu_m"], color="grey", ls="--", label="allocatable")
    ax.set_xlabel("lesson-4 learners Ready")
    ax.set_ylabel("millicores")
    ax.legend()
    ax.set_title("One 2-core kind host")
    fig.tight_layout()
    fig.savefig(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cluster", default="bench-capacity")
    parser.add_argument("--learners", type=int, default=20)
    parser.add_argument("--step", type=int, default=5)
    parser.add_argument("--settle", type=float, default=90, help="seconds before measuring")
    parser.add_argument("--keep", action="store_true", help="keep the cluster afterwards")
    args = parser.parse_args(argv)
    # A state directory of its own (kind kubeconfig, Pulumi stacks, passphrase): no stack of
    # an earlier run can point at objects of a cluster that is gone.
    os.environ["PRODEV_LABS_STATE"] = tempfile.mkdtemp(prefix="kind-capacity-")
    try:
        result = run(args.cluster, args.learners, args.step, args.settle)
    finally:
        if not args.keep:
            left = kind.down(args.cluster)
            if left:
                console.print(f"left behind: {left}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "kind-capacity.json").write_text(json.dumps(result, indent=2))
    chart(result, RESULTS / "kind-capacity.png")
    report(result)
    return 0 if result["held_ready"] >= args.learners else 1


if __name__ == "__main__":
    sys.exit(main())
