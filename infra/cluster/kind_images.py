"""The images of the offline kind kit, built on this machine from Debian's packages and the Go
builds of :mod:`infra.cluster.kind_binaries` (no container registry is contacted).

- Two root filesystems from Debian (debootstrap): the node's (systemd, containerd, runc, CNI
  plugins, iptables, jq, pigz: kind's ``images/base`` package set) and a small tools one
  (iptables, ipset, conntrack) for kube-proxy, kube-router and the registry.
- The node base: kind's own ``images/base/files`` (entrypoint, systemd units, containerd
  config) from the kind module, on the node root filesystem.
- One image per program, under the names and tags kubeadm 1.35 and kind expect
  (``registry.k8s.io/kube-apiserver:v1.35.4``, ``.../etcd:3.6.6-0``, ...), or the kit's own
  names for what the kit chooses (kube-router, local-path, metrics-server, Traefik, registry).
- The node image: the base with kubelet/kubeadm/kubectl in /usr/bin, /kind/version, the CNI and
  storage manifests in /kind/manifests and every image above imported into containerd's
  ``k8s.io`` namespace, pinned: the steps of kind's ``build node-image``, done offline.

Every image is tagged by a hash of its inputs, so a changed input builds a new image and an
unchanged one is found by ``docker image inspect`` and skipped.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from infra.cluster.kind_binaries import KIT, KitVersions
from infra.cluster.toolchain import VERSIONS, cache_root

Say = Callable[[str], None]

DEBIAN_SUITE = "bookworm"
# kind's images/base package list, as Debian bookworm names them, plus containerd/runc/CNI
# plugins from Debian instead of kind's own builds.
NODE_PACKAGES = (
    "systemd", "systemd-sysv", "conntrack", "iptables", "nftables", "ipset", "iproute2",
    "ethtool", "util-linux", "mount", "kmod", "libseccomp2", "pigz", "bash", "ca-certificates",
    "curl", "jq", "procps", "containerd", "runc", "containernetworking-plugins", "socat",
)
TOOLS_PACKAGES = ("iptables", "nftables", "ipset", "conntrack", "iproute2", "ca-certificates")

# What kubeadm 1.35 pulls for its control plane and add-ons (cmd/kubeadm/app/constants).
ETCD_TAG = "3.6.6-0"
COREDNS_TAG = "v1.13.1"
PAUSE_TAGS = ("3.10.1", "3.10")  # kubeadm's default; kind's containerd sandbox_image


@dataclass(frozen=True)
class ImageNames:
    """Every image the offline kit provides, by the reference Pods and kind use."""

    kube: str = VERSIONS.kubernetes
    kit: KitVersions = KIT

    def control_plane(self, component: str) -> str:
        return f"registry.k8s.io/{component}:v{self.kube}"

    @property
    def etcd(self) -> str:
        return f"registry.k8s.io/etcd:{ETCD_TAG}"

    @property
    def coredns(self) -> str:
        return f"registry.k8s.io/coredns/coredns:{COREDNS_TAG}"

    @property
    def pause(self) -> tuple[str, ...]:
        return tuple(f"registry.k8s.io/pause:{t}" for t in PAUSE_TAGS)

    @property
    def local_path_provisioner(self) -> str:
        return f"prodev-labs/local-path-provisioner:v{self.kit.local_path_provisioner}"

    @property
    def local_path_helper(self) -> str:
        return "prodev-labs/local-path-helper:busybox"

    @property
    def kube_router(self) -> str:
        return f"prodev-labs/kube-router:v{self.kit.kube_router}"

    @property
    def metrics_server(self) -> str:
        return f"prodev-labs/metrics-server:v{self.kit.metrics_server}"

    @property
    def traefik(self) -> str:
        return f"prodev-labs/traefik:v{self.kit.traefik}"

    @property
    def registry(self) -> str:
        return "prodev-labs/registry:2.8.2-debian"


NAMES = ImageNames()


class KitError(RuntimeError):
    """A kit build step failed; the message names the step and what to do."""


# --- docker helpers ----------------------------------------------------------------------------


def docker(*args: str, stdin: bytes | None = None, check: bool = True) -> str:
    done = subprocess.run(["docker", *args], input=stdin, capture_output=True, check=False)
    if check and done.returncode != 0:
        raise KitError(f"`docker {' '.join(args[:3])} ...` failed: "
                       f"{done.stderr.decode(errors='replace').strip()[-600:]}")
    return done.stdout.decode(errors="replace")


def image_exists(ref: str) -> bool:
    return subprocess.run(["docker", "image", "inspect", ref], capture_output=True,
                          check=False).returncode == 0


def _digest(*parts: object) -> str:
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, Path):
            h.update(p.read_bytes() if p.is_file() else str(p).encode())
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
    return h.hexdigest()[:12]


def _build(context: Path, tag: str, dockerfile: str, extra_tags: Sequence[str] = ()) -> None:
    (context / "Dockerfile").write_text(dockerfile)
    args = ["build", "-q", "-t", tag]
    for t in extra_tags:
        args += ["-t", t]
    docker(*args, str(context))


# --- root filesystems --------------------------------------------------------------------------


def kit_dir() -> Path:
    return cache_root() / "kind"


def rootfs_image(name: str, packages: Sequence[str], say: Say,
                 suite: str = DEBIAN_SUITE) -> str:
    """``prodev-labs/<name>-rootfs:<suite>-<hash>``: debootstrap of ``packages``, imported."""
    tag = f"prodev-labs/{name}-rootfs:{suite}-{_digest(suite, sorted(packages))}"
    if image_exists(tag):
        return tag
    if shutil.which("debootstrap") is None:
        raise KitError("debootstrap is missing: `apt-get install debootstrap` (the kit's root "
                       "filesystems come from Debian's packages)")
    work = kit_dir() / "work"
    work.mkdir(parents=True, exist_ok=True)
    target = work / f"{name}-rootfs"
    log = work / f"{name}-rootfs.log"
    marker = work / f"{name}-rootfs.done"  # a finished debootstrap of exactly this tag
    if not (marker.is_file() and marker.read_text() == tag and target.is_dir()):
        if target.exists():
            shutil.rmtree(target)
        say(f"{name} root filesystem: debootstrap {suite} ({len(packages)} packages; "
            f"log: {log})")
        with log.open("w") as fh:
            done = subprocess.run(["debootstrap", "--variant=minbase",
                                   f"--include={','.join(packages)}", suite,
                                   str(target), _debian_mirror()], stdout=fh,
                                  stderr=subprocess.STDOUT, check=False)
        if done.returncode != 0:
            raise KitError(f"debootstrap of the {name} root filesystem failed: see {log}; run "
                           "the same command again")
        marker.write_text(tag)
    # Package caches and lists only make the image bigger.
    for junk in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for p in (target / junk).glob("*"):
            if p.is_file():
                p.unlink()
    tar = subprocess.Popen(["tar", "-C", str(target), "--numeric-owner", "-c", "."],
                           stdout=subprocess.PIPE)
    imported = subprocess.run(["docker", "import", "-", tag], stdin=tar.stdout,
                              capture_output=True, check=False)
    tar.wait()
    if imported.returncode != 0:
        raise KitError(f"docker import of the {name} root filesystem failed: "
                       f"{imported.stderr.decode(errors='replace')[-400:]}")
    shutil.rmtree(target)
    marker.unlink()
    return tag


def _debian_mirror() -> str:
    """The Debian mirror apt on this machine uses (an air-gapped classroom's own)."""
    for f in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if not f.is_file():
            continue
        for line in f.read_text().splitlines():
            words = line.split()
            if words[:1] == ["URIs:"] and "security" not in words[1]:
                return words[1]
            if words[:1] == ["deb"] and "security" not in line:
                return next(w for w in words[1:] if "://" in w)
    return "http://deb.debian.org/debian"


# --- the node base (kind's images/base, on Debian's packages) ----------------------------------

# Runs before kind's entrypoint. Where the engine refuses --privileged (a VM whose capability
# bounding set lacks CAP_SYS_RESOURCE), the node runs with every other capability, but /sys and
# its cgroup mounts come read-only: mount a fresh sysfs and this container's own cgroup
# hierarchies (its cgroup namespace), then hand over to kind's entrypoint as usual.
PRE_ENTRYPOINT = r"""#!/bin/bash
set -euo pipefail
if [[ -n "${PRODEV_REMOUNT_CGROUPS:-}" ]]; then
  new=/run/prodev-sys
  mkdir -p "$new"
  mount -t sysfs sysfs "$new"
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    mount -t cgroup2 cgroup2 "$new/fs/cgroup"
  else
    mount -t tmpfs -o mode=755 cgroup "$new/fs/cgroup"
    for entry in /sys/fs/cgroup/*; do
      name=$(basename "$entry")
      if [[ -L "$entry" ]]; then ln -s "$(readlink "$entry")" "$new/fs/cgroup/$name"; continue; fi
      mkdir -p "$new/fs/cgroup/$name"
      case "$name" in
        unified) mount -t cgroup2 cgroup2 "$new/fs/cgroup/$name" ;;
        systemd) mount -t cgroup -o none,name=systemd cgroup "$new/fs/cgroup/$name" ;;
        *) mount -t cgroup -o "$name" cgroup "$new/fs/cgroup/$name" ;;
      esac
    done
  fi
  umount -l /sys
  mount --move "$new" /sys
fi
exec /usr/local/bin/entrypoint "$@"
"""

NODE_BASE_DOCKERFILE = """FROM {rootfs}
COPY files/usr/local/bin/ /usr/local/bin/
COPY files/kind/ /kind/
COPY files/etc/ /etc/
COPY prodev-entrypoint /usr/local/bin/prodev-entrypoint
RUN chmod 0755 /usr/local/bin/* /kind/bin/* \\
 && ln -sf /usr/bin/containerd /usr/local/bin/containerd \\
 && mkdir -p /opt/cni/bin && ln -sf /usr/lib/cni/* /opt/cni/bin/ \\
 && find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete \\
 && rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \\
      /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \\
      /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/* \\
 && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \\
 && systemctl enable kubelet.service containerd.service undo-mount-hacks.service \\
 && systemctl mask systemd-binfmt.service \\
 && mkdir -p /etc/kubernetes/manifests \\
 && ctr oci spec \\
    | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + \\
          {{"path": "/kind/bin/mount-product-files.sh"}}' \\
    | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json
ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT ["/usr/local/bin/prodev-entrypoint", "/sbin/init"]
"""


def kind_module_dir(kit: KitVersions = KIT) -> Path:
    """The kind module in Go's module cache (its images/base files and manifests)."""
    return _module_file("sigs.k8s.io/kind", kit.kind, "")


def node_base_image(rootfs: str, kit: KitVersions, say: Say) -> str:
    files = kind_module_dir(kit) / "images" / "base" / "files"
    listing = sorted(str(p.relative_to(files)) for p in files.rglob("*") if p.is_file())
    inputs = _digest(rootfs, NODE_BASE_DOCKERFILE, PRE_ENTRYPOINT, listing,
                     *(files / f for f in listing))
    tag = f"prodev-labs/kind-base:v{kit.kind}-{inputs}"
    if image_exists(tag):
        return tag
    say(f"node base image {tag} (kind v{kit.kind} images/base files)")
    with tempfile.TemporaryDirectory() as ctx:
        shutil.copytree(files, Path(ctx) / "files")
        (Path(ctx) / "prodev-entrypoint").write_text(PRE_ENTRYPOINT)
        _build(Path(ctx), tag, NODE_BASE_DOCKERFILE.format(rootfs=rootfs))
    return tag


# --- one image per program ---------------------------------------------------------------------


@dataclass(frozen=True)
class ImageRecipe:
    """An image of one program: ``binary`` on ``base`` (``scratch`` for static Go binaries)."""

    refs: tuple[str, ...]  # first is the primary tag
    base: str
    files: tuple[tuple[Path, str], ...]  # (host file, path in the image)
    entrypoint: tuple[str, ...]
    symlinks: tuple[tuple[str, str], ...] = ()  # (link path, target)

    def dockerfile(self) -> str:
        lines = [f"FROM {self.base}"]
        lines += [f"COPY f{i} {dest}" for i, (_, dest) in enumerate(self.files)]
        if self.symlinks:
            lines.append("COPY links/ /")
        lines.append("ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/bin:/usr/sbin:/bin:/sbin")
        lines.append(f"ENTRYPOINT {json.dumps(list(self.entrypoint))}")
        return "\n".join(lines) + "\n"

    def content_tag(self) -> str:
        return _digest(self.base, self.dockerfile(), self.symlinks, *(src for src, _ in self.files))


def build_image(recipe: ImageRecipe, say: Say) -> str:
    """Build ``recipe`` unless an image of the same content exists; tag it with every ref."""
    stamp = f"prodev-labs/kit-stamp:{recipe.content_tag()}"
    if image_exists(stamp) and all(image_exists(r) for r in recipe.refs):
        return recipe.refs[0]
    say(f"image {recipe.refs[0]}")
    with tempfile.TemporaryDirectory() as ctx:
        for i, (src, _) in enumerate(recipe.files):
            shutil.copy2(src, Path(ctx) / f"f{i}")
        if recipe.symlinks:
            links = Path(ctx) / "links"
            for link, target in recipe.symlinks:
                p = links / link.lstrip("/")
                p.parent.mkdir(parents=True, exist_ok=True)
                p.symlink_to(target)
        _build(Path(ctx), recipe.refs[0], recipe.dockerfile(), (*recipe.refs[1:], stamp))
    return recipe.refs[0]


def build_pause(say: Say) -> Path:
    """The pause binary from Kubernetes' own build/pause/linux/pause.c, linked statically."""
    out = kit_dir() / "bin" / f"pause-{VERSIONS.kubernetes}"
    if out.is_file():
        return out
    from infra.cluster.toolchain import go_binary

    done = subprocess.run([go_binary(), "mod", "download", "-json",
                           f"k8s.io/kubernetes@v{VERSIONS.kubernetes}"], capture_output=True,
                          text=True, check=False, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        raise KitError(f"go mod download k8s.io/kubernetes failed: {done.stderr[-400:]}")
    src = Path(json.loads(done.stdout)["Dir"]) / "build" / "pause" / "linux" / "pause.c"
    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        raise KitError("no C compiler: `apt-get install gcc` (the pause binary is built from "
                       "Kubernetes' pause.c)")
    out.parent.mkdir(parents=True, exist_ok=True)
    say("pause: gcc -static build/pause/linux/pause.c")
    built = subprocess.run([cc, "-Os", "-static", "-DVERSION=v3.10.1", "-o", str(out) + ".tmp",
                            str(src)], capture_output=True, text=True, check=False)
    if built.returncode != 0:
        raise KitError(f"building pause failed: {built.stderr[-400:]}")
    Path(str(out) + ".tmp").replace(out)
    return out


# The upstream registry image's configuration (Debian's default turns on htpasswd auth).
REGISTRY_CONFIG = """version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
"""


def registry_binary(say: Say) -> tuple[Path, Path]:
    """Debian's docker-registry (distribution 2.8) binary, and the upstream image's config."""
    d = kit_dir() / "registry-deb"
    binary, config = d / "usr/bin/docker-registry", kit_dir() / "registry-config.yml"
    if not config.is_file() or config.read_text() != REGISTRY_CONFIG:
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(REGISTRY_CONFIG)
    if binary.is_file():
        return binary, config
    say("registry: Debian's docker-registry package")
    with tempfile.TemporaryDirectory() as tmp:
        got = subprocess.run(["apt-get", "download", "docker-registry"], cwd=tmp,
                             capture_output=True, text=True, check=False)
        debs = list(Path(tmp).glob("docker-registry_*.deb"))
        if got.returncode != 0 or not debs:
            raise KitError("apt-get download docker-registry failed (run `apt-get update`): "
                           f"{got.stderr[-300:]}")
        subprocess.run(["dpkg-deb", "-x", str(debs[0]), str(d)], check=True)
    return binary, config


def component_recipes(bins: dict[str, Path], tools_rootfs: str, pause: Path,
                      registry: tuple[Path, Path], names: ImageNames = NAMES) -> list[ImageRecipe]:
    """The images of every program, given where each binary is."""

    def static(ref: str | tuple[str, ...], binary: str, *entry: str) -> ImageRecipe:
        refs = (ref,) if isinstance(ref, str) else ref
        return ImageRecipe(refs, "scratch", ((bins[binary], f"/usr/local/bin/{binary}"),),
                           entry or (f"/usr/local/bin/{binary}",))

    busybox = Path(shutil.which("busybox") or "/bin/busybox")
    out = [static(names.control_plane(c), c)
           for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler")]
    out += [
        static(names.etcd, "etcd"),
        static(names.coredns, "coredns"),
        ImageRecipe(names.pause, "scratch", ((pause, "/pause"),), ("/pause",)),
        ImageRecipe((names.control_plane("kube-proxy"),), tools_rootfs,
                    ((bins["kube-proxy"], "/usr/local/bin/kube-proxy"),),
                    ("/usr/local/bin/kube-proxy",)),
        ImageRecipe((names.kube_router,), tools_rootfs,
                    ((bins["kube-router"], "/usr/local/bin/kube-router"),),
                    ("/usr/local/bin/kube-router",)),
        static(names.local_path_provisioner, "local-path-provisioner"),
        ImageRecipe((names.local_path_helper,), "scratch", ((busybox, "/bin/busybox"),),
                    ("/bin/sh",),
                    symlinks=tuple((f"/bin/{a}", "busybox") for a in
                                   ("sh", "mkdir", "rm", "rmdir", "ls", "chmod", "cat"))),
        static(names.metrics_server, "metrics-server"),
        static(names.traefik, "traefik"),
        ImageRecipe((names.registry,), tools_rootfs,
                    ((registry[0], "/usr/bin/docker-registry"),
                     (registry[1], "/etc/docker/registry/config.yml")),
                    ("/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml")),
    ]
    return out


# --- the manifests kind applies from the node (/kind/manifests) --------------------------------


def cni_manifest(kit: KitVersions = KIT, names: ImageNames = NAMES) -> str:
    """kube-router's kubeadm DaemonSet (pod routes between nodes + NetworkPolicy by iptables
    and ipset), on the kit's image, with the API reached in-cluster (no host kubeconfig)."""
    import yaml

    src = _module_file("github.com/cloudnativelabs/kube-router/v2", kit.kube_router,
                       "daemonset/kubeadm-kuberouter.yaml")
    docs = [d for d in yaml.safe_load_all(src.read_text()) if d]
    for doc in docs:
        if doc["kind"] == "ConfigMap":
            # kube-router's hostport variant: the portmap plugin gives hostPorts (Traefik on
            # the node's 80/443, kind's ingress pattern).
            conf = json.loads(doc["data"]["cni-conf.json"])
            conf["plugins"].append({"type": "portmap", "snat": True,
                                    "capabilities": {"portMappings": True}})
            doc["data"]["cni-conf.json"] = json.dumps(conf, indent=2)
        if doc["kind"] != "DaemonSet":
            continue
        pod = doc["spec"]["template"]["spec"]
        for c in pod["containers"]:
            # Upstream asks 250m/250Mi; it idles at 1m/15Mi here (metrics-server), and a
            # quarter of a 2-core host is what ten learners' labs ask for.
            c["resources"] = {"requests": {"cpu": "25m", "memory": "64Mi"}}
        for c in pod["containers"] + pod["initContainers"]:
            c["image"], c["imagePullPolicy"] = names.kube_router, "IfNotPresent"
            c["volumeMounts"] = [m for m in c.get("volumeMounts", [])
                                 if m["name"] != "kubeconfig"]
        pod["volumes"] = [v for v in pod["volumes"] if v["name"] != "kubeconfig"]
    return yaml.safe_dump_all(docs, sort_keys=False)


def storage_manifest(kit: KitVersions = KIT, names: ImageNames = NAMES) -> str:
    """kind's own local-path manifest (its node-image build's const), on the kit's images."""
    import re

    src = (kind_module_dir(kit) / "pkg" / "build" / "nodeimage" / "const_storage.go").read_text()
    src = src.replace("` + storageProvisionerImage + `", names.local_path_provisioner)
    src = src.replace("` + storageHelperImage + `", names.local_path_helper)
    body = re.search(r"const defaultStorageManifest = `(.*?)`\n", src, re.S)
    if body is None or "`" in body.group(1) or "Image +" in body.group(1):
        raise KitError("kind's const_storage.go has no defaultStorageManifest of the known form")
    return body.group(1)


def _module_file(module: str, version: str, path: str) -> Path:
    from infra.cluster.toolchain import go_binary

    done = subprocess.run([go_binary(), "mod", "download", "-json", f"{module}@v{version}"],
                          capture_output=True, text=True, check=False, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        raise KitError(f"go mod download {module}@v{version} failed: {done.stderr[-400:]}")
    return Path(json.loads(done.stdout)["Dir"]) / path


# --- the node image ----------------------------------------------------------------------------


def node_image(base: str, node_bins: dict[str, Path], images: Sequence[str],
               manifests: dict[str, str], say: Say,
               cni_bins: dict[str, Path] | None = None) -> str:
    """kind's node-image steps, offline: binaries (CNI plugins into /opt/cni/bin), version,
    manifests, images pinned in containerd; committed as
    ``prodev-labs/kind-node:v<kube>-<hash>``."""
    cni_bins = cni_bins or {}
    ids = [docker("image", "inspect", "-f", "{{.Id}}", ref).strip() for ref in images]
    tag = (f"prodev-labs/kind-node:v{VERSIONS.kubernetes}-"
           f"{_digest(base, ids, images, manifests, *node_bins.values(), *cni_bins.values())}")
    if image_exists(tag):
        return tag
    say(f"node image {tag}: {len(images)} images into containerd")
    cid = docker("run", "-d", "--entrypoint", "sleep", base, "infinity").strip()
    try:
        for name, path in node_bins.items():
            docker("cp", str(path), f"{cid}:/usr/bin/{name}")
        for name, path in cni_bins.items():
            docker("exec", cid, "rm", "-f", f"/opt/cni/bin/{name}")
            docker("cp", str(path), f"{cid}:/opt/cni/bin/{name}")
        docker("exec", "-i", cid, "sh", "-c", "cat > /kind/version",
               stdin=f"v{VERSIONS.kubernetes}".encode())
        docker("exec", cid, "mkdir", "-p", "/kind/manifests")
        for name, text in manifests.items():
            docker("exec", "-i", cid, "sh", "-c", f"cat > /kind/manifests/{name}",
                   stdin=text.encode())
        docker("exec", "-d", cid, "containerd")
        docker("exec", cid, "sh", "-c",
               "for i in $(seq 1 60); do ctr version >/dev/null 2>&1 && exit 0; sleep 0.5; "
               "done; exit 1")
        save = subprocess.Popen(["docker", "save", *images], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["docker", "exec", "-i", cid, "ctr", "--namespace=k8s.io", "images", "import",
             "--label=io.cri-containerd.pinned=pinned", "--no-unpack", "-"],
            stdin=save.stdout, capture_output=True, check=False)
        save.wait()
        if imported.returncode != 0 or save.returncode != 0:
            raise KitError("importing the images into the node's containerd failed: "
                           f"{imported.stderr.decode(errors='replace')[-500:]}")
        listed = docker("exec", cid, "ctr", "--namespace=k8s.io", "images", "ls", "-q")
        missing = [r for r in images if not any(_same_ref(r, line) for line in listed.split())]
        if missing:
            raise KitError(f"images missing in the node's containerd after import: {missing}")
        docker("exec", cid, "sh", "-c", "pkill containerd; sleep 1; rm -rf /tmp/* || true")
        docker("commit", "--change",
               'ENTRYPOINT ["/usr/local/bin/prodev-entrypoint", "/sbin/init"]', cid, tag)
    finally:
        docker("rm", "-f", "-v", cid, check=False)
    _prune_older("prodev-labs/kind-node", keep=tag)
    return tag


def _prune_older(repository: str, keep: str) -> None:
    """Drop superseded node images (1.5 GB each); one a cluster still runs stays (in use)."""
    for ref in docker("images", "--format", "{{.Repository}}:{{.Tag}}", repository).split():
        if ref != keep:
            docker("rmi", ref, check=False)


def _same_ref(ref: str, listed: str) -> bool:
    """``prodev-labs/x:1`` is ``docker.io/prodev-labs/x:1`` to containerd."""
    full = ref if ref.count("/") >= 2 or "." in ref.split("/")[0] else f"docker.io/{ref}"
    return listed == full
