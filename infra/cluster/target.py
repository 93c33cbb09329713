"""Which cluster a command works on, and why: --context, a running local cluster, or a new one.

With no --context, the embedded default is used: the simulated cluster when it is already up,
else kind where a Docker engine answers and kind is installed (or the local kind cluster
exists), else a new simulated cluster.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from infra.automation import ClusterTarget

DEFAULT_SIM = "prodev-labs"


class NoClusterError(RuntimeError):
    """Nothing to work on: no --context and no local cluster running."""


@dataclass(frozen=True)
class Choice:
    target: ClusterTarget
    reason: str


def user_kubeconfig() -> Path:
    first = os.environ.get("KUBECONFIG", "").split(os.pathsep)[0]
    return Path(first) if first else Path.home() / ".kube" / "config"


def docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    return probe.returncode == 0


def _kind_cluster_exists(name: str | None = None) -> bool:
    """A kind cluster made by `invoke cluster up --driver kind` exists (with its kubeconfig),
    whether or not kind is on PATH: the offline kit keeps its own kind binary."""
    from infra.cluster import kind

    name = name or kind.DEFAULT_NAME
    return kind.kubeconfig_path(name).is_file() and kind.exists(name)


def choose(context: str | None, *, start: bool = True) -> Choice:
    """The target for this command; starts the embedded default cluster when `start`."""
    if context:
        kind_name = context.removeprefix("kind-")
        if context.startswith("kind-") and _kind_cluster_exists(kind_name):
            from infra.cluster import kind

            # kind's own context name: its kubeconfig, and images as the cluster was made.
            return Choice(ClusterTarget(kind.kubeconfig_path(kind_name), context, "kind"),
                          f"the kind cluster {kind_name} (--context {context})")
        return Choice(ClusterTarget(user_kubeconfig(), context, "external"),
                      f"context {context} of {user_kubeconfig()} (--context)")
    from infra.cluster.sim import SimCluster

    sim = SimCluster(DEFAULT_SIM)
    if sim.status().running:
        return Choice(ClusterTarget(sim.kubeconfig_path, None, "sim"),
                      "the simulated cluster is running (containers are simulated)")
    if docker_answers() and (shutil.which("kind") or _kind_cluster_exists()):
        from infra.cluster import kind

        if start:
            kind.up(kind.DEFAULT_NAME)
        elif not kind.exists(kind.DEFAULT_NAME):
            raise NoClusterError(f"the kind cluster {kind.DEFAULT_NAME} does not exist: "
                                 "`invoke lab up --lesson N` creates it")
        why = "kind is installed" if shutil.which("kind") else "it exists"
        return Choice(ClusterTarget(kind.kubeconfig_path(kind.DEFAULT_NAME), None, "kind"),
                      f"Docker answers and {why}: the local kind cluster {kind.DEFAULT_NAME}")
    if not start:
        raise NoClusterError("no cluster is running: `invoke lab up --lesson N` creates the "
                             "local one, or pass --context to use a cluster of your kubeconfig")
    sim.up()
    return Choice(ClusterTarget(sim.kubeconfig_path, None, "sim"),
                  "no --context, no Docker engine: a simulated cluster on 127.0.0.1 "
                  "(real API server, simulated containers)")
