"""Go builds of the offline kind kit: the kind CLI, the node's Kubernetes binaries and the
programs behind every image a node preloads or `cluster up` installs.

They reuse the toolchain's machinery (wrapper modules, per-version cache entries with a stamp,
the Go build cache, progress by packages compiled) and its Kubernetes pins, so kube-apiserver,
kube-controller-manager, kube-scheduler and etcd are the toolchain's own binaries, and the node
binaries below share its compiled Kubernetes packages.
"""

from __future__ import annotations

from dataclasses import dataclass

from infra.cluster.toolchain import VERSIONS, GoBuild, Versions, _wrapper, kubernetes_build

# The node's own programs (kind's node-image build puts them in /usr/bin and kube-proxy in an
# image); the control-plane three come from the toolchain's `kubernetes` entry.
NODE_COMPONENTS = ("kubelet", "kubeadm", "kubectl", "kube-proxy")


@dataclass(frozen=True)
class KitVersions:
    """Pins of the kind kit. The images keep the tags kubeadm and kind expect (see
    infra/cluster/kind_images.py), whatever served release builds them."""

    kubernetes: str = VERSIONS.kubernetes
    kind: str = "0.33.0"
    # kubeadm 1.35 expects coredns v1.13.1; the proxy serves 1.14.3-1.14.7 and 1.15.0.
    coredns: str = "1.14.7"
    local_path_provisioner: str = "0.0.30"
    # The only kube-router the proxy serves; advisories exist for 2.1.0 (its BGP/API paths,
    # which the kit leaves off: routes and NetworkPolicy only, on a private node network).
    kube_router: str = "2.1.0"
    metrics_server: str = "0.8.0"
    # 3.7.x needs github.com/traefik/traefik/dynamic/ext, a nested module the proxy does not
    # serve; 3.6.12 is the newest served release that builds.
    traefik: str = "3.6.12"
    # kind's own CNI plugin release. Debian's 1.1.1 bridge fails on this kernel ("could not
    # set bridge's mac: invalid argument"), and kube-router's pod network is a bridge.
    cni_plugins: str = "1.9.1"


KIT = KitVersions()

# Cold build seconds measured on this project's 2-core machine (the bar's first estimate).
COLD_SECONDS: dict[str, float] = {
    "kind": 21, "cni-plugins": 15, "local-path-provisioner": 381, "kube-router": 462,
    "metrics-server": 710, "coredns": 282, "kubernetes-node": 377, "traefik": 600,
}

# The CNI plugins the node runs: kube-router's bridge + host-local, kind's ptp/portmap/loopback.
CNI_PLUGINS = ("main/bridge", "main/loopback", "main/ptp", "ipam/host-local", "meta/portmap")

# Traefik's go.mod replaces these with its forks; a wrapper module must say so itself.
TRAEFIK_REPLACES = {
    "github.com/abbot/go-http-auth":
        "github.com/containous/go-http-auth v0.4.1-0.20200324110947-a37a7636d23e",
    "github.com/gorilla/mux": "github.com/containous/mux v0.0.0-20250523120546-41b6ec3aed59",
    "github.com/mailgun/minheap":
        "github.com/containous/minheap v0.0.0-20190809180810-6e71eb837595",
}


def _single(name: str, module: str, version: str, pkg: str, out: str,
            ldflags: tuple[str, ...] = (), replaces: dict[str, str] | None = None) -> GoBuild:
    return GoBuild(name=name, version=version,
                   gomod=_wrapper(name, {module: f"v{version}"}, replaces or {}, tools=(pkg,)),
                   packages=((pkg, out),), ldflags=ldflags)


def kit_recipes(k: KitVersions = KIT, v: Versions = VERSIONS) -> tuple[GoBuild, ...]:
    """The kit's Go builds, cheapest first."""
    node = kubernetes_build("kubernetes-node", NODE_COMPONENTS, v)
    cni_module = "github.com/containernetworking/plugins"
    cni = GoBuild(
        name="cni-plugins", version=k.cni_plugins,
        gomod=_wrapper("cni-plugins", {cni_module: f"v{k.cni_plugins}"},
                       tools=tuple(f"{cni_module}/plugins/{p}" for p in CNI_PLUGINS)),
        packages=tuple((f"{cni_module}/plugins/{p}", p.rsplit("/", 1)[1]) for p in CNI_PLUGINS),
    )
    return (
        _single("kind", "sigs.k8s.io/kind", k.kind, "sigs.k8s.io/kind", "kind"),
        cni,
        _single("local-path-provisioner", "github.com/rancher/local-path-provisioner",
                k.local_path_provisioner, "github.com/rancher/local-path-provisioner",
                "local-path-provisioner"),
        _single("kube-router", "github.com/cloudnativelabs/kube-router/v2", k.kube_router,
                "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router", "kube-router",
                ldflags=("-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version="
                         f"v{k.kube_router}",)),
        _single("metrics-server", "sigs.k8s.io/metrics-server", k.metrics_server,
                "sigs.k8s.io/metrics-server/cmd/metrics-server", "metrics-server",
                ldflags=(f"-X k8s.io/client-go/pkg/version.gitVersion=v{k.metrics_server}",)),
        _single("coredns", "github.com/coredns/coredns", k.coredns,
                "github.com/coredns/coredns", "coredns"),
        node,
        _single("traefik", "github.com/traefik/traefik/v3", k.traefik,
                "github.com/traefik/traefik/v3/cmd/traefik", "traefik",
                ldflags=(f"-X github.com/traefik/traefik/v3/pkg/version.Version={k.traefik}",),
                replaces=TRAEFIK_REPLACES),
    )
