"""Capacity arithmetic: allocatable node capacity against the learners' peak requests."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from kubernetes.client import ApiClient, V1Node, V1NodeSpec, V1NodeStatus, V1ObjectMeta
from rich.console import Console

from labs.capacity import (
    Quantities,
    fit_report,
    node_capacity,
    nodes_from_api,
    plan_capacity,
    plan_roster,
    requested_on,
)
from labs.catalog import default_catalog
from labs.roster import load_roster
from labs.sizing import Footprint, footprint

pytestmark = pytest.mark.unit

GI = 1024 ** 3
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def node(name: str, cpu: str = "16", memory: str = "64Gi", pods: str = "110",
         **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": name}, "spec": spec,
            "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods}}}


def lesson_footprint(number: int) -> Footprint:
    catalog = default_catalog()
    lesson = catalog.lesson(number)
    return footprint(lesson, catalog.profile(lesson.profile))


def test_three_nodes_against_lesson_4() -> None:
    fp = lesson_footprint(4)
    plan = plan_capacity([fp] * 5, [node("a"), node("b"), node("c")])
    # Worked out here from the footprint alone: 48 cores, 192 GiB, 330 pod slots.
    by_cpu = int(Decimal(48) // fp.requests_cpu)
    by_memory = int(Decimal(192 * GI) // fp.requests_memory)
    by_pods = 330 // fp.pods
    assert plan.fit == {"cpu": by_cpu, "memory": by_memory, "pods": by_pods}
    assert plan.fit_count == min(by_cpu, by_memory, by_pods)
    assert plan.limit == min(("cpu", by_cpu), ("memory", by_memory), ("pods", by_pods),
                             key=lambda item: item[1])[0]
    assert plan.allocatable == Quantities(Decimal(48), Decimal(192 * GI), 330)
    assert plan.demand == Quantities(5 * fp.requests_cpu, 5 * fp.requests_memory, 5 * fp.pods)
    assert plan.fits and plan.learners == 5


def test_tainted_and_cordoned_nodes_are_not_counted() -> None:
    nodes = [
        node("worker"),
        node("kwok", taints=[{"key": "kwok.x-k8s.io/node", "value": "fake",
                              "effect": "NoSchedule"}]),
        node("preferred", taints=[{"key": "spot", "effect": "PreferNoSchedule"}]),
        node("control-plane", taints=[{"key": "node-role.kubernetes.io/control-plane",
                                       "effect": "NoSchedule"}]),
        node("draining", taints=[{"key": "gpu", "value": "yes", "effect": "NoExecute"}]),
        node("cordoned", unschedulable=True),
    ]
    plan = plan_capacity([lesson_footprint(4)], nodes)
    assert plan.allocatable == Quantities(Decimal(48), Decimal(192 * GI), 330)
    skipped = {n.name: n.skipped for n in plan.nodes if not n.counted}
    assert skipped == {
        "control-plane": "taint node-role.kubernetes.io/control-plane:NoSchedule",
        "draining": "taint gpu=yes:NoExecute",
        "cordoned": "cordoned (unschedulable)",
    }


def test_memory_is_named_as_the_limit() -> None:
    fp = lesson_footprint(4)
    plan = plan_capacity([fp], [node("big-cpu", cpu="64", memory="8Gi")])
    assert plan.limit == "memory"
    assert plan.fit_count == int(Decimal(8 * GI) // fp.requests_memory)
    assert "limited by memory" in plan.summary()


def test_pods_can_be_the_limit() -> None:
    fp = lesson_footprint(4)
    plan = plan_capacity([fp] * 3, [node("small-pods", pods="20")])
    assert plan.limit == "pods"
    assert plan.fit_count == 20 // fp.pods
    assert plan.fits == (20 // fp.pods >= 3)


def test_already_requested_is_subtracted() -> None:
    fp = lesson_footprint(4)
    used = Quantities(Decimal(10), Decimal(4 * GI), 30)
    plan = plan_capacity([fp], [node("a")], requested=used)
    assert plan.available == Quantities(Decimal(6), Decimal(60 * GI), 80)
    assert plan.fit["cpu"] == int(Decimal(6) // fp.requests_cpu)
    # More requested than allocatable (overcommitted) leaves nothing, not a negative.
    over = plan_capacity([fp], [node("a")], requested=Quantities(Decimal(20), Decimal(0), 0))
    assert over.available.cpu == 0 and over.fit_count == 0 and not over.fits


def test_requested_on_counts_live_pods_on_counted_nodes() -> None:
    nodes = [node_capacity(node("a")), node_capacity(node("b", unschedulable=True))]

    def pod(on: str | None, phase: str = "Running", **spec: Any) -> dict[str, Any]:
        containers = [{"resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}},
                      {"resources": {}}]
        return {"spec": {"nodeName": on, "containers": containers, **spec},
                "status": {"phase": phase}}

    pods = [
        pod("a"),
        pod("a", initContainers=[{"resources": {"requests": {"cpu": "1", "memory": "64Mi"}}}],
            overhead={"cpu": "100m"}),
        pod("a", phase="Succeeded"),
        pod("b"),
        pod(None, phase="Pending"),
    ]
    used = requested_on(pods, nodes)
    # Second pod: the init container's 1 CPU beats the containers' 250m; memory stays 256Mi.
    assert used == Quantities(Decimal("0.25") + Decimal("1.1"), Decimal(512 * 1024 ** 2), 2)


def test_the_example_roster_does_not_fit_a_small_laptop() -> None:
    roster = load_roster(EXAMPLES / "cohort.yaml")
    # Requests sit near idle use (~0.6 CPU for these five): half a spare CPU is too little.
    plan = plan_roster(roster, [node("laptop", cpu="500m", memory="8Gi")])
    specs = roster.specs()
    need_cpu = sum(footprint(s.lesson, s.profile, s.ci_runner).requests_cpu for s in specs)
    assert plan.demand.cpu == need_cpu
    assert not plan.fits and plan.fit_count is not None and plan.fit_count < 5
    assert "does NOT fit (short of" in plan.summary()
    assert plan.shortfall.cpu == need_cpu - Decimal("0.5")


def test_a_lesson_without_workloads_fits_any_number() -> None:
    plan = plan_capacity([lesson_footprint(3)] * 4, [node("a")])
    assert plan.fit_count is None and plan.limit is None and plan.fits
    assert "any number of learners fit" in plan.summary()


@given(cpus=st.lists(st.integers(1, 64), min_size=1, max_size=5),
       learners=st.integers(1, 60), lesson=st.sampled_from([1, 4, 6, 8]))
def test_fit_count_agrees_with_fits(cpus: list[int], learners: int, lesson: int) -> None:
    fp = lesson_footprint(lesson)
    plan = plan_capacity([fp] * learners, [node(f"n{i}", cpu=str(c)) for i, c in
                                           enumerate(cpus)])
    assert plan.fit_count is not None
    assert plan.fits == (plan.fit_count >= learners)
    # fit_count learners fit; one more would not.
    available = plan.available
    for resource in ("cpu", "memory", "pods"):
        per = Quantities.of(fp).get(resource)
        assert per * plan.fit_count <= available.get(resource)
    assert not available.covers(Quantities(fp.requests_cpu * (plan.fit_count + 1),
                                           fp.requests_memory * (plan.fit_count + 1),
                                           fp.pods * (plan.fit_count + 1)))


def test_fit_report_renders() -> None:
    roster = load_roster(EXAMPLES / "cohort.yaml")
    nodes = [node("a"), node("cp", unschedulable=True)]
    console = Console(record=True, width=120)
    console.print(fit_report(plan_roster(roster, nodes)))
    text = console.export_text()
    assert "Roster (5)" in text and "Learners that fit" in text
    assert "the roster of 5 fits" in text
    assert "skipped cp: cordoned (unschedulable)" in text


def test_nodes_from_api_returns_json_dicts() -> None:
    v1node = V1Node(metadata=V1ObjectMeta(name="kind-worker"),
                    spec=V1NodeSpec(unschedulable=None),
                    status=V1NodeStatus(allocatable={"cpu": "8", "memory": "16Gi",
                                                     "pods": "110"}))
    api = SimpleNamespace(list_node=lambda: SimpleNamespace(items=[v1node]),
                          api_client=ApiClient())
    [as_dict] = nodes_from_api(api)
    assert as_dict["metadata"]["name"] == "kind-worker"
    assert node_capacity(as_dict).allocatable == Quantities(Decimal(8), Decimal(16 * GI), 110)
