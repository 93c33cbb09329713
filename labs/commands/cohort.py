"""`invoke cohort ...`: a whole class at once, with live progress and a final summary."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from infra import cohort as runner
from infra.automation import ClusterTarget
from infra.cluster.target import choose
from infra.kubeconfig import admin_client
from infra.status import labelled_leftovers, workload_status
from labs.capacity import (
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
    """Per-learner state shared by the pool's threads and the live display."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.rows: dict[str, tuple[str, str, float]] = {}
        self.lock = threading.Lock()

    def update(self, learner: str, state: str, detail: str) -> None:
        with self.lock:
            self.rows[learner] = (state, detail, time.monotonic())

    def __rich__(self) -> Group:
        with self.lock:
            rows = dict(self.rows)
        counts = {s: sum(1 for r in rows.values() if r[0] == s) for s in STYLE}
        table = Table(title=self.title, title_justify="left")
        for column in ("learner", "state", "detail"):
            table.add_column(column)
        for learner, (state, detail, _) in rows.items():
            table.add_row(learner, Text(state, style=STYLE[state]), detail)
        line = "  ".join(f"[{STYLE[s]}]{s} {n}[/]" for s, n in counts.items() if n)
        return Group(table, Text.from_markup(line))


def capacity(roster: Roster, target: ClusterTarget):
    from kubernetes import client

    core = client.CoreV1Api(admin_client(target.kubeconfig, target.context))
    nodes = nodes_from_api(core)
    in_use = requested_on(pods_from_api(core), [node_capacity(n) for n in nodes])
    return plan_roster(roster, nodes, in_use)


def plan(roster: Roster, context: str | None) -> int:
    choice = choose(context, start=False)
    console.print(f"cluster: {choice.reason}")
    result = capacity(roster, choice.target)
    console.print(fit_report(result, title=f"Cohort {roster.cohort}, lesson {roster.lesson}"))
    console.print(result.summary())
    return 0 if result.fits else 1


def up_or_down(operation: str, roster: Roster, *, context: str | None, parallel: int,
               force: bool = False) -> int:
    if operation == "up" and context is None:
        from labs.commands.build_display import ensure_toolchain_shown

        ensure_toolchain_shown(console)
    choice = choose(context, start=operation == "up")
    console.print(f"cluster: {choice.reason}")
    if operation == "up":
        fit = capacity(roster, choice.target)
        if not fit.fits:
            console.print(fit_report(fit, title="Cluster capacity"))
            if not force:
                console.print(f"[red]refusing:[/] {fit.summary()} (use --force to try anyway)")
                return 1
            console.print(f"[yellow]--force:[/] {fit.summary()}")
    engine = engine_for_target()
    # On kind every stack builds and pushes the images (the reference app); Docker's layer
    # cache makes all but the first build a cache hit.
    specs = [for_target(s, choice.target, None) if operation == "up" else s
             for s in roster.specs()]
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


def status(roster: Roster, *, context: str | None, as_json: bool) -> int:
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
