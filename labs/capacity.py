"""Does a cohort fit the cluster? Allocatable node capacity against the learners' peak requests.

The Kubernetes API call stays with the caller (`nodes_from_api`, `pods_from_api` are the thin
helpers); everything here works on the API's plain JSON dicts, so it is tested without a cluster.

Totals are summed over schedulable nodes, ignoring bin packing: a learner's pods are small
next to a node, so the sum is a fair bound, and it is what the scheduler's requests add up to.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kubernetes.utils import parse_quantity
from rich.table import Table

from labs.sizing import Footprint, footprint

if TYPE_CHECKING:
    from labs.roster import Roster

RESOURCES: tuple[str, ...] = ("cpu", "memory", "pods")
# kwok taints its simulated nodes so real workloads stay off them; lab pods tolerate it.
KWOK_TAINT = "kwok.x-k8s.io/node"
# Effects that keep new pods off a node (PreferNoSchedule only discourages).
BLOCKING_EFFECTS = frozenset({"NoSchedule", "NoExecute"})
FINISHED_PHASES = frozenset({"Succeeded", "Failed"})  # their requests are released


@dataclass(frozen=True)
class Quantities:
    """Requests of CPU (cores), memory (bytes) and pod slots."""

    cpu: Decimal = Decimal(0)
    memory: Decimal = Decimal(0)
    pods: int = 0

    @classmethod
    def of(cls, fp: Footprint) -> Quantities:
        return cls(fp.requests_cpu, fp.requests_memory, fp.pods)

    def get(self, resource: str) -> Decimal:
        return Decimal(getattr(self, resource))

    def __add__(self, other: Quantities) -> Quantities:
        return Quantities(self.cpu + other.cpu, self.memory + other.memory,
                          self.pods + other.pods)

    def __sub__(self, other: Quantities) -> Quantities:
        return Quantities(self.cpu - other.cpu, self.memory - other.memory,
                          self.pods - other.pods)

    def clamped(self) -> Quantities:
        """Negatives as zero: an overcommitted cluster has nothing left, not less than nothing."""
        return Quantities(max(self.cpu, Decimal(0)), max(self.memory, Decimal(0)),
                          max(self.pods, 0))

    def covers(self, need: Quantities) -> bool:
        return all(self.get(r) >= need.get(r) for r in RESOURCES)

    def short_of(self, need: Quantities) -> tuple[str, ...]:
        return tuple(r for r in RESOURCES if self.get(r) < need.get(r))

    @staticmethod
    def largest(items: Iterable[Quantities]) -> Quantities:
        """Per resource, the largest value (the worst-case learner)."""
        items = list(items)
        if not items:
            return Quantities()
        return Quantities(max(q.cpu for q in items), max(q.memory for q in items),
                          max(q.pods for q in items))


@dataclass(frozen=True)
class NodeCapacity:
    name: str
    allocatable: Quantities
    skipped: str | None = None  # why new pods cannot land here; None when it counts

    @property
    def counted(self) -> bool:
        return self.skipped is None


def node_capacity(node: Mapping[str, Any]) -> NodeCapacity:
    """Read one node dict (Kubernetes API JSON); `skipped` says why it takes no new pods."""
    name = str((node.get("metadata") or {}).get("name", "?"))
    spec = node.get("spec") or {}
    alloc = (node.get("status") or {}).get("allocatable") or {}
    try:
        capacity = Quantities(parse_quantity(alloc.get("cpu", 0)),
                              parse_quantity(alloc.get("memory", 0)),
                              int(parse_quantity(alloc.get("pods", 0))))
    except (ValueError, TypeError):
        return NodeCapacity(name, Quantities(), f"unreadable allocatable {dict(alloc)!r}")
    if spec.get("unschedulable"):
        return NodeCapacity(name, capacity, "cordoned (unschedulable)")
    for taint in spec.get("taints") or ():
        if taint.get("effect") in BLOCKING_EFFECTS and taint.get("key") != KWOK_TAINT:
            value = f"={taint['value']}" if taint.get("value") else ""
            return NodeCapacity(name, capacity,
                                f"taint {taint.get('key')}{value}:{taint.get('effect')}")
    if not alloc:
        return NodeCapacity(name, capacity, "reports no allocatable capacity")
    return NodeCapacity(name, capacity)


def pod_requests(pod: Mapping[str, Any]) -> Quantities:
    """What the scheduler reserves for one pod: the larger of its containers' sum and its
    largest init container (init containers run one at a time), plus pod overhead."""
    spec = pod.get("spec") or {}

    def requests(container: Mapping[str, Any]) -> tuple[Decimal, Decimal]:
        req = (container.get("resources") or {}).get("requests") or {}
        return parse_quantity(req.get("cpu", 0)), parse_quantity(req.get("memory", 0))

    main = [requests(c) for c in spec.get("containers") or ()]
    init = [requests(c) for c in spec.get("initContainers") or ()]
    overhead = spec.get("overhead") or {}
    cpu = max(sum((c for c, _ in main), Decimal(0)), max((c for c, _ in init), default=0))
    memory = max(sum((m for _, m in main), Decimal(0)), max((m for _, m in init), default=0))
    return Quantities(cpu + parse_quantity(overhead.get("cpu", 0)),
                      memory + parse_quantity(overhead.get("memory", 0)), 1)


def requested_on(pods: Iterable[Mapping[str, Any]], nodes: Iterable[NodeCapacity]
                 ) -> Quantities:
    """What running pods already request on the counted nodes (unscheduled pods hold nothing)."""
    counted = {n.name for n in nodes if n.counted}
    total = Quantities()
    for pod in pods:
        on = (pod.get("spec") or {}).get("nodeName")
        if on in counted and (pod.get("status") or {}).get("phase") not in FINISHED_PHASES:
            total += pod_requests(pod)
    return total


@dataclass(frozen=True)
class CapacityPlan:
    """A roster's peak requests against what the cluster has left."""

    per_learner: Quantities  # the largest need of one learner (everyone's, in a uniform roster)
    learners: int  # roster size
    demand: Quantities  # the whole roster
    allocatable: Quantities  # summed over counted nodes
    requested: Quantities  # already requested on those nodes
    nodes: tuple[NodeCapacity, ...]  # every node given, counted or skipped with the reason
    fit: Mapping[str, int | None]  # learners each resource alone allows; None: unbounded
    limit: str | None  # the resource that caps fit_count; None when nothing is requested

    @property
    def available(self) -> Quantities:
        return (self.allocatable - self.requested).clamped()

    @property
    def fits(self) -> bool:
        return self.available.covers(self.demand)

    @property
    def shortfall(self) -> Quantities:
        return (self.demand - self.available).clamped()

    @property
    def fit_count(self) -> int | None:
        """How many learners fit; None when a learner requests nothing at all."""
        return None if self.limit is None else self.fit[self.limit]

    def rows(self) -> list[tuple[str, str, str, str, str]]:
        """(resource, one learner, roster total, available, learners that fit) as text."""
        rows = []
        for r in RESOURCES:
            by = self.fit[r]
            rows.append((r, _fmt(r, self.per_learner.get(r)), _fmt(r, self.demand.get(r)),
                         f"{_fmt(r, self.available.get(r))} of "
                         f"{_fmt(r, self.allocatable.get(r))}",
                         "unlimited" if by is None else str(by)))
        return rows

    def summary(self) -> str:
        """One sentence: how many fit, what limits it, and whether the roster does."""
        count = ("any number of learners fit (they request nothing)" if self.fit_count is None
                 else f"{self.fit_count} learner{'s' * (self.fit_count != 1)} fit "
                 f"(limited by {self.limit})")
        if self.fits:
            return f"{count}; the roster of {self.learners} fits"
        short = ", ".join(f"{_fmt(r, self.shortfall.get(r))} {r}"
                          for r in self.available.short_of(self.demand))
        return f"{count}; the roster of {self.learners} does NOT fit (short of {short})"


def plan_capacity(footprints: Sequence[Footprint], nodes: Iterable[Mapping[str, Any]],
                  requested: Quantities | None = None) -> CapacityPlan:
    """Plan for learners with these footprints (roster order) on these node dicts.

    `requested` is what is already reserved on the cluster (see `requested_on`).
    """
    read = tuple(node_capacity(n) for n in nodes)
    allocatable = sum((n.allocatable for n in read if n.counted), Quantities())
    requested = requested or Quantities()
    needs = [Quantities.of(fp) for fp in footprints]
    per_learner = Quantities.largest(needs)
    left = (allocatable - requested).clamped()

    fit = {r: _fit_by(r, needs, per_learner, left) for r in RESOURCES}
    bounded = [r for r in RESOURCES if fit[r] is not None]
    limit = min(bounded, key=lambda r: fit[r] or 0) if bounded else None  # ties: cpu first

    return CapacityPlan(per_learner=per_learner, learners=len(needs),
                        demand=sum(needs, Quantities()), allocatable=allocatable,
                        requested=requested, nodes=read, fit=fit, limit=limit)


def _fit_by(resource: str, needs: Sequence[Quantities], per_learner: Quantities,
            available: Quantities) -> int | None:
    """Learners that `resource` alone allows: the roster's own in order, then more like the
    largest one, so a uniform roster gives available // per learner and a mixed one stays
    exact for its own learners. None when nobody requests the resource."""
    left = available.get(resource)
    for count, need in enumerate(needs):
        if need.get(resource) > left:
            return count
        left -= need.get(resource)
    largest = per_learner.get(resource)
    return None if largest == 0 else len(needs) + int(left // largest)


def plan_roster(roster: Roster, nodes: Iterable[Mapping[str, Any]],
                requested: Quantities | None = None) -> CapacityPlan:
    """Plan for every learner of a roster at their own lesson, profile and CI runner."""
    footprints = [footprint(s.lesson, s.profile, s.ci_runner) for s in roster.specs()]
    return plan_capacity(footprints, nodes, requested)


def fit_report(plan: CapacityPlan, title: str = "Cluster capacity") -> Table:
    """The `invoke cohort plan` table; its caption is the summary and any skipped nodes."""
    table = Table(title=title, caption=_caption(plan), caption_justify="left")
    table.add_column("Resource")
    table.add_column("One learner", justify="right")
    table.add_column(f"Roster ({plan.learners})", justify="right")
    table.add_column("Available", justify="right")
    table.add_column("Learners that fit", justify="right")
    for row in plan.rows():
        style = "bold red" if row[0] in plan.available.short_of(plan.demand) else None
        table.add_row(*row, style=style)
    return table


def _caption(plan: CapacityPlan) -> str:
    counted = sum(n.counted for n in plan.nodes)
    lines = [plan.summary(), f"{counted} of {len(plan.nodes)} nodes take new pods"]
    lines += [f"  skipped {n.name}: {n.skipped}" for n in plan.nodes if not n.counted]
    return "\n".join(lines)


def _fmt(resource: str, amount: Decimal) -> str:
    if resource == "memory":
        return f"{amount / 1024 ** 3:.2f}Gi"
    if resource == "cpu":
        return f"{amount.quantize(Decimal('0.01')).normalize():f}"
    return str(int(amount))


def nodes_from_api(core_v1_api: Any) -> list[dict[str, Any]]:
    """Every node as the API's JSON dict (camelCase keys), ready for plan_capacity."""
    items = core_v1_api.list_node().items
    return [core_v1_api.api_client.sanitize_for_serialization(n) for n in items]


def pods_from_api(core_v1_api: Any) -> list[dict[str, Any]]:
    """Every pod in every namespace as JSON dicts, for requested_on."""
    items = core_v1_api.list_pod_for_all_namespaces().items
    return [core_v1_api.api_client.sanitize_for_serialization(p) for p in items]
