"""Fixtures shared by every tier.

``sim_cluster`` (session scope) is the e2e tier's Kubernetes: a real control plane on 127.0.0.1
with kwok-simulated nodes, started once per test session and stopped at its end. The toolchain
is built on first use (cold: tens of minutes; warm: a stamp check), never skipped.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def toolchain():
    """The offline Pulumi + Kubernetes toolchain (built into the user cache if missing)."""
    from infra.cluster.toolchain import ensure_toolchain

    return ensure_toolchain(progress=lambda msg: print(f"[toolchain] {msg}", flush=True))


@pytest.fixture(scope="session")
def sim_cluster(toolchain, tmp_path_factory) -> Iterator:
    """A 2-node simulated cluster (``infra.cluster.sim.SimCluster``), up for the session.

    Its admin kubeconfig is ``sim_cluster.kubeconfig_path``; ``toolchain.env()`` runs pulumi
    offline against it. State lives under pytest's tmp dir, so it never touches a user's cluster.
    """
    from infra.cluster.sim import SimCluster

    cluster = SimCluster(name=f"e2e-{os.getpid()}", nodes=2, node_cpu="16", node_memory="64Gi",
                         toolchain=toolchain, root=tmp_path_factory.mktemp("sim-state"))
    try:
        cluster.up(progress=lambda msg: print(f"[sim] {msg}", flush=True))
        yield cluster
    finally:
        cluster.down()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The kind tier runs last: its one cluster (below) then never loads the other tiers."""
    items.sort(key=lambda item: item.get_closest_marker("kind") is not None)


@pytest.fixture(scope="session")
def kind_cluster() -> Iterator:
    """A real single-node kind cluster from the offline kit (built on first use), with the
    local registry and the add-ons, shared by the kind tier (which runs last). Deleted at
    the end, failing if anything of it (container, volume, network) is left behind."""
    from infra.cluster import kind
    from tests.infra.kind_support import KindCluster

    # PRODEV_KIND_TIER_CLUSTER=<name>: use (and keep) a cluster of that name, for working on
    # one test file against a cluster that is already up.
    kept = os.environ.get("PRODEV_KIND_TIER_CLUSTER")
    name = kept or f"kind-tier-{os.getpid()}"
    saved = os.environ.get("PRODEV_LABS_STATE")
    if not kept:
        # A state directory of the run's own (the cluster's kubeconfig, every lab's Pulumi
        # stack), shared with the commands the tests run: no stack of an earlier run points
        # at objects of a cluster that is gone.
        os.environ["PRODEV_LABS_STATE"] = tempfile.mkdtemp(prefix="kind-tier-state-")
    try:
        yield KindCluster.start(name=name)
    finally:
        if not kept:
            left = kind.down(name)
            shutil.rmtree(os.environ["PRODEV_LABS_STATE"], ignore_errors=True)
            if saved is None:
                os.environ.pop("PRODEV_LABS_STATE", None)
            else:
                os.environ["PRODEV_LABS_STATE"] = saved
            assert not left, f"kind cluster left behind: {left}"
