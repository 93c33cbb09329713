"""`invoke lab ...`: what each action does for one learner, and what it prints."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from infra.automation import ClusterTarget, Engine, LearnerStack, state_paths
from infra.render import render, to_yaml
from infra.status import WorkloadStatus
from labs.catalog import default_catalog
from labs.commands.checks import Endpoints
from labs.names import default_learner
from labs.practice.app_workspace import CODE_LESSONS, STARTER_TAG, create_app_workspace
from labs.practice.git_practice import default_practice_root
from labs.sizing import footprint
from labs.spec import LabSpec, build_spec, with_tag

console = Console(stderr=True)


def spec_from_flags(lesson: int | None, learner: str | None, cohort: str | None,
                    **extra: str | None) -> LabSpec:
    """The LabSpec a command line asks for; SpecError lists every bad flag."""
    values = {"lesson": lesson, "learner": learner or default_learner(), "cohort": cohort,
              **extra}
    return build_spec({k: v for k, v in values.items() if v is not None})


def render_manifests(spec: LabSpec, out: Path | None) -> str:
    """Multi-document YAML of the environment; also written to out/<namespace>.yaml."""
    text = to_yaml(render(spec))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        target = out / f"{spec.namespace}.yaml"
        target.write_text(text)
        console.print(f"wrote {target}")
    return text


def lessons_table() -> Table:
    catalog = default_catalog()
    table = Table(title="Lessons", title_justify="left")
    for column in ("#", "title", "components", "profile", "CPU / memory requested"):
        table.add_column(column)
    for lesson in catalog.lessons.values():
        fp = footprint(lesson, catalog.profile(lesson.profile))
        table.add_row(str(lesson.number), lesson.title,
                      ", ".join(lesson.components) or "(namespace only)", lesson.profile,
                      f"{fp.requests_cpu.normalize()} / {fp.requests_memory / 2**30:.1f}Gi")
    return table


def engine_for_target() -> Engine:
    """The Pulumi engine: the offline toolchain's CLI when built, else `pulumi` on PATH."""
    import shutil

    from infra.cluster import toolchain as tc

    if all(tc.status().values()):
        chain = tc.toolchain()
        return Engine.from_toolchain(chain, state_paths())
    if shutil.which("pulumi"):
        return Engine(pulumi_root=None, env=dict(os.environ), paths=state_paths())
    raise RuntimeError("no Pulumi CLI: run `invoke toolchain` (builds it offline) or install "
                       "Pulumi (https://www.pulumi.com/docs/install/)")


def for_target(spec: LabSpec, target: ClusterTarget, app_copy: Path | None) -> LabSpec:
    """The spec as deployed on this target. On kind, images are built from this repository
    and pushed to the local registry; for a lesson about the app's code the API (and worker)
    image is built from the learner's own copy, so `lab up` after an edit rolls out their
    code and `lab check` sees their work, not the reference. On a kind cluster of offline
    images, every image is built here (infra/images/offline.py), tagged by content."""
    if target.driver != "kind":
        return spec
    from infra.images.for_lab import image_mode, offline_spec

    if image_mode(target) == "offline":
        got = offline_spec(spec, lambda m: console.print(f"[dim]{m}[/]"), app_copy)
        for note in got.notes:
            console.print(f"[yellow]note:[/] {note}")
        return got.spec
    if app_copy is None:
        return replace(spec, build_images=True)
    return replace(spec, build_images=True, app_source=str(app_copy),
                   images=replace(spec.images, api=with_tag(spec.images.api, spec.namespace)))


def up(spec: LabSpec, target: ClusterTarget) -> dict[str, Any]:
    """Provision or update the learner's stack and return its outputs."""
    stack = LearnerStack(spec, target, engine_for_target())
    with console.status(f"provisioning {spec.namespace} (lesson {spec.lesson.number}) ..."):
        result = stack.up(on_output=_log_line)
    summary = dict(result.summary.resource_changes or {})
    console.print(f"[green]ready[/] {spec.namespace}: "
                  + ", ".join(f"{k} {v}" for k, v in sorted(summary.items())))
    return stack.outputs()


def down(spec: LabSpec, target: ClusterTarget) -> None:
    stack = LearnerStack(spec, target, engine_for_target())
    with console.status(f"removing {spec.namespace} ..."):
        stack.destroy(on_output=_log_line)
    console.print(f"[green]removed[/] {spec.namespace}")


def where_things_are(outputs: dict[str, Any], target: ClusterTarget) -> Table:
    """The table `lab up` ends with: how to reach each part of the environment."""
    ns = outputs.get("namespace", "")
    table = Table(title=f"Lab environment {ns}", title_justify="left", show_header=False)
    table.add_column("what", style="bold")
    table.add_column("where")
    kube = f"--kubeconfig {target.kubeconfig}"
    if "apiUrl" in outputs:
        table.add_row("API", f"kubectl {kube} -n {ns} port-forward svc/api 8000:80 "
                             "-> http://localhost:8000/api/")
        if outputs.get("apiIngressHost"):
            table.add_row("API (ingress)", f"http://{outputs['apiIngressHost']}/")
    if "postgres" in outputs:
        table.add_row("Postgres", f"kubectl {kube} -n {ns} port-forward svc/postgres 5432 "
                                  f"(user/password in Secret {outputs['postgres']['secret']})")
    if "rabbitmq" in outputs:
        table.add_row("RabbitMQ", f"kubectl {kube} -n {ns} port-forward svc/rabbitmq "
                                  "15672 -> http://localhost:15672/")
    if "mailUrl" in outputs:
        table.add_row("Mail", f"kubectl {kube} -n {ns} port-forward svc/mailpit 8025")
    if "ciUrl" in outputs:
        table.add_row("CI", f"{outputs.get('ciRunner')}: kubectl {kube} -n {ns} "
                            "port-forward svc/jenkins 8080" if outputs.get("ciRunner") ==
                      "jenkins" else f"GitHub runner for {outputs['ciUrl']}")
    table.add_row("Kubeconfig", f"invoke lab kubeconfig --lesson {outputs.get('lesson')} "
                                "writes one scoped to your namespace")
    return table


def _log_line(line: str) -> None:
    if line.strip() and ("error" in line.lower() or "warning" in line.lower()):
        console.print(line.rstrip(), markup=False, highlight=False)


def status_table(rows: list[WorkloadStatus]) -> Table:
    table = Table(title_justify="left")
    for column in ("namespace", "component", "kind", "ready"):
        table.add_column(column)
    for row in rows:
        mark = "[green]✔[/]" if row.is_ready else "[yellow]…[/]"
        table.add_row(row.namespace, row.name, row.kind, f"{mark} {row.ready}/{row.desired}")
    return table


def run_action(action: str, spec: LabSpec, *, context: str | None, as_json: bool,
               out: Path | None, expiry_hours: int, endpoints: Endpoints | None = None) -> int:
    """Carry out a cluster action; the exit code (0 ok, 1 failed or not ready)."""
    from labs.commands import practice

    if spec.lesson.number in practice.LESSONS:  # lesson 3: no cluster, toolchain or Docker
        return practice.run(action, spec, as_json=as_json, endpoints=endpoints)

    from infra.automation import LabEnvironmentError, StackLockedError, outputs_json
    from infra.cluster.target import NoClusterError, choose
    from infra.kubeconfig import admin_client, learner_kubeconfig, write_kubeconfig
    from infra.status import workload_status

    try:
        if action == "check":
            from labs.commands.checks import check_learner, cluster_use, has_checks

            use = cluster_use(spec.lesson.number) if has_checks(spec.lesson.number) else None
            chosen = None
            if use is not None:
                try:
                    chosen = choose(context, start=False)
                except NoClusterError:
                    if use == "required":
                        raise
            return check_learner(spec, chosen.target if chosen else None, as_json, endpoints)
        if action in {"up", "reset"} and context is None:
            from labs.commands.build_display import ensure_toolchain_shown

            ensure_toolchain_shown(console)
        choice = choose(context, start=action in {"up", "reset"})
    except NoClusterError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    console.print(f"cluster: {choice.reason}")
    target = choice.target
    try:
        if action in {"up", "reset"}:
            app_copy = None
            if spec.lesson.number in CODE_LESSONS:
                app_copy = create_app_workspace(default_practice_root(spec.cohort, spec.learner),
                                                spec.lesson.number)
            spec = for_target(spec, target, app_copy)
            if action == "reset":
                down(spec, target)
            outputs = up(spec, target)
            console.print(where_things_are(outputs, target))
            if app_copy is not None:
                console.print(f"your app for this lesson: cd {app_copy}  (`git diff "
                              f"{STARTER_TAG}` shows your changes)")
            if as_json:
                print(outputs_json(outputs))
            return 0
        if action == "down":
            down(spec, target)
            return 0
    except (LabEnvironmentError, StackLockedError) as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    api = admin_client(target.kubeconfig, target.context)
    if action == "status":
        rows = workload_status(api, spec.cohort, spec.learner)
        if as_json:
            print(json.dumps([r.as_dict() for r in rows], indent=2))
        else:
            console.print(status_table(rows) if rows else
                          f"no environment for {spec.namespace}: `invoke lab up --lesson "
                          f"{spec.lesson.number}` creates it")
        return 0 if rows and all(r.is_ready for r in rows) else 1
    if action == "kubeconfig":
        path = out or state_paths().root / "kubeconfigs" / f"{spec.namespace}.yaml"
        write_kubeconfig(learner_kubeconfig(api, spec.namespace,
                                            expiry_seconds=expiry_hours * 3600), path)
        console.print(f"wrote {path} (namespace {spec.namespace}, expires in "
                      f"{expiry_hours}h): export KUBECONFIG={path}")
        return 0
    raise ValueError(action)
