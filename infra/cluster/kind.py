"""A kind cluster with kind's local-registry pattern (localhost:5001) and the labs' add-ons,
with or without a container registry.

Image modes: ``upstream`` pulls kind's published node image and the official add-on images
(users with internet); ``offline`` builds everything on this machine (infra/cluster/kind_kit.py:
Debian packages and the Go module proxy only) and never contacts a registry; ``auto`` uses
upstream when the node image is present or can be pulled, else offline. Host quirks are
detected (infra/cluster/kind_host.py) and named in the output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from platformdirs import user_state_dir

from infra.cluster.kind_host import HostQuirks, detect, write_docker_shim
from infra.cluster.toolchain import VERSIONS, Meter

DEFAULT_NAME = "prodev-labs"
CONFIG = Path(__file__).with_name("kind-config.yaml")
REGISTRY = "prodev-labs-registry"
REGISTRY_PORT = 5001
IMAGE_MODES = ("auto", "upstream", "offline")
UPSTREAM_NODE = f"kindest/node:v{VERSIONS.kubernetes}"
UPSTREAM_REGISTRY = "registry:2"

Say = Callable[[str], None]


class KindError(RuntimeError):
    pass


@dataclass(frozen=True)
class Images:
    """Where a cluster's images come from."""

    mode: str  # upstream | offline
    node: str
    registry: str
    addons: dict[str, str]  # add-on name -> image; empty: the add-ons' upstream images
    kind: str  # the kind CLI


def require_docker() -> None:
    if shutil.which("docker") is None:
        raise KindError("the kind driver needs docker (https://docs.docker.com/engine/install/;"
                        " on Debian: apt-get install docker.io)")
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        raise KindError("docker is installed but its engine does not answer: start Docker "
                        "(or use `--driver sim`)")


def kind_cli(say: Say = lambda _: None) -> str:
    """kind on PATH, else the kit's build of it (built here from the Go module proxy)."""
    found = shutil.which("kind")
    if found:
        return found
    from infra.cluster.kind_binaries import kit_recipes
    from infra.cluster.toolchain import ToolchainError, build_go

    try:
        recipe = next(r for r in kit_recipes() if r.name == "kind")
        return str(build_go(recipe, progress=say) / "kind")
    except ToolchainError as exc:
        raise KindError("the kind driver needs kind (`go install sigs.k8s.io/kind@v0.33.0`, "
                        f"or https://kind.sigs.k8s.io/): building it failed: {exc}") from None


def state_dir(name: str) -> Path:
    return Path(os.environ.get("PRODEV_LABS_STATE") or user_state_dir("prodev-labs")) \
        / "kind" / name


def kubeconfig_path(name: str) -> Path:
    return state_dir(name) / "kubeconfig"


def _run(*cmd: str, check: bool = True, stdin: str | None = None,
         env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, input=stdin, check=False, env=env)
    if check and done.returncode != 0:
        raise KindError(f"`{' '.join(cmd[:4])} ...` failed: {done.stderr.strip()[-800:]}")
    return done.stdout


def exists(name: str) -> bool:
    if shutil.which("docker") is None:
        return False
    # kind labels its node containers; asking docker needs no kind binary.
    out = _run("docker", "ps", "-a", "-q", "--filter", f"label=io.x-k8s.kind.cluster={name}",
               check=False)
    return bool(out.strip())


def cluster_config(workers: int, node_image: str | None = None,
                   quirks: HostQuirks | None = None, host_ports: bool = True) -> str:
    """kind-config.yaml plus workers, the node image and what this host needs. Without
    `host_ports` the ingress is not bound to 127.0.0.1:80/443 (a second cluster)."""
    config: dict[str, Any] = yaml.safe_load(CONFIG.read_text())
    if not host_ports:
        for node in config["nodes"]:
            node.pop("extraPortMappings", None)
    config["nodes"] += [{"role": "worker"} for _ in range(workers)]
    if node_image:
        for node in config["nodes"]:
            node["image"] = node_image
    if quirks and quirks.cgroup_v1:
        config.setdefault("kubeadmConfigPatches", []).append(
            "kind: KubeletConfiguration\nfailCgroupV1: false\n")
    if quirks and quirks.privileged_refused:
        config["containerdConfigPatches"].append(
            '[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true')
    return yaml.safe_dump(config, sort_keys=False)


def resolve_images(mode: str, say: Say, meter: Meter | None = None) -> Images:
    """The images for ``mode``; ``auto`` tries the upstream node image first."""
    if mode not in IMAGE_MODES:
        raise KindError(f"unknown image mode {mode!r}: use one of {', '.join(IMAGE_MODES)}")
    if mode in {"auto", "upstream"}:
        present = _run("docker", "image", "inspect", UPSTREAM_NODE, check=False).strip() != "[]"
        if not present:
            say(f"pulling {UPSTREAM_NODE}")
            pulled = subprocess.run(["docker", "pull", UPSTREAM_NODE], capture_output=True,
                                    text=True, check=False, timeout=900)
            present = pulled.returncode == 0
            if not present and mode == "upstream":
                raise KindError(f"cannot pull {UPSTREAM_NODE} ({pulled.stderr.strip()[-200:]}):"
                                " use --images offline to build every image on this machine")
            if not present:
                say(f"{UPSTREAM_NODE} cannot be pulled: building the offline kit instead")
        if present:
            return Images("upstream", UPSTREAM_NODE, UPSTREAM_REGISTRY, {}, kind_cli(say))
    from infra.cluster.kind_kit import ensure_kit

    kit = ensure_kit(say, meter)
    return Images("offline", kit.node_image, kit.names.registry, kit.addon_images,
                  str(kit.kind))


def up(name: str = DEFAULT_NAME, workers: int = 0, images: str = "auto",
       progress: Say = lambda _: None, meter: Meter | None = None,
       host_ports: bool = True) -> Path:
    """Create the cluster, registry and add-ons if missing (idempotent); return the kubeconfig.

    Add-ons (infra/cluster/addons.py): metrics-server for HPAs and Traefik for Ingresses.
    """
    require_docker()
    chosen = resolve_images(images, progress, meter)
    quirks = detect(chosen.node)
    for line in quirks.applied:
        progress(f"host: {line}")
    kubeconfig = kubeconfig_path(name)
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if quirks.privileged_refused:
        real = shutil.which("docker") or "docker"
        shim = write_docker_shim(state_dir(name) / "docker-shim", real)
        env["PATH"] = f"{shim.parent}{os.pathsep}{env.get('PATH', '')}"
    if not exists(name):
        progress(f"creating kind cluster {name} ({1 + workers} node(s), {chosen.mode} images)")
        _run(chosen.kind, "create", "cluster", "--name", name, "--kubeconfig", str(kubeconfig),
             "--wait", "180s", "--config", "-",
             stdin=cluster_config(workers, chosen.node, quirks, host_ports),
             env=env)
    _ensure_registry(chosen.registry, progress)
    nodes = _run("docker", "ps", "-q", "--filter", f"label=io.x-k8s.kind.cluster={name}")
    for node in nodes.split():
        hosts_dir = f"/etc/containerd/certs.d/localhost:{REGISTRY_PORT}"
        _run("docker", "exec", node, "mkdir", "-p", hosts_dir)
        _run("docker", "exec", "-i", node, "cp", "/dev/stdin", f"{hosts_dir}/hosts.toml",
             stdin=f'[host."http://{REGISTRY}:5000"]\n')
    _run(chosen.kind, "export", "kubeconfig", "--name", name, "--kubeconfig", str(kubeconfig),
         env=env)
    from infra.cluster import addons
    from infra.kubeconfig import admin_client

    api = admin_client(kubeconfig)
    addons.apply(api, [{
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "local-registry-hosting", "namespace": "kube-public"},
        "data": {"localRegistryHosting.v1": f'host: "localhost:{REGISTRY_PORT}"\n'}}])
    addons.install(api, progress=progress, images=chosen.addons)
    (state_dir(name) / "cluster.json").write_text(json.dumps({
        "images": chosen.mode, "node_image": chosen.node, "registry_image": chosen.registry,
        "workers": workers, "host": quirks.as_dict(), "host_workarounds": quirks.applied,
    }, indent=2))
    return kubeconfig


def _ensure_registry(image: str, progress: Say) -> None:
    running = _run("docker", "ps", "-q", "-f", f"name=^{REGISTRY}$", check=False).strip()
    if not running:
        _run("docker", "rm", "-f", "-v", REGISTRY, check=False)
        progress(f"starting the local registry {REGISTRY} (localhost:{REGISTRY_PORT})")
        _run("docker", "run", "-d", "--restart=always", "-p",
             f"127.0.0.1:{REGISTRY_PORT}:5000", "--network", "bridge", "--name", REGISTRY,
             image)
    attached = _run("docker", "inspect", "-f", "{{json .NetworkSettings.Networks}}", REGISTRY)
    if '"kind"' not in attached:
        _run("docker", "network", "connect", "kind", REGISTRY)


def recorded(name: str) -> dict[str, Any]:
    """What `cluster up` recorded: image mode, node image, host workarounds."""
    path = state_dir(name) / "cluster.json"
    return json.loads(path.read_text()) if path.is_file() else {}


def down(name: str = DEFAULT_NAME) -> list[str]:
    """Delete the cluster, the registry (when no other kind cluster uses it) and the kind
    network; return what is left (empty)."""
    require_docker()
    containers = _run("docker", "ps", "-a", "-q", "--filter",
                      f"label=io.x-k8s.kind.cluster={name}").split()
    every_node = _run("docker", "ps", "-a", "-q", "--filter", "label=io.x-k8s.kind.cluster")
    if set(every_node.split()) <= set(containers):
        containers += _run("docker", "ps", "-a", "-q", "-f", f"name=^{REGISTRY}$").split()
    volumes = [v for c in containers for v in _run(
        "docker", "inspect", "-f", "{{range .Mounts}}{{.Name}} {{end}}", c,
        check=False).split()]
    for cid in containers:
        _run("docker", "rm", "-f", "-v", cid)
    others = _run("docker", "ps", "-a", "-q", "--filter", "network=kind").strip()
    if not others:
        _run("docker", "network", "rm", "kind", check=False)
    shutil.rmtree(state_dir(name), ignore_errors=True)
    left = [f"volume {v}" for v in volumes
            if subprocess.run(["docker", "volume", "inspect", v], capture_output=True,
                              check=False).returncode == 0]
    return leftovers(name) + left


def leftovers(name: str = DEFAULT_NAME) -> list[str]:
    """Containers, networks and volumes of the cluster still present."""
    left = [f"container {c}" for c in _run(
        "docker", "ps", "-a", "-q", "--filter", f"label=io.x-k8s.kind.cluster={name}").split()]
    if not _run("docker", "ps", "-a", "-q", "--filter", "label=io.x-k8s.kind.cluster").strip():
        left += [f"container {c}" for c in  # shared: left only once no cluster uses it
                 _run("docker", "ps", "-a", "-q", "-f", f"name=^{REGISTRY}$").split()]
    if not _run("docker", "ps", "-a", "-q", "--filter", "network=kind").strip():
        left += [f"network {n}" for n in
                 _run("docker", "network", "ls", "-q", "-f", "name=^kind$").split()]
    return left
