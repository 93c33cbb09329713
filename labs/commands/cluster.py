"""`invoke cluster ...`: the local cluster (simulated, or kind) a lab runs on."""

from __future__ import annotations

import json

from rich.console import Console
from rich.table import Table

from infra.cluster import kind
from infra.cluster.sim import SimCluster, SimClusterError
from infra.cluster.target import DEFAULT_SIM
from labs.commands.build_display import BuildBar

console = Console(stderr=True)
DRIVERS = ("sim", "kind")


def up(driver: str, name: str | None, nodes: int, node_cpu: str, node_memory: str,
       workers: int, images: str = "auto") -> int:
    if driver == "kind":
        cluster = name or kind.DEFAULT_NAME
        with BuildBar(console, "the offline kind kit") as bar:
            path = kind.up(cluster, workers=workers, images=images,
                           progress=lambda m: console.log(m), meter=bar)
        info = kind.recorded(cluster)
        console.print(f"[bold green]kind cluster {cluster} up[/] ({info.get('images')} images;"
                      f" registry localhost:{kind.REGISTRY_PORT})")
        for line in info.get("host_workarounds", []):
            console.print(f"  host workaround: {line}")
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
        left = kind.down(name or kind.DEFAULT_NAME)
        if left:
            console.print(f"[red]left behind:[/] {', '.join(left)}")
            return 1
    else:
        SimCluster(name=name or DEFAULT_SIM).down(progress=console.log)
    console.print(f"cluster {name or DEFAULT_SIM} down")
    return 0


def build_kit() -> int:
    from infra.cluster.kind_kit import ensure_kit

    kind.require_docker()
    with BuildBar(console, "the offline kind kit") as bar:
        built = ensure_kit(say=console.log, meter=bar)
    console.print(f"[bold green]kind kit ready[/]: node image {built.node_image}, kind "
                  f"{built.kind}")
    return 0


def status(driver: str, name: str | None, as_json: bool) -> int:
    if driver == "kind":
        from infra.cluster.kind_status import kind_status

        st = kind_status(name or kind.DEFAULT_NAME)
        if as_json:
            print(json.dumps(st, indent=2))
        else:
            Console().print(kind_status_table(st))
        return 0 if st["running"] and st["nodes_ready"] == st["nodes_total"] else 1
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


def kind_status_table(st: dict) -> Table:
    table = Table(title=f"kind cluster {st['name']}: "
                        f"{'running' if st['running'] else 'absent'} ({st.get('images')} "
                        "images)", title_justify="left")
    for col in ("what", "name", "ready"):
        table.add_column(col)
    for node in st["nodes"]:
        table.add_row("node", node["name"], "[green]Ready[/]" if node["ready"] else "[red]no[/]")
    for addon in st["addons"]:
        table.add_row("add-on", addon["name"], f"{addon['ready']}/{addon['desired']}")
    table.add_row("registry", f"localhost:{kind.REGISTRY_PORT}",
                  "[green]running[/]" if st["registry_running"] else "[red]no[/]")
    for line in st.get("host_workarounds", []):
        table.add_row("host", line, "")
    return table
