"""Benchmark: provisioning a cohort on the simulated cluster (not a test; prints figures).

For each cohort size it measures wall seconds and CPU seconds per learner for
  - the project's orchestrator (infra.cohort: inline programs, a bounded pool), and
  - the baseline, in the same run: a sequential loop of plain `pulumi up` per learner
    (one project directory and stack each, the CLI and its Python language host).
Writes bench/results/cohort.json and cohort.png and prints a table with the ratios.

    python -m bench.cohort --learners 5,10        (or: invoke bench cohort --learners 5,10)
    python -m bench.cohort --profile 10           (where a learner's CPU goes: a table)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table

from infra import cohort as runner
from infra.automation import ClusterTarget, Engine, StatePaths, ensure_passphrase
from infra.cluster.sim import SimCluster
from infra.cluster.toolchain import Toolchain, ensure_toolchain
from infra.program import CONFIG_NAMESPACE
from labs import secrets as lab_secrets
from labs.spec import LabSpec, build_spec, to_config

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LESSON = 4


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


def run(sizes: Sequence[int] = (5, 10), parallel: int = 4, out_dir: Path = RESULTS) -> dict:
    console = Console(width=140)
    chain = ensure_toolchain()
    # Every learner of both variants stays up until the end (baseline stacks are not torn
    # down), each with two volume claims.
    total = sum(sizes) * 2
    with tempfile.TemporaryDirectory(prefix="bench-cohort-") as tmp:
        sim = SimCluster(name="bench", nodes=max(3, total // 8), node_cpu="32",
                         node_memory="128Gi", volumes=total * 2 + 8, toolchain=chain,
                         root=Path(tmp) / "sim")
        sim.up()
        target = ClusterTarget(sim.kubeconfig_path, None, "sim")
        try:
            rows = []
            for size in sizes:
                engine = Engine.from_toolchain(chain, StatePaths(Path(tmp) / f"orch-{size}"))
                specs = specs_for(f"o{size}", size)
                results: list = []
                wall, cpu = measure(lambda s=specs, e=engine, r=results: r.extend(
                    runner.run("up", s, target, e, parallel=parallel)))
                failed = [r.error for r in results if not r.ok]
                if failed:
                    raise RuntimeError(f"orchestrator run failed: {failed[0]}")
                base_specs = specs_for(f"p{size}", size)
                base_wall, base_cpu = measure(lambda s=base_specs, n=size: plain_pulumi_up(
                    s, target, chain, Path(tmp) / f"plain-{n}"))
                rows.append({"learners": size,
                             "orchestrator": {"wall_s": wall, "cpu_s": cpu,
                                              "wall_per_learner": wall / size,
                                              "cpu_per_learner": cpu / size},
                             "sequential_pulumi_up": {"wall_s": base_wall, "cpu_s": base_cpu,
                                                      "wall_per_learner": base_wall / size,
                                                      "cpu_per_learner": base_cpu / size},
                             "speedup_wall": base_wall / wall})
                runner.run("down", specs, target, engine, parallel=parallel)
                sim.replenish_volumes()
        finally:
            sim.down()
    doc = {"lesson": LESSON, "parallel": parallel, "cores": os.cpu_count(), "rows": rows,
           "command": f"invoke bench cohort --learners {','.join(map(str, sizes))} "
                      f"--parallel {parallel}"}
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "cohort.json").write_text(json.dumps(doc, indent=2))
    chart(doc, out_dir / "cohort.png")
    console.print(table(doc))
    return doc


def table(doc: dict) -> Table:
    t = Table(title=f"Cohort provisioning, lesson {doc['lesson']}, simulated cluster, "
                    f"{doc['cores']} cores")
    for col in ("learners", "orchestrator: wall s (per learner)", "CPU s / learner",
                "sequential pulumi up: wall s (per learner)", "CPU s / learner",
                "wall ratio"):
        t.add_column(col, justify="right")
    for r in doc["rows"]:
        o, b = r["orchestrator"], r["sequential_pulumi_up"]
        t.add_row(str(r["learners"]), f"{o['wall_s']:.0f} ({o['wall_per_learner']:.1f})",
                  f"{o['cpu_per_learner']:.1f}",
                  f"{b['wall_s']:.0f} ({b['wall_per_learner']:.1f})",
                  f"{b['cpu_per_learner']:.1f}", f"{r['speedup_wall']:.2f}x")
    return t


def chart(doc: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["learners"] for r in doc["rows"]]
    fig, (wall, cpu) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("orchestrator", "prodev-labs orchestrator"),
                       ("sequential_pulumi_up", "sequential `pulumi up`")):
        wall.plot(sizes, [r[key]["wall_s"] for r in doc["rows"]], marker="o", label=label)
        cpu.plot(sizes, [r[key]["cpu_per_learner"] for r in doc["rows"]], marker="o",
                 label=label)
    wall.set(title="wall seconds for the cohort", xlabel="learners", ylabel="s")
    cpu.set(title="CPU seconds per learner", xlabel="learners", ylabel="s")
    wall.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", default="5,10")
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="profile one cohort run of N learners instead")
    parser.add_argument("--profile-name", default="cohort-profile")
    args = parser.parse_args()
    if args.profile:
        from bench.cohort_profile import profile

        profile(args.profile, args.parallel, name=args.profile_name)
    else:
        run(tuple(int(x) for x in args.learners.split(",")), args.parallel)
