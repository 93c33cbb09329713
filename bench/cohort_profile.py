"""`invoke bench cohort --profile N`: where the CPU of a cohort run goes, per learner.

One cohort run of N learners of lesson 4 on a fresh simulated cluster, under bench.profile's
Ledger; prints the table the README shows and writes bench/results/<name>.json.
"""

from __future__ import annotations

import json
import os
import ssl
import tempfile
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.cohort import LESSON, RESULTS, sim_for, specs_for
from bench.profile import Ledger, secrets_cost
from infra import cohort as runner
from infra.automation import ClusterTarget, Engine, StatePaths
from infra.cluster.toolchain import ensure_toolchain


def profile(learners: int = 10, parallel: int | None = None, out_dir: Path = RESULTS,
            name: str = "cohort-profile") -> dict:
    console = Console(width=160)
    chain = ensure_toolchain()
    pool = parallel or runner.default_parallel(learners)
    with tempfile.TemporaryDirectory(prefix="bench-profile-") as tmp:
        sim = sim_for(learners, chain, Path(tmp) / "sim", name="profile")
        sim.up()
        target = ClusterTarget(sim.kubeconfig_path, None, "sim")
        engine = Engine.from_toolchain(chain, StatePaths(Path(tmp) / "state"))
        specs = specs_for("prof", learners)
        try:
            pids = {c.name: c.pid for c in sim.status().components if c.pid}
            pki = sim.state_dir / "pki"
            tls = ssl.create_default_context(cafile=str(pki / "ca.crt"))
            tls.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
            with Ledger(cluster=pids, metrics_url=f"{sim.server}/metrics", tls=tls) as ledger:
                results = runner.run("up", specs, target, engine, parallel=pool)
            failed = [r.error for r in results if not r.ok]
            if failed:
                raise RuntimeError(f"profiled run failed: {failed[0]}")
            doc = ledger.report(learners)
            options = engine.workspace_options(specs[0])
            doc["secrets_manager_cpu_per_open"] = secrets_cost(
                chain.pulumi, Path(options.work_dir), options.env_vars, specs[0].stack_name)
            doc |= {"lesson": LESSON, "parallel": pool, "cores": os.cpu_count(),
                    "command": f"invoke bench cohort --profile {learners}"
                               + (f" --parallel {parallel}" if parallel else "")}
            runner.run("down", specs, target, engine, parallel=pool)
        finally:
            sim.down()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / f"{name}.json").write_text(json.dumps(doc, indent=2))
    console.print(profile_table(doc))
    return doc


def profile_table(doc: dict) -> Table:
    t = Table(title=f"CPU seconds per learner, lesson {doc['lesson']}, {doc['learners']} "
                    f"learners, pool of {doc['parallel']}, {doc['cores']} cores "
                    f"(wall {doc['wall_s']:.0f} s)")
    for col, justify in (("process", "left"), ("why", "left"), ("calls", "right"),
                         ("CPU s / call", "right"), ("CPU s / learner", "right")):
        t.add_column(col, justify=justify)
    for row in doc["cli"]:
        t.add_row(row["command"], row["why"], f"{row['calls_per_learner']:.1f}",
                  f"{row['cpu_per_call']:.2f}", f"{row['cpu_per_learner']:.2f}")
    for name, cpu in doc["plugins"].items():
        t.add_row(name, "plugin of `pulumi up` (its own process)", "", "", f"{cpu:.2f}")
    python = dict(doc["python"])
    total = python.pop("total")
    t.add_row("python (this process)", "Automation API, language server, inline program", "",
              "", f"{total:.2f}")
    for name, cpu in python.items():
        t.add_row(f"  {name}", "", "", "", f"{cpu:.2f}")
    t.add_row("[bold]client total[/]", "", "", "", f"[bold]{doc['client_cpu_per_learner']:.2f}[/]")
    t.add_row("  of which: secrets manager", "PBKDF2 (1M rounds) in each CLI that opens it",
              "", f"{doc['secrets_manager_cpu_per_open']:.2f}", "")
    for name, cpu in doc["cluster"].items():
        t.add_row(name, "cluster side", "", "", f"{cpu:.2f}")
    t.add_row("[bold]cluster total[/]", "", "", "",
              f"[bold]{doc['cluster_cpu_per_learner']:.2f}[/]")
    return t
