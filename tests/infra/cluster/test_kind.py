"""The kind driver's preconditions and config (no Docker engine runs on the test machines)."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from infra.cluster import kind

pytestmark = pytest.mark.unit


def test_missing_docker_and_kind_are_named_with_how_to_install(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kind.shutil, "which", lambda _: None)
    with pytest.raises(kind.KindError) as err:
        kind.require_tools()
    text = str(err.value)
    assert "docker (https://docs.docker.com/engine/install/)" in text
    assert "go install sigs.k8s.io/kind@latest" in text


def test_a_stopped_docker_engine_is_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kind.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(kind.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(
        a, 1, b"", b"Cannot connect to the Docker daemon"))
    with pytest.raises(kind.KindError, match="engine does not answer.*--driver sim"):
        kind.require_tools()


def test_config_adds_workers_and_keeps_the_ingress_node() -> None:
    config = yaml.safe_load(kind.cluster_config(workers=2))
    roles = [n["role"] for n in config["nodes"]]
    assert roles == ["control-plane", "worker", "worker"]
    control = config["nodes"][0]
    assert "ingress-ready=true" in control["kubeadmConfigPatches"][0]
    assert {m["hostPort"] for m in control["extraPortMappings"]} == {80, 443}
    assert config["networking"]["disableDefaultCNI"] is False  # kindnet enforces policies


def test_cluster_up_without_tools_exits_1_with_the_reason(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from labs.commands import cluster

    monkeypatch.setattr(kind.shutil, "which", lambda _: None)
    assert cluster.up("kind", None, 3, "16", "64Gi", 0) == 1
    assert "the kind driver needs docker" in capsys.readouterr().err
