"""Helpers for the e2e tier: an Engine on the offline toolchain with state in a temp dir."""

from __future__ import annotations

from pathlib import Path

from infra.automation import ClusterTarget, Engine, StatePaths


def engine_for(toolchain, state: Path) -> Engine:
    return Engine.from_toolchain(toolchain, StatePaths(state))


def target_for(sim_cluster) -> ClusterTarget:
    return ClusterTarget(sim_cluster.kubeconfig_path, None, "sim")
