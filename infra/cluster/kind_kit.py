"""The offline kind kit, end to end: `invoke kit` (and `cluster up --images offline`) build it.

Steps, each cached and skipped when present (so an interrupted build resumes):
the toolchain's control-plane binaries and etcd; the kit's Go builds (kind, kubelet/kubeadm/
kubectl/kube-proxy, CoreDNS, local-path-provisioner, kube-router, metrics-server, Traefik);
two Debian root filesystems; kind's node base; one image per program; the node image.
Each step reports to a :class:`infra.cluster.toolchain.Meter` and a line per step.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from infra.cluster import kind_images as img
from infra.cluster.kind_binaries import (
    CNI_PLUGINS,
    COLD_SECONDS,
    KIT,
    NODE_COMPONENTS,
    KitVersions,
    kit_recipes,
)
from infra.cluster.toolchain import (
    Meter,
    PlannedStep,
    build_go,
    ensure_toolchain,
    entry_dir,
    is_built,
)

Say = Callable[[str], None]

# Cold seconds of the image steps, measured on this project's 2-core machine.
IMAGE_SECONDS = {"node-rootfs": 185, "tools-rootfs": 141, "node-base": 16, "images": 45,
                 "node-image": 75}


@dataclass(frozen=True)
class Kit:
    """What an offline `cluster up` needs: the kind and kubectl binaries and local images."""

    kind: Path
    kubectl: Path
    node_image: str
    names: img.ImageNames

    @property
    def addon_images(self) -> dict[str, str]:
        return {"metrics-server": self.names.metrics_server, "traefik": self.names.traefik,
                "registry": self.names.registry}


def _last_node_image() -> Path:
    return img.kit_dir() / "last-node-image"


def plan(kit: KitVersions = KIT) -> list[PlannedStep]:
    """The kit's steps with their cold times; image steps count as cached while the node image
    last built still exists (they are re-checked, by content tag, in seconds)."""
    steps = [PlannedStep(b.name, COLD_SECONDS.get(b.name, 120), is_built(b))
             for b in kit_recipes(kit)]
    last = _last_node_image()
    images_cached = last.is_file() and img.image_exists(last.read_text().strip())
    steps += [PlannedStep(k, s, images_cached) for k, s in IMAGE_SECONDS.items()]
    return steps


def ensure_kit(say: Say | None = None, meter: Meter | None = None,
               kit: KitVersions = KIT) -> Kit:
    """Build whatever of the kit is missing and return it (seconds when all is cached)."""
    say = say or (lambda _m: None)
    chain = ensure_toolchain(say)  # kube-apiserver, -controller-manager, -scheduler, etcd
    steps = plan(kit)
    if meter:
        meter.plan(steps)
    bins: dict[str, Path] = {
        "kube-apiserver": chain.kube_apiserver,
        "kube-controller-manager": chain.kube_controller_manager,
        "kube-scheduler": chain.kube_scheduler, "etcd": chain.etcd,
    }
    for recipe in kit_recipes(kit):
        started, cached = time.monotonic(), is_built(recipe)
        out = build_go(recipe, progress=say, meter=meter)
        bins.update({name: out / name for _, name in recipe.packages})
        _done(meter, say, recipe.name, started, cached)

    started = time.monotonic()
    node_rootfs = img.rootfs_image("node", img.NODE_PACKAGES, say)
    _done(meter, say, "node-rootfs", started, False)
    started = time.monotonic()
    tools_rootfs = img.rootfs_image("tools", img.TOOLS_PACKAGES, say)
    _done(meter, say, "tools-rootfs", started, False)
    started = time.monotonic()
    base = img.node_base_image(node_rootfs, kit, say)
    _done(meter, say, "node-base", started, False)

    started = time.monotonic()
    names = img.NAMES
    recipes = img.component_recipes(bins, tools_rootfs, img.build_pause(say),
                                    img.registry_binary(say), names)
    for recipe in recipes:
        img.build_image(recipe, say)
    _done(meter, say, "images", started, False)

    started = time.monotonic()
    preload = [r for recipe in recipes for r in recipe.refs if r != names.registry]
    node = img.node_image(
        base, {c: bins[c] for c in NODE_COMPONENTS if c != "kube-proxy"}, preload,
        {"default-cni.yaml": img.cni_manifest(kit, names),
         "default-storage.yaml": img.storage_manifest(kit, names)}, say,
        cni_bins={p.rsplit("/", 1)[1]: bins[p.rsplit("/", 1)[1]] for p in CNI_PLUGINS})
    _done(meter, say, "node-image", started, False)
    _last_node_image().write_text(node)
    kind_bin = entry_dir(next(r for r in kit_recipes(kit) if r.name == "kind")) / "bin" / "kind"
    return Kit(kind=kind_bin, kubectl=bins["kubectl"], node_image=node, names=names)


def _done(meter: Meter | None, say: Say, key: str, started: float, cached: bool) -> None:
    seconds = time.monotonic() - started
    if meter:
        meter.finish(key, seconds, cached)
    else:
        say(f"{key}: {'cached' if cached else 'ready'} ({seconds:.0f} s)")
