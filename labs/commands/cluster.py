"""`invoke cluster ...`: the local cluster (simulated, or kind) a lab runs on."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from infra.cluster import kind
from infra.cluster.sim import SimCluster, SimClusterError
from infra.cluster.target import DEFAULT_SIM

console = Console(stderr=True)
DRIVERS = ("sim", "kind")


def up(driver: str, name: str | None, nodes: int, node_cpu: str, node_memory: str,
       workers: int) -> int:
    if driver == "kind":
        try:
            with console.status("starting kind cluster") as spinner:
                path = kind.up(name or kind.DEFAULT_NAME, workers=workers,
                               progress=lambda m: (spinner.update(m), console.log(m)))
        except (kind.KindError, TimeoutError) as exc:
            console.print(f"[red]error:[/] {exc}")
            return 1
        print(f"export KUBECONFIG={path}")
        return 0
    from labs.commands.build_display import ensure_toolchain_shown

    sim = SimCluster(name=name or DEFAULT_SIM, nodes=nodes, node_cpu=node_cpu,
                     node_memory=node_memory, toolchain=ensure_toolchain_shown(console))
    try:
        with console.status("starting cluster") as spinner:
            st = sim.up(progress=lambda m: (spinner.update(m), console.log(m)))
    except SimClusterError as exc:
        console.print(f"[red]error:[/] {exc}")
        return 1
    console.print(f"[bold green]cluster {st.name} up[/]: {st.nodes_ready}/{st.nodes_total} "
                  f"nodes Ready, API {st.server}")
    console.print(f"[yellow]{st.notice}[/]")
    print(f"export KUBECONFIG={st.kubeconfig}")
    return 0


def down(driver: str, name: str | None) -> int:
    if driver == "kind":
        try:
            kind.down(name or kind.DEFAULT_NAME)
        except kind.KindError as exc:
            console.print(f"[red]error:[/] {exc}")
            return 1
    else:
        SimCluster(name=name or DEFAULT_SIM).down(progress=console.log)
    console.print(f"cluster {name or DEFAULT_SIM} down")
    return 0


def status(driver: str, name: str | None, as_json: bool) -> int:
    if driver == "kind":
        present = kind.exists(name or kind.DEFAULT_NAME)
        console.print(f"kind cluster {name or kind.DEFAULT_NAME}: "
                      f"{'running' if present else 'absent'}")
        return 0 if present else 1
    st = SimCluster(name=name or DEFAULT_SIM).status()
    if as_json:
        print(json.dumps(st.to_dict(), indent=2))
        return 0 if st.running else 1
    table = Table(title=f"cluster {st.name} (sim): {'running' if st.running else 'down'}")
    for col in ("component", "pid", "running", "log"):
        table.add_column(col)
    for comp in st.components:
        table.add_row(comp.name, str(comp.pid or "-"), "yes" if comp.running else "no", comp.log)
    Console().print(table)
    console.print(f"API {st.server or '-'}; nodes Ready {st.nodes_ready}/{st.nodes_total}; "
                  f"kubeconfig {st.kubeconfig}")
    console.print(f"[yellow]{st.notice}[/]")
    return 0 if st.running else 1
