"""A kind cluster with kind's documented local registry (localhost:5001), for laptops.

Needs a Docker engine and the kind CLI; each missing piece is a clear error saying how to
install it.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import yaml
from platformdirs import user_state_dir

DEFAULT_NAME = "prodev-labs"
CONFIG = Path(__file__).with_name("kind-config.yaml")
REGISTRY = "prodev-labs-registry"
REGISTRY_PORT = 5001


class KindError(RuntimeError):
    pass


def require_tools() -> None:
    missing = []
    if shutil.which("docker") is None:
        missing.append("docker (https://docs.docker.com/engine/install/)")
    if shutil.which("kind") is None:
        missing.append("kind (`go install sigs.k8s.io/kind@latest`, or "
                       "https://kind.sigs.k8s.io/docs/user/quick-start/#installation)")
    if missing:
        raise KindError("the kind driver needs " + " and ".join(missing))
    if subprocess.run(["docker", "info"], capture_output=True, check=False).returncode != 0:
        raise KindError("docker is installed but its engine does not answer: start Docker "
                        "(or use `--driver sim`)")


def kubeconfig_path(name: str) -> Path:
    return Path(user_state_dir("prodev-labs")) / "kind" / name / "kubeconfig"


def _run(*cmd: str, check: bool = True, stdin: str | None = None) -> str:
    done = subprocess.run(cmd, capture_output=True, text=True, input=stdin, check=False)
    if check and done.returncode != 0:
        raise KindError(f"{' '.join(cmd)} failed: {done.stderr.strip()[-800:]}")
    return done.stdout


def exists(name: str) -> bool:
    return name in _run("kind", "get", "clusters", check=False).split()


def cluster_config(workers: int) -> str:
    config = yaml.safe_load(CONFIG.read_text())
    config["nodes"] += [{"role": "worker"} for _ in range(workers)]
    return yaml.safe_dump(config, sort_keys=False)


def up(name: str = DEFAULT_NAME, workers: int = 0,
       progress: Callable[[str], None] = lambda _: None) -> Path:
    """Create the cluster, registry and add-ons if missing (idempotent); return the kubeconfig.

    Add-ons (infra/cluster/addons.py): metrics-server for HPAs and Traefik for Ingresses.
    """
    require_tools()
    kubeconfig = kubeconfig_path(name)
    kubeconfig.parent.mkdir(parents=True, exist_ok=True)
    if not _run("docker", "ps", "-q", "-f", f"name=^{REGISTRY}$", check=False).strip():
        _run("docker", "run", "-d", "--restart=always", "-p",
             f"127.0.0.1:{REGISTRY_PORT}:5000", "--network", "bridge", "--name", REGISTRY,
             "registry:2")
    if not exists(name):
        _run("kind", "create", "cluster", "--name", name, "--kubeconfig", str(kubeconfig),
             "--config", "-", stdin=cluster_config(workers))
    # kind's local-registry pattern: each node resolves localhost:5001 to the registry.
    for node in _run("kind", "get", "nodes", "--name", name).split():
        hosts_dir = f"/etc/containerd/certs.d/localhost:{REGISTRY_PORT}"
        _run("docker", "exec", node, "mkdir", "-p", hosts_dir)
        _run("docker", "exec", "-i", node, "cp", "/dev/stdin", f"{hosts_dir}/hosts.toml",
             stdin=f'[host."http://{REGISTRY}:5000"]\n')
    _run("docker", "network", "connect", "kind", REGISTRY, check=False)
    _run("kubectl", "--kubeconfig", str(kubeconfig), "apply", "-f", "-", stdin=yaml.safe_dump({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "local-registry-hosting", "namespace": "kube-public"},
        "data": {"localRegistryHosting.v1": f'host: "localhost:{REGISTRY_PORT}"\n'}}))
    _run("kind", "export", "kubeconfig", "--name", name, "--kubeconfig", str(kubeconfig))
    from infra.cluster import addons
    from infra.kubeconfig import admin_client

    addons.install(admin_client(kubeconfig), progress=progress)
    return kubeconfig


def down(name: str = DEFAULT_NAME) -> None:
    require_tools()
    if exists(name):
        _run("kind", "delete", "cluster", "--name", name)
