"""`invoke cohort ...`: a whole class at once, with live progress and a final summary."""

from __future__ import annotations

import json
import math
import threading
import time
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from infra import cohort as runner
from infra.automation import ClusterTarget
from infra.cluster.target import choose
from infra.kubeconfig import admin_client
from infra.status import labelled_leftovers, workload_status
from labs.capacity import (
    RESOURCES,
    CapacityPlan,
    fit_report,
    node_capacity,
    nodes_from_api,
    plan_roster,
    pods_from_api,
    requested_on,
)
from labs.commands.lab import engine_for_target, for_target
from labs.roster import Roster, load_roster

console = Console(stderr=True)
STYLE = {runner.QUEUED: "dim", runner.WORKING: "yellow", runner.DONE: "green",
         runner.FAILED: "red"}


class Board:
    """Per-learner state shared by the pool's threads and the live display.

    Up to FULL_TABLE learners it shows one row each; a class of 100 gets summary rows
    instead: a progress bar, the learners being worked on (the longest first), the newest
    failures and the last few finished, so the board stays one screen however large the
    class. Every failure is printed in full when the run ends."""

    FULL_TABLE = 15
    SHOWN = 6

    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: dict[str, tuple[str, str, float]] = {}
        self.lock = threading.Lock()
        self.started = time.monotonic()

    def update(self, learner: str, state: str, detail: str) -> None:
        with self.lock:
            self.rows[learner] = (state, detail, time.monotonic())

    def __rich__(self) -> Group:
        with self.lock:
            rows = dict(self.rows)
        counts = {s: sum(1 for r in rows.values() if r[0] == s) for s in STYLE}
        line = "  ".join(f"[{STYLE[s]}]{s} {n}[/]" for s, n in counts.items() if n)
        if len(rows) <= self.FULL_TABLE:
            table = Table(title=self.title, title_justify="left")
            for column in ("learner", "state", "detail"):
                table.add_column(column)
            for learner, (state, detail, _) in rows.items():
                table.add_row(learner, Text(state, style=STYLE[state]), detail)
            return Group(table, Text.from_markup(line))
        return Group(*self.summary(rows, counts), Text.from_markup(line))

    def summary(self, rows: dict[str, tuple[str, str, float]],
                counts: dict[str, int]) -> list:
        now = time.monotonic()
        finished = counts[runner.DONE] + counts[runner.FAILED]
        elapsed = now - self.started
        rate = finished / elapsed if elapsed > 0 else 0.0
        left = len(rows) - finished
        eta = f", about {left / rate:.0f}s left" if rate > 0 and left else ""
        head = Table.grid(padding=(0, 1))
        head.add_row(Text(self.title, style="bold"))
        head.add_row(ProgressBar(total=len(rows), completed=finished, width=50),
                     Text(f"{finished}/{len(rows)} in {elapsed:.0f}s{eta}"))
        table = Table(show_header=True, box=None, padding=(0, 2))
        for column in ("state", "learners", "detail"):
            table.add_column(column)

        def names(state: str, newest_first: bool) -> list[tuple[str, str, float]]:
            chosen = [(n, d, t) for n, (s, d, t) in rows.items() if s == state]
            return sorted(chosen, key=lambda r: r[2], reverse=newest_first)

        working = names(runner.WORKING, newest_first=False)
        for learner, detail, since in working[:self.SHOWN]:
            table.add_row(Text("working", style=STYLE[runner.WORKING]), learner,
                          f"{now - since:.0f}s {detail}".strip())
        if len(working) > self.SHOWN:
            table.add_row("", f"+{len(working) - self.SHOWN} more", "")
        failed = names(runner.FAILED, newest_first=True)
        for learner, detail, _ in failed[:2 * self.SHOWN]:
            table.add_row(Text("failed", style=STYLE[runner.FAILED]), learner, detail)
        if len(failed) > 2 * self.SHOWN:
            table.add_row("", f"+{len(failed) - 2 * self.SHOWN} more failed", "")
        done = names(runner.DONE, newest_first=True)
        if done:
            table.add_row(Text("done", style=STYLE[runner.DONE]),
                          ", ".join(n for n, _, _ in done[:3])
                          + (f" and {len(done) - 3} more" if len(done) > 3 else ""),
                          done[0][1])
        if counts[runner.QUEUED]:
            table.add_row(Text("queued", style=STYLE[runner.QUEUED]),
                          f"{counts[runner.QUEUED]} learners", "")
        return [head, table]


def capacity(roster: Roster, target: ClusterTarget):
    from kubernetes import client

    core = client.CoreV1Api(admin_client(target.kubeconfig, target.context))
    nodes = nodes_from_api(core)
    in_use = requested_on(pods_from_api(core), [node_capacity(n) for n in nodes])
    return plan_roster(roster, nodes, in_use)


def local_only(action: str, roster: Roster) -> int | None:
    """For a lesson whose lab is files on the learner's machine (lesson 3): say in one line
    why the cohort has nothing on a cluster and return the exit code; None otherwise.

    Never a cluster call: a learner's namespace is shared by every lesson, so a lesson-3
    `down` that swept it would wipe whatever other lesson the class has deployed."""
    from labs.commands.practice import LESSONS

    lesson = roster.lesson
    if lesson not in LESSONS:
        return None
    local = f"lesson {lesson} is local-only and needs no cluster"
    if action == "up":
        console.print(f"[red]refusing:[/] {local}: each learner runs "
                      f"`invoke lab up --lesson {lesson}` on their own machine", soft_wrap=True)
        return 1
    if action == "down":
        console.print(f"{local}: nothing of it is on a cluster, so nothing was removed",
                      soft_wrap=True)
        return 0
    if action == "plan":
        console.print(f"{local}: it fits any cluster", soft_wrap=True)
        return 0
    console.print(f"[red]refusing:[/] {local}: each learner's "
                  f"`invoke lab {action} --lesson {lesson}` reports on their own machine",
                  soft_wrap=True)
    return 1


def plan(roster: Roster, context: str | None) -> int:
    if (code := local_only("plan", roster)) is not None:
        return code
    choice = choose(context, start=False)
    console.print(f"cluster: {choice.reason}")
    result = capacity(roster, choice.target)
    console.print(fit_report(result, title=f"Cohort {roster.cohort}, lesson {roster.lesson}"))
    console.print(result.summary())
    return 0 if result.fits else 1


def up_or_down(operation: str, roster: Roster, *, context: str | None,
               parallel: int | None = None, force: bool = False) -> int:
    if (code := local_only(operation, roster)) is not None:
        return code
    if operation == "up" and context is None:
        from labs.commands.build_display import ensure_toolchain_shown

        ensure_toolchain_shown(console)
    choice = choose(context, start=operation == "up")
    console.print(f"cluster: {choice.reason}")
    if operation == "up":
        fit = capacity(roster, choice.target)
        if not fit.fits:
            console.print(fit_report(fit, title="Cluster capacity"))
            if choice.target.driver == "sim" and (hint := sim_nodes_for(fit)):
                console.print(f"the simulated cluster takes more nodes while it runs: {hint}")
            if not force:
                console.print(f"[red]refusing:[/] {fit.summary()} (use --force to try anyway)")
                return 1
            console.print(f"[yellow]--force:[/] {fit.summary()}")
        if choice.target.driver == "sim":
            _enough_volumes(choice.target, roster)
    engine = engine_for_target()
    # On kind every stack builds and pushes the images (the reference app); Docker's layer
    # cache makes all but the first build a cache hit.
    specs = [for_target(s, choice.target, None) if operation == "up" else s
             for s in roster.specs()]
    parallel = parallel or runner.default_parallel(len(specs))
    board = Board(f"cohort {roster.cohort}: {operation} lesson {roster.lesson}, "
                  f"{len(roster.learners)} learners, {parallel} at a time")
    started = time.monotonic()
    with Live(board, console=console, refresh_per_second=4, transient=False):
        results = runner.run(operation, specs, choice.target, engine,
                             parallel=parallel, on_state=board.update)
    console.line()
    elapsed = time.monotonic() - started
    failed = [r for r in results if not r.ok]
    for result in failed:
        console.print(f"[red]{result.learner}[/]: {result.error}", markup=True)
    if operation == "down" and not failed:
        left = labelled_leftovers(admin_client(choice.target.kubeconfig, choice.target.context),
                                  roster.cohort)
        if left:
            console.print(f"[red]left behind:[/] {', '.join(left)}")
            return 1
        console.print(f"nothing labelled for cohort {roster.cohort} is left on the cluster")
    console.print(f"{len(results) - len(failed)}/{len(results)} learners {operation} in "
                  f"{elapsed:.0f}s" + (f"; [red]{len(failed)} failed[/]" if failed else ""))
    return 1 if failed else 0


def sim_nodes_for(fit: CapacityPlan) -> str | None:
    """The `cluster up` command that grows the simulated cluster to fit the roster: as many
    nodes as the scarcest resource needs, each the size of the present ones."""
    counted = [n.allocatable for n in fit.nodes if n.counted]
    if not counted:
        return None
    node = counted[0]
    need = fit.demand + fit.requested
    nodes = max(math.ceil(need.get(r) / node.get(r)) for r in RESOURCES if node.get(r) > 0)
    memory = f"{math.ceil(node.memory / 2**30)}Gi"
    return (f"invoke cluster up --driver sim --nodes {max(nodes, len(fit.nodes))} "
            f"--node-cpu {node.cpu.normalize():f} --node-memory {memory}")


def _enough_volumes(target: ClusterTarget, roster: Roster) -> None:
    """The simulated cluster's volume pool tops up to what the roster claims (its size is
    set at `cluster up`; a class of 100 needs more than the default)."""
    from kubernetes import client

    from infra.cluster.sim import ensure_free_volumes
    from labs.sizing import footprint

    specs = roster.specs()
    api = admin_client(target.kubeconfig, target.context)
    namespaces = {s.namespace for s in specs}
    have = sum(1 for c in client.CoreV1Api(api).list_persistent_volume_claim_for_all_namespaces(
    ).items if c.metadata.namespace in namespaces)  # a re-run's claims are bound already
    claims = sum(footprint(s.lesson, s.profile, s.ci_runner).volume_claims for s in specs)
    created = ensure_free_volumes(api, claims - have)
    if created:
        console.print(f"simulated cluster: added {created} PersistentVolumes for the roster")


def status(roster: Roster, *, context: str | None, as_json: bool) -> int:
    if (code := local_only("status", roster)) is not None:
        return code
    choice = choose(context, start=False)
    rows = workload_status(admin_client(choice.target.kubeconfig, choice.target.context),
                           roster.cohort)
    by_learner: dict[str, list] = {lr.id: [] for lr in roster.learners}
    for row in rows:
        by_learner.setdefault(row.learner, []).append(row)
    summary = {learner: {"ready": bool(items) and all(r.is_ready for r in items),
                         "components": {r.name: f"{r.ready}/{r.desired}" for r in items}}
               for learner, items in by_learner.items()}
    if as_json:
        print(json.dumps({"cohort": roster.cohort, "learners": summary}, indent=2))
    else:
        table = Table(title=f"cohort {roster.cohort}", title_justify="left")
        table.add_column("learner")
        table.add_column("ready")
        table.add_column("components")
        for learner, info in summary.items():
            mark = "[green]✔[/]" if info["ready"] else (
                "[red]✘ not provisioned[/]" if not info["components"] else "[yellow]…[/]")
            table.add_row(learner, mark, "  ".join(f"{k} {v}"
                                                    for k, v in info["components"].items()))
        console.print(table)
    return 0 if all(v["ready"] for v in summary.values()) else 1


def load(path: str, lesson: int | None) -> Roster:
    return load_roster(Path(path), lesson=lesson)


def check(roster: Roster, *, context: str | None, out: str | None) -> int:
    from labs.commands.checks import check_cohort, has_checks

    needs_cluster = roster.lesson != 3 and has_checks(roster.lesson)
    target = choose(context, start=False).target if needs_cluster else None
    return check_cohort(roster.specs(), target, Path(out or f"reports/{roster.cohort}"))
