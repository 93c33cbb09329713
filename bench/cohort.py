"""Benchmark: provisioning a cohort on the simulated cluster (not a test; prints figures).

For each cohort size it measures, for the project's orchestrator (infra.cohort: inline
programs, a pool sized to the machine): wall seconds until every learner is Ready, CPU
seconds per learner on the client side (this process and every pulumi process it ran) and on
the cluster side (API server, etcd, controllers, scheduler, kwok), `cohort status` and
`cohort down` times. The baseline is a sequential loop of plain `pulumi up` per learner (one
project directory and stack each, the CLI and its Python language host), measured in the
same run at --baseline learners and extrapolated per learner to the other sizes (labelled).
It also times `invoke lab up --lesson 4` for one learner, cold (a new stack) and re-run.
Writes bench/results/cohort.json and cohort.png and prints a table with the ratios.

    python -m bench.cohort --learners 25,50,100   (or: invoke bench cohort --learners ...)
    python -m bench.cohort --profile 10           (where a learner's CPU goes: a table)
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from infra import cohort as runner
from infra import processes
from infra.automation import ClusterTarget, Engine, StatePaths, ensure_passphrase
from infra.cluster.sim import SimCluster
from infra.cluster.toolchain import Toolchain, ensure_toolchain
from infra.kubeconfig import admin_client
from infra.program import CONFIG_NAMESPACE
from infra.status import labelled_leftovers
from labs import secrets as lab_secrets
from labs.roster import load_roster
from labs.spec import LabSpec, build_spec, to_config

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LESSON = 4
PODS_PER_LEARNER = 6  # lesson 4: postgres, rabbitmq, api, worker, the migration Job's pod


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def measure(work: Callable[[], None]) -> tuple[float, float]:
    wall, cpu = time.monotonic(), _cpu()
    work()
    return time.monotonic() - wall, _cpu() - cpu


def specs_for(cohort: str, size: int) -> list[LabSpec]:
    return [build_spec({"cohort": cohort, "learner": f"l{i:03d}", "lesson": LESSON})
            for i in range(size)]


def sim_for(learners: int, chain: Toolchain, root: Path, name: str = "bench") -> SimCluster:
    """A simulated cluster that fits `learners` of lesson 4 at once (pods, CPU, volumes)."""
    nodes = max(3, math.ceil(learners * PODS_PER_LEARNER / 100))
    return SimCluster(name=name, nodes=nodes, node_cpu="32", node_memory="128Gi",
                      volumes=learners * 2 + 8, toolchain=chain, root=root)


def cluster_cpu(sim: SimCluster) -> float:
    return sum(processes.read(c.pid).cpu for c in sim.status().components
               if c.pid and processes.read(c.pid))


def plain_pulumi_up(specs: Sequence[LabSpec], target: ClusterTarget, chain: Toolchain,
                    state: Path) -> None:
    """The baseline: for each learner, a project directory and `pulumi up`, one after another."""
    env = chain.env()
    env |= {"PULUMI_BACKEND_URL": f"file://{state / 'backend'}",
            "PULUMI_CONFIG_PASSPHRASE_FILE": str(ensure_passphrase(StatePaths(state))),
            "PULUMI_PYTHON_CMD": sys.executable}
    (state / "backend").mkdir(parents=True, exist_ok=True)
    for spec in specs:
        project = state / "projects" / spec.stack_name
        project.mkdir(parents=True)
        (project / "infra").symlink_to(ROOT / "infra")
        (project / "Pulumi.yaml").write_text((ROOT / "Pulumi.yaml").read_text())

        def pulumi(*args: str, project: Path = project) -> None:
            done = subprocess.run([str(chain.pulumi), *args, "--non-interactive"], cwd=project,
                                  env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"pulumi {args[0]} failed in {project.name}:\n"
                                   f"{(done.stdout + done.stderr)[-2000:]}")

        pulumi("stack", "init", spec.stack_name)
        plain = [f"{CONFIG_NAMESPACE}:{k}={v}" for k, v in to_config(spec).items()]
        plain.append(f"kubernetes:kubeconfig={target.kubeconfig}")
        secret = [f"{CONFIG_NAMESPACE}:{k}={v}" for k, v in lab_secrets.missing(()).items()]
        pulumi("config", "set-all", *[a for kv in plain for a in ("--plaintext", kv)],
               *[a for kv in secret for a in ("--secret", kv)])
        pulumi("up", "--yes", "--skip-preview")


def roster_for(cohort: str, size: int, where: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    path = where / f"{cohort}.yaml"
    path.write_text(yaml.safe_dump({
        "cohort": cohort, "lesson": LESSON,
        "learners": [{"id": f"l{i:03d}", "name": f"Learner {i}", "email": f"l{i:03d}@example.com"}
                     for i in range(size)]}))
    return path


def command(sim: SimCluster, state: Path, *args: str) -> tuple[float, str]:
    """Run `invoke <args> --context <sim>` as an instructor would; (seconds, stdout)."""
    env = {**os.environ, "PRODEV_LABS_STATE": str(state), "KUBECONFIG": str(sim.kubeconfig_path)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "invoke", *args, "--context", f"sim-{sim.name}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    if done.returncode != 0:
        raise RuntimeError(f"invoke {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return time.monotonic() - started, done.stdout


def orchestrate(size: int, sim: SimCluster, target: ClusterTarget, state: Path,
                parallel: int | None) -> dict:
    """One cohort up of `size` learners (in this process, for its CPU), then the instructor's
    `cohort status --json` and `cohort down` commands, timed."""
    chain = sim.toolchain
    engine = Engine.from_toolchain(chain, StatePaths(state))
    roster = roster_for(f"o{size}", size, state.parent)
    specs = load_roster(roster).specs()
    results: list = []
    before = cluster_cpu(sim)
    wall, cpu = measure(lambda: results.extend(runner.run("up", specs, target, engine,
                                                          parallel=parallel)))
    cluster = cluster_cpu(sim) - before
    failed = [r.error for r in results if not r.ok]
    if failed:
        raise RuntimeError(f"orchestrator run failed ({len(failed)}): {failed[0]}")
    status_s, out = command(sim, state, "cohort", "status", "--roster", str(roster), "--json")
    learners = json.loads(out)["learners"]
    ready = sum(1 for v in learners.values() if v["ready"])
    if ready != size:
        raise RuntimeError(f"{size - ready} learners not Ready after the run")
    down_s, _ = command(sim, state, "cohort", "down", "--roster", str(roster))
    if labelled_leftovers(admin_client(sim.kubeconfig_path), f"o{size}"):
        raise RuntimeError("cohort down left objects behind")
    sim.replenish_volumes()
    return {"wall_s": wall, "cpu_s": cpu, "wall_per_learner": wall / size,
            "cpu_per_learner": cpu / size, "cluster_cpu_per_learner": cluster / size,
            "ready": ready, "parallel": parallel or runner.default_parallel(size),
            "status_s": status_s, "down_s": down_s}


def lab_up_times(sim: SimCluster, state: Path) -> dict:
    """`invoke lab up --lesson 4` for one learner: cold (new stack), then re-run (no-op)."""
    out = {}
    for run in ("cold", "noop"):
        cpu = _cpu()
        wall, _ = command(sim, state, "lab", "up", "--lesson", str(LESSON), "--learner", "solo",
                          "--cohort", "bench")
        out[run] = {"wall_s": wall, "cpu_s": _cpu() - cpu}
    return out


def run(sizes: Sequence[int] = (25, 50, 100), parallel: int | None = None,
        baseline: int = 10, out_dir: Path = RESULTS) -> dict:
    console = Console(width=160)
    chain = ensure_toolchain()
    started = time.strftime("%Y-%m-%dT%H:%M:%S")
    with tempfile.TemporaryDirectory(prefix="bench-cohort-") as tmp:
        # The baseline's stacks stay up to the end; each orchestrator cohort is brought down.
        sim = sim_for(max(sizes) + baseline + 1, chain, Path(tmp) / "sim")
        sim.up()
        target = ClusterTarget(sim.kubeconfig_path, None, "sim")
        try:
            lab = lab_up_times(sim, Path(tmp) / "lab")
            base_wall, base_cpu = measure(lambda: plain_pulumi_up(
                specs_for("plain", baseline), target, chain, Path(tmp) / "plain"))
            rows = []
            for size in sizes:
                orch = orchestrate(size, sim, target, Path(tmp) / f"orch-{size}" / "state",
                                   parallel)
                measured = size == baseline
                seq = {"wall_s": base_wall * size / baseline,
                       "cpu_per_learner": base_cpu / baseline,
                       "wall_per_learner": base_wall / baseline,
                       "extrapolated_from": None if measured else baseline}
                rows.append({"learners": size, "orchestrator": orch,
                             "sequential_pulumi_up": seq,
                             "speedup_wall": seq["wall_s"] / orch["wall_s"]})
                console.print(f"{size} learners: {orch['wall_s']:.0f} s, "
                              f"{orch['cpu_per_learner']:.2f} CPU s per learner")
        finally:
            sim.down()
    doc = {"lesson": LESSON, "cores": os.cpu_count(), "started": started, "rows": rows,
           "baseline": {"learners": baseline, "wall_s": base_wall, "cpu_s": base_cpu},
           "lab_up": lab,
           "command": f"invoke bench cohort --learners {','.join(map(str, sizes))}"
                      + (f" --parallel {parallel}" if parallel else "")
                      + (f" --baseline {baseline}" if baseline != 10 else "")}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "cohort.json").write_text(json.dumps(doc, indent=2))
    chart(doc, out_dir / "cohort.png")
    console.print(table(doc))
    return doc


def table(doc: dict) -> Table:
    t = Table(title=f"Cohort provisioning, lesson {doc['lesson']}, simulated cluster, "
                    f"{doc['cores']} cores")
    for col in ("learners", "pool", "wall s to all Ready (per learner)", "CPU s / learner",
                "cluster CPU s / learner", "status s", "down s",
                "sequential pulumi up wall s (per learner)", "CPU s / learner",
                "wall ratio"):
        t.add_column(col, justify="right")
    for r in doc["rows"]:
        o, b = r["orchestrator"], r["sequential_pulumi_up"]
        source = b["extrapolated_from"]
        note = "" if source is None else f" (extrapolated from {source})"
        t.add_row(str(r["learners"]), str(o["parallel"]),
                  f"{o['wall_s']:.0f} ({o['wall_per_learner']:.1f})",
                  f"{o['cpu_per_learner']:.2f}", f"{o['cluster_cpu_per_learner']:.2f}",
                  f"{o['status_s']:.1f}", f"{o['down_s']:.0f}",
                  f"{b['wall_s']:.0f} ({b['wall_per_learner']:.1f}){note}",
                  f"{b['cpu_per_learner']:.2f}", f"{r['speedup_wall']:.1f}x")
    return t


def chart(doc: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = doc["rows"]
    sizes = [r["learners"] for r in rows]
    fig, (wall, cpu) = plt.subplots(1, 2, figsize=(11, 4))
    wall.plot(sizes, [r["orchestrator"]["wall_s"] for r in rows], marker="o",
              label="prodev-labs orchestrator")
    wall.plot(sizes, [r["sequential_pulumi_up"]["wall_s"] for r in rows], marker="o",
              linestyle="--", label=f"sequential `pulumi up` (measured at "
                                    f"{doc['baseline']['learners']}, extrapolated)")
    wall.axhline(300, color="grey", linewidth=0.8, linestyle=":")
    wall.text(sizes[0], 305, "5 minutes", color="grey", fontsize=8)
    cpu.plot(sizes, [r["orchestrator"]["cpu_per_learner"] for r in rows], marker="o",
             label="orchestrator, client side")
    cpu.plot(sizes, [r["orchestrator"]["cluster_cpu_per_learner"] for r in rows], marker="o",
             label="orchestrator, cluster side")
    cpu.plot(sizes, [r["sequential_pulumi_up"]["cpu_per_learner"] for r in rows],
             marker="o", linestyle="--", label="sequential `pulumi up`, client side")
    cpu.axhline(3, color="grey", linewidth=0.8, linestyle=":")
    wall.set(title="wall seconds until every learner is Ready", xlabel="learners",
             ylabel="s", yscale="log")
    cpu.set(title="CPU seconds per learner", xlabel="learners", ylabel="s", ylim=(0, None))
    wall.legend(fontsize=8)
    cpu.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", default="25,50,100")
    parser.add_argument("--parallel", type=int, default=None,
                        help="the orchestrator's pool (default: sized to the machine)")
    parser.add_argument("--baseline", type=int, default=10,
                        help="learners of the sequential `pulumi up` baseline (measured once)")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile one cohort run of N learners instead")
    parser.add_argument("--profile-name", default="cohort-profile")
    args = parser.parse_args()
    if args.profile:
        from bench.cohort_profile import profile

        profile(args.profile, args.parallel, name=args.profile_name)
    else:
        run(tuple(int(x) for x in args.learners.split(",")), args.parallel, args.baseline)
