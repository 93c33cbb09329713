"""The kind driver's preconditions, config, host workarounds and image recipes (no engine)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from infra.cluster import kind, kind_host
from infra.cluster import kind_images as img

pytestmark = pytest.mark.unit


def test_missing_docker_is_named_with_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kind.shutil, "which", lambda _: None)
    with pytest.raises(kind.KindError) as err:
        kind.require_docker()
    assert "docker (https://docs.docker.com/engine/install/" in str(err.value)
    assert "apt-get install docker.io" in str(err.value)


def test_a_stopped_docker_engine_is_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kind.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(kind.subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(
        a, 1, b"", b"Cannot connect to the Docker daemon"))
    with pytest.raises(kind.KindError, match="engine does not answer.*--driver sim"):
        kind.require_docker()


def test_config_adds_workers_and_keeps_the_ingress_node() -> None:
    config = yaml.safe_load(kind.cluster_config(workers=2))
    roles = [n["role"] for n in config["nodes"]]
    assert roles == ["control-plane", "worker", "worker"]
    control = config["nodes"][0]
    assert "ingress-ready=true" in control["kubeadmConfigPatches"][0]
    assert {m["hostPort"] for m in control["extraPortMappings"]} == {80, 443}
    assert config["networking"]["disableDefaultCNI"] is False  # the node image's CNI applies


def test_config_carries_the_node_image_and_only_the_workarounds_this_host_needs() -> None:
    plain = yaml.safe_load(kind.cluster_config(1, "local/node:1",
                                               kind_host.HostQuirks(False, False)))
    assert {n["image"] for n in plain["nodes"]} == {"local/node:1"}
    patches = [yaml.safe_load(p) for p in plain["kubeadmConfigPatches"]]
    # A class on one host: more pods than kubelet's default 110, no host workaround.
    assert patches == [{"kind": "KubeletConfiguration", "maxPods": 250}]
    assert not any("restrict_oom" in p for p in plain["containerdConfigPatches"])

    quirky = yaml.safe_load(kind.cluster_config(0, "local/node:1",
                                                kind_host.HostQuirks(True, True)))
    patches = [yaml.safe_load(p) for p in quirky["kubeadmConfigPatches"]]
    assert {"kind": "KubeletConfiguration", "failCgroupV1": False} in patches
    assert any("restrict_oom_score_adj = true" in p for p in quirky["containerdConfigPatches"])


def test_host_workarounds_are_named() -> None:
    assert kind_host.HostQuirks(False, False).applied == []
    lines = kind_host.HostQuirks(True, True).applied
    assert any("failCgroupV1: false" in line for line in lines)
    assert any("CAP_SYS_RESOURCE" in line for line in lines)
    assert any("restrict_oom_score_adj" in line for line in lines)


@pytest.fixture
def shim(tmp_path: Path) -> Path:
    echo = tmp_path / "real-docker"
    echo.write_text('#!/bin/sh\nfor a in "$@"; do printf "%s\\n" "$a"; done\n')
    echo.chmod(0o755)
    return kind_host.write_docker_shim(tmp_path / "shim", str(echo))


def _through(shim: Path, *args: str) -> list[str]:
    return subprocess.run([str(shim), *args], capture_output=True, text=True,
                          check=True).stdout.splitlines()


def test_docker_shim_swaps_privileged_for_the_capability_set_in_run(shim: Path) -> None:
    out = _through(shim, "run", "--privileged", "--name", "n 1", "img")
    assert "--privileged" not in out
    assert out[:2] == ["run", "--cap-add=ALL"]
    assert "--cap-drop=SYS_RESOURCE" in out and "a *:* rwm" in out
    assert "PRODEV_REMOUNT_CGROUPS=1" in out
    assert out[-3:] == ["--name", "n 1", "img"]  # arguments with spaces stay whole


def test_docker_shim_drops_privileged_from_exec_and_passes_the_rest(shim: Path) -> None:
    assert _through(shim, "exec", "--privileged", "node", "cat", "/x") == [
        "exec", "node", "cat", "/x"]
    assert _through(shim, "ps", "-a") == ["ps", "-a"]


def test_unknown_image_mode_is_refused() -> None:
    with pytest.raises(kind.KindError, match="unknown image mode 'cloud'"):
        kind.resolve_images("cloud", lambda _: None)


def test_image_recipe_is_tagged_by_content(tmp_path: Path) -> None:
    binary = tmp_path / "tool"
    binary.write_bytes(b"v1")
    recipe = img.ImageRecipe(("x/tool:1",), "scratch", ((binary, "/usr/local/bin/tool"),),
                             ("/usr/local/bin/tool",))
    text = recipe.dockerfile()
    assert text.startswith("FROM scratch\nCOPY f0 /usr/local/bin/tool\n")
    assert 'ENTRYPOINT ["/usr/local/bin/tool"]' in text
    before = recipe.content_tag()
    binary.write_bytes(b"v2")
    assert recipe.content_tag() != before


def test_preloaded_names_are_what_kubeadm_asks_for() -> None:
    names = img.NAMES
    assert names.control_plane("kube-apiserver") == "registry.k8s.io/kube-apiserver:v1.35.4"
    assert names.etcd == "registry.k8s.io/etcd:3.6.6-0"
    assert names.coredns == "registry.k8s.io/coredns/coredns:v1.13.1"
    assert "registry.k8s.io/pause:3.10" in names.pause
    assert all(":latest" not in r for r in (names.traefik, names.registry,
                                            names.metrics_server, names.kube_router))


def test_containerd_names_short_refs_under_docker_io() -> None:
    assert img._same_ref("prodev-labs/x:1", "docker.io/prodev-labs/x:1")
    assert img._same_ref("registry.k8s.io/pause:3.10", "registry.k8s.io/pause:3.10")
    assert not img._same_ref("prodev-labs/x:1", "docker.io/prodev-labs/x:2")
