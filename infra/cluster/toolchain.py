"""Offline toolchain: the Pulumi CLI, its Python language host, the Kubernetes provider, the
control-plane binaries (etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kwok) and
the Mailpit mail catcher, built from the Go module proxy into a per-version cache.

Layout (``<cache>`` is ``platformdirs.user_cache_dir("prodev-labs")``, or ``$PRODEV_LABS_CACHE``)::

    <cache>/toolchain/<name>-<version>/bin/...     one directory per pinned binary set
    <cache>/toolchain/<name>-<version>/.complete   stamp, written only after a successful build
    <cache>/toolchain/logs/<name>-<version>.log    the go command's output for that build
    <cache>/pulumi-home/plugins/resource-kubernetes-v<ver>/   the provider, installed with
                                                   ``pulumi plugin install ... --file``

Each entry is skipped when its stamp exists, so :func:`ensure_toolchain` is cheap after the first
run and an interrupted build simply starts that entry again (the Go build cache keeps the work).

On a machine with internet access the official installers (get.pulumi.com, ``pulumi plugin
install resource kubernetes <ver>``, the Kubernetes release tarballs, etcd's, kwok's and Mailpit's
GitHub releases) lead to the same layout: put the binaries in the same ``bin`` directories,
install the provider into the same PULUMI_HOME and write the stamp. Only the offline path is
implemented here.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from platformdirs import user_cache_dir

from infra.filelock import exclusive

Progress = Callable[[str], None]


@dataclass(frozen=True)
class PlannedStep:
    """One build step as announced before any work: what, how long it took cold here."""

    key: str
    expected_seconds: float
    cached: bool


class Meter(Protocol):
    """Receives how far a multi-step build is (a progress bar, a test recorder)."""

    def plan(self, steps: Sequence[PlannedStep]) -> None: ...

    def update(self, key: str, fraction: float, note: str) -> None: ...

    def finish(self, key: str, seconds: float, cached: bool) -> None: ...

STAMP = ".complete"


# --- pinned versions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Versions:
    """Every pinned version in one place. Bump here; the cache keys on these strings."""

    # PyPI pins pulumi==3.272.0; the proxy serves pkg/v3 at 3.274.1 (not 3.272): the CLI is
    # backward compatible with older language SDKs.
    pulumi: str = "3.274.1"
    # The language host became its own (untagged, unserved) module in 3.80; 3.79.0 is the last
    # release that ships it inside github.com/pulumi/pulumi/sdk/v3, which the proxy serves.
    # The exec script beside it comes from sdk/v3 at the CLI version.
    pulumi_language_python: str = "3.79.0"
    # Provider module is served only at a pseudo-version; commit f47bc2d6f199 is tag v4.25.0.
    pulumi_kubernetes: str = "4.25.0"
    pulumi_kubernetes_module: str = "v4.0.0-20260115033456-f47bc2d6f199"
    kubernetes: str = "1.35.4"
    etcd: str = "3.6.16"
    kwok: str = "0.8.0"
    # The module zip has no built web UI (server/ui/dist); the binary still builds and its SMTP
    # server and HTTP API work, only the UI's script and stylesheet answer 404.
    mailpit: str = "1.33.1"

    @property
    def kubernetes_staging(self) -> str:
        """The k8s.io/* staging modules' release matching ``kubernetes`` (1.35.4 -> v0.35.4)."""
        _, minor, patch = self.kubernetes.split(".")
        return f"v0.{minor}.{patch}"


VERSIONS = Versions()

# Cold build seconds per entry, measured on this project's 2-core machine (empty Go caches):
# the progress display's time estimate before the build itself has shown its pace.
COLD_SECONDS: dict[str, float] = {
    "etcd": 64, "kwok": 113, "mailpit": 54, "pulumi-language-python": 32, "pulumi": 419,
    "kubernetes": 593, "pulumi-resource-kubernetes": 843,
}

# Staging modules k8s.io/kubernetes replaces with ./staging/src/...; the wrapper module replaces
# each with its v0.<minor>.<patch> release instead.
K8S_STAGING = (
    "api", "apiextensions-apiserver", "apimachinery", "apiserver", "cli-runtime", "client-go",
    "cloud-provider", "cluster-bootstrap", "code-generator", "component-base", "component-helpers",
    "controller-manager", "cri-api", "cri-client", "csi-translation-lib",
    "dynamic-resource-allocation", "endpointslice", "externaljwt", "kms", "kube-aggregator",
    "kube-controller-manager", "kube-proxy", "kube-scheduler", "kubectl", "kubelet", "metrics",
    "mount-utils", "pod-security-admission", "sample-apiserver", "sample-cli-plugin",
    "sample-controller",
)

KUBE_COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")

KWOK_STAGES = (
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-ready.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
)


# --- build recipes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Asset:
    """A file copied out of a module in the module cache into a cache entry."""

    module: str
    version: str
    path: str  # inside the module
    dest: str  # relative to the entry directory
    mode: int = 0o644


@dataclass(frozen=True)
class GoBuild:
    """One cache entry: a wrapper module (go.mod text) and the packages built from it."""

    name: str
    version: str
    gomod: str
    packages: tuple[tuple[str, str], ...]  # (import path, output binary name)
    ldflags: tuple[str, ...] = ()
    assets: tuple[Asset, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.name}-{self.version}"


def _wrapper(module: str, requires: Mapping[str, str], replaces: Mapping[str, str] = (),
             tools: tuple[str, ...] = ()) -> str:
    lines = [f"module prodevlabs.local/toolchain/{module}", "", "go 1.26", "", "require ("]
    lines += [f"\t{m} {v}" for m, v in requires.items()]
    lines.append(")")
    if replaces:
        lines += ["", "replace ("]
        lines += [f"\t{m} => {target}" for m, target in dict(replaces).items()]
        lines.append(")")
    lines.append("")
    lines += [f"tool {t}" for t in tools]
    return "\n".join(lines) + "\n"


def recipes(v: Versions = VERSIONS) -> tuple[GoBuild, ...]:
    """The Go builds, in build order (cheapest first)."""
    pkg = "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
    langhost = "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"
    pulumi_version = "github.com/pulumi/pulumi/sdk/v3/go/common/version.Version"
    etcd_pkg = "go.etcd.io/etcd/server/v3"
    kwok_pkg = "sigs.k8s.io/kwok/cmd/kwok"
    mailpit_pkg = "github.com/axllent/mailpit"
    return (
        GoBuild(
            name="etcd",
            version=v.etcd,
            gomod=_wrapper("etcd", {"go.etcd.io/etcd/server/v3": f"v{v.etcd}"},
                           tools=(etcd_pkg,)),
            packages=((etcd_pkg, "etcd"),),
        ),
        GoBuild(
            name="kwok",
            version=v.kwok,
            gomod=_wrapper("kwok", {"sigs.k8s.io/kwok": f"v{v.kwok}"}, tools=(kwok_pkg,)),
            packages=((kwok_pkg, "kwok"),),
            ldflags=(f"-X sigs.k8s.io/kwok/pkg/consts.Version={v.kwok}",),
            # kwok does nothing without Stage objects; these are upstream's "fast" node/pod
            # stages plus the lease-based node heartbeat (kwokctl's default set).
            assets=tuple(
                Asset("sigs.k8s.io/kwok", f"v{v.kwok}", f"kustomize/stage/{src}",
                      f"bin/stages/{src.rsplit('/', 1)[1]}")
                for src in KWOK_STAGES
            ),
        ),
        GoBuild(
            name="mailpit",
            version=v.mailpit,
            gomod=_wrapper("mailpit", {mailpit_pkg: f"v{v.mailpit}"}, tools=(mailpit_pkg,)),
            packages=((mailpit_pkg, "mailpit"),),
            ldflags=(f"-X {mailpit_pkg}/config.Version=v{v.mailpit}",),
        ),
        GoBuild(
            name="pulumi-language-python",
            version=v.pulumi_language_python,
            gomod=_wrapper("pulumi-language-python",
                           {"github.com/pulumi/pulumi/sdk/v3": f"v{v.pulumi_language_python}"},
                           tools=(langhost,)),
            packages=((langhost, "pulumi-language-python"),),
            ldflags=(f"-X {pulumi_version}=v{v.pulumi_language_python}",),
            # The exec script must sit beside the host. Take it from sdk/v3 at the CLI's version
            # so it matches the Python SDK era; it accepts every flag the older host passes.
            assets=(Asset("github.com/pulumi/pulumi/sdk/v3", f"v{v.pulumi}",
                          "python/cmd/pulumi-language-python-exec",
                          "bin/pulumi-language-python-exec", 0o755),),
        ),
        GoBuild(
            name="pulumi",
            version=v.pulumi,
            gomod=_wrapper(
                "pulumi",
                {"github.com/pulumi/pulumi/pkg/v3": f"v{v.pulumi}",
                 "github.com/pulumi/pulumi/sdk/v3": f"v{v.pulumi}"},
                # pkg/v3's own go.mod replaces clipboard with a fork; replaces of dependencies
                # are not inherited, so repeat it.
                {"github.com/atotto/clipboard":
                 "github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e"},
                tools=(pkg,),
            ),
            packages=((pkg, "pulumi"),),
            ldflags=(f"-X {pulumi_version}=v{v.pulumi}",),
        ),
        kubernetes_build("kubernetes", KUBE_COMPONENTS, v),
    )


def kubernetes_build(name: str, components: tuple[str, ...],
                     v: Versions = VERSIONS) -> GoBuild:
    """``components`` (k8s.io/kubernetes/cmd/<c>) at the pinned Kubernetes, staging modules
    replaced by their releases and the version stamped as the release build stamps it. The
    toolchain's control plane and the kind kit's node binaries share this (and the Go build
    cache of its packages)."""
    cb = "k8s.io/component-base/version"
    _, kminor, _ = v.kubernetes.split(".")
    return GoBuild(
        name=name,
        version=v.kubernetes,
        gomod=_wrapper(
            name,
            {"k8s.io/kubernetes": f"v{v.kubernetes}"},
            {f"k8s.io/{m}": f"k8s.io/{m} {v.kubernetes_staging}" for m in K8S_STAGING},
            tools=tuple(f"k8s.io/kubernetes/cmd/{c}" for c in components),
        ),
        packages=tuple((f"k8s.io/kubernetes/cmd/{c}", c) for c in components),
        ldflags=(
            f"-X {cb}.gitVersion=v{v.kubernetes}",
            f"-X {cb}.gitMajor=1",
            f"-X {cb}.gitMinor={kminor}",
            f"-X {cb}.gitTreeState=clean",
            f"-X k8s.io/client-go/pkg/version.gitVersion=v{v.kubernetes}",
        ),
    )


# --- the result --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Toolchain:
    """Paths of a complete toolchain. ``env()`` is the environment to run pulumi offline."""

    versions: Versions
    pulumi_bin_dir: Path  # the pulumi CLI; first on PATH
    pulumi_home: Path
    kubernetes_provider: Path
    etcd: Path
    kube_apiserver: Path
    kube_controller_manager: Path
    kube_scheduler: Path
    kwok: Path
    kwok_stages_dir: Path  # Stage objects for kwok's --config
    mailpit: Path  # mail catcher (SMTP + HTTP API) for the email lessons' checks
    # also on PATH: pulumi-language-python and pulumi-language-python-exec
    extra_path: tuple[Path, ...] = field(default=())

    @property
    def pulumi(self) -> Path:
        return self.pulumi_bin_dir / "pulumi"

    def env(self, base: Mapping[str, str] | None = None,
            python: str | None = sys.executable) -> dict[str, str]:
        """``base`` (default: os.environ) with PATH, PULUMI_HOME and the no-network switches.

        ``python`` (default: this interpreter, which has the pulumi SDK) is the interpreter the
        language host runs programs with: PULUMI_PYTHON_CMD (unless ``base`` sets it) and its
        directory on PATH after the toolchain's. ``None`` leaves that to the environment.
        """
        out = dict(os.environ if base is None else base)
        dirs = [str(self.pulumi_bin_dir), *(str(p) for p in self.extra_path)]
        if python:
            dirs.append(str(Path(python).parent))
            out.setdefault("PULUMI_PYTHON_CMD", python)
        rest = [p for p in out.get("PATH", os.defpath).split(os.pathsep) if p and p not in dirs]
        out["PATH"] = os.pathsep.join(dirs + rest)
        out["PULUMI_HOME"] = str(self.pulumi_home)
        out["PULUMI_SKIP_UPDATE_CHECK"] = "true"
        out["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = "true"
        # The CLI (3.274.1) is newer than the PyPI SDK (3.272.0); the automation API would accept
        # it, but skip its check so an SDK bump never turns into a version-probe failure.
        out["PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK"] = "true"
        out["PULUMI_SKIP_CONFIRMATIONS"] = "true"
        out.setdefault("PULUMI_DIY_BACKEND_NO_LEGACY_WARNING", "true")
        return out


# --- locations ---------------------------------------------------------------------------------


def cache_root() -> Path:
    """``$PRODEV_LABS_CACHE`` or the platform's user cache dir for prodev-labs."""
    override = os.environ.get("PRODEV_LABS_CACHE")
    return Path(override) if override else Path(user_cache_dir("prodev-labs"))


def toolchain_dir(root: Path | None = None) -> Path:
    return (root or cache_root()) / "toolchain"


def entry_dir(build: GoBuild, root: Path | None = None) -> Path:
    return toolchain_dir(root) / build.key


def is_built(build: GoBuild, root: Path | None = None) -> bool:
    """True when the entry's stamp exists and every binary it names is present."""
    d = entry_dir(build, root)
    if not (d / STAMP).is_file():
        return False
    return all((d / "bin" / out).is_file() for _, out in build.packages) and all(
        (d / a.dest).is_file() for a in build.assets)


def pulumi_home(root: Path | None = None) -> Path:
    return (root or cache_root()) / "pulumi-home"


def provider_plugin_dir(v: Versions = VERSIONS, root: Path | None = None) -> Path:
    return pulumi_home(root) / "plugins" / f"resource-kubernetes-v{v.pulumi_kubernetes}"


def toolchain(v: Versions = VERSIONS, root: Path | None = None) -> Toolchain:
    """The Toolchain value for these versions (paths only; nothing is checked or built)."""
    by = {b.name: entry_dir(b, root) / "bin" for b in recipes(v)}
    return Toolchain(
        versions=v,
        pulumi_bin_dir=by["pulumi"],
        pulumi_home=pulumi_home(root),
        kubernetes_provider=provider_plugin_dir(v, root) / "pulumi-resource-kubernetes",
        etcd=by["etcd"] / "etcd",
        kube_apiserver=by["kubernetes"] / "kube-apiserver",
        kube_controller_manager=by["kubernetes"] / "kube-controller-manager",
        kube_scheduler=by["kubernetes"] / "kube-scheduler",
        kwok=by["kwok"] / "kwok",
        kwok_stages_dir=by["kwok"] / "stages",
        mailpit=by["mailpit"] / "mailpit",
        extra_path=(by["pulumi-language-python"],),
    )


# --- building ----------------------------------------------------------------------------------


class ToolchainError(RuntimeError):
    """A build step failed; the message names the step and the log file."""


def go_binary() -> str:
    """``$PRODEV_LABS_GO``, ``go`` on PATH, or /usr/local/go/bin/go."""
    for cand in (os.environ.get("PRODEV_LABS_GO"), shutil.which("go"), "/usr/local/go/bin/go"):
        if cand and Path(cand).is_file():
            return cand
    raise ToolchainError("no Go toolchain found: install Go >= 1.26 or set PRODEV_LABS_GO")


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CGO_ENABLED", "0")
    env["GOFLAGS"] = "-mod=mod -buildvcs=false"
    env.setdefault("GOTOOLCHAIN", "auto")
    return env


def _run(cmd: list[str], *, cwd: Path, log: Path, env: Mapping[str, str] | None = None,
         on_line: Callable[[str], None] | None = None) -> str:
    """Run ``cmd``; stderr goes to ``log`` (and, line by line, to ``on_line``)."""
    with log.open("a") as fh:
        fh.write(f"\n$ (cd {cwd} && {' '.join(cmd)})\n")
        fh.flush()
        if on_line is None:
            proc = subprocess.run(cmd, cwd=cwd, env=dict(env or _go_env()),
                                  stdout=subprocess.PIPE, stderr=fh, text=True)
            out, code = proc.stdout, proc.returncode
        else:
            with subprocess.Popen(cmd, cwd=cwd, env=dict(env or _go_env()),
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) as child:
                assert child.stderr is not None and child.stdout is not None
                for line in child.stderr:
                    fh.write(line)
                    on_line(line.rstrip("\n"))
                out, code = child.stdout.read(), child.wait()
        fh.write(out)
    if code != 0:
        tail = "".join(log.read_text(errors="replace").splitlines(True)[-25:])
        what = " ".join(Path(cmd[0]).name if i == 0 else a for i, a in enumerate(cmd[:2]))
        raise ToolchainError(f"`{what} ...` failed (exit {code}) in {cwd.name}: see {log}; "
                             "fix the cause and run the same command again (finished parts "
                             f"are kept)\n{tail}")
    return out


def _ldflags(extra: tuple[str, ...]) -> str:
    return " ".join(("-s", "-w", *extra))


def _write_stamp(d: Path, **info: object) -> None:
    tmp = d / (STAMP + ".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    tmp.replace(d / STAMP)


def _fresh_dir(p: Path) -> Path:
    if p.exists():
        _make_writable(p)
        shutil.rmtree(p)
    p.mkdir(parents=True)
    return p


def _make_writable(p: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(p):
        for n in (*dirnames, *filenames):
            q = Path(dirpath) / n
            if not q.is_symlink():
                q.chmod(q.stat().st_mode | stat.S_IWUSR)
    p.chmod(p.stat().st_mode | stat.S_IWUSR)


def _module_dir(go: str, mod: str, version: str, *, cwd: Path, log: Path) -> Path:
    out = _run([go, "mod", "download", "-json", f"{mod}@{version}"], cwd=cwd, log=log)
    return Path(json.loads(out)["Dir"])


class _PackageCounter:
    """Turns ``go build -v`` output (one line per package compiled) into a fraction of the
    packages ``go list -deps`` names: real progress, not a guess."""

    def __init__(self, key: str, total: int, meter: Meter | None) -> None:
        self.key, self.total, self.meter, self.done = key, max(total, 1), meter, 0

    def __call__(self, line: str) -> None:
        if not line or line.startswith(("#", " ", "go: ")) or self.meter is None:
            return
        self.done += 1
        self.meter.update(self.key, min(self.done / self.total, 0.99), line.strip())


def _count_deps(go: str, pkgs: Sequence[str], *, cwd: Path, log: Path) -> int:
    return len(_run([go, "list", "-deps", *pkgs], cwd=cwd, log=log).split())


def build_go(build: GoBuild, root: Path | None = None, progress: Progress | None = None,
             meter: Meter | None = None) -> Path:
    """Build one wrapper-module entry unless its stamp exists; returns its bin dir."""
    d = entry_dir(build, root)
    if is_built(build, root):
        return d / "bin"
    say = progress or (lambda _msg: None)
    go = go_binary()
    logs = toolchain_dir(root) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{build.key}.log"
    log.write_text(f"# {build.key} built {time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
    work = _fresh_dir(toolchain_dir(root) / ".work" / build.key)
    (work / "go.mod").write_text(build.gomod)
    started = time.monotonic()
    say(f"{build.key}: resolving modules (log: {log})")
    _run([go, "mod", "tidy"], cwd=work, log=log)
    d.mkdir(parents=True, exist_ok=True)
    (d / STAMP).unlink(missing_ok=True)
    bin_tmp = _fresh_dir(d / "bin.partial")
    counter = _PackageCounter(build.name, _count_deps(go, [p for p, _ in build.packages],
                                                      cwd=work, log=log), meter)
    for pkg, out in build.packages:
        say(f"{build.key}: go build {pkg}")
        _run([go, "build", "-v", "-trimpath", "-ldflags", _ldflags(build.ldflags), "-o",
              str(bin_tmp / out), pkg], cwd=work, log=log, on_line=counter)
    for a in build.assets:
        src = _module_dir(go, a.module, a.version, cwd=work, log=log) / a.path
        dst = bin_tmp / Path(a.dest).relative_to("bin")
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
        dst.chmod(a.mode)
    _swap_in(bin_tmp, d / "bin")
    seconds = round(time.monotonic() - started, 1)
    _write_stamp(d, name=build.name, version=build.version, build_seconds=seconds,
                 binaries=[out for _, out in build.packages])
    say(f"{build.key}: built in {seconds}s")
    shutil.rmtree(work, ignore_errors=True)
    return d / "bin"


def _swap_in(src: Path, dst: Path) -> None:
    if dst.exists():
        shutil.rmtree(dst)
    src.rename(dst)


def build_kubernetes_provider(v: Versions = VERSIONS, root: Path | None = None,
                              progress: Progress | None = None,
                              meter: Meter | None = None) -> Path:
    """Build pulumi-resource-kubernetes from a writable copy of the provider module.

    The module's main package embeds schema-embed.json and terraform-mapping-embed.json, which
    the upstream Makefile makes with ``VERSION=<ver> go generate cmd/pulumi-resource-kubernetes``
    (it runs generate.go: stamps the version into schema.json). The module also replaces
    .../sdk/v4 with ``../sdk``; the copy uses the served sdk/v4 release of the same version.
    """
    name = f"pulumi-resource-kubernetes-{v.pulumi_kubernetes}"
    d = toolchain_dir(root) / name
    binary = d / "bin" / "pulumi-resource-kubernetes"
    if (d / STAMP).is_file() and binary.is_file():
        return binary
    say = progress or (lambda _msg: None)
    go = go_binary()
    logs = toolchain_dir(root) / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    log = logs / f"{name}.log"
    log.write_text(f"# {name} built {time.strftime('%Y-%m-%dT%H:%M:%S')}\n")
    work = _fresh_dir(toolchain_dir(root) / ".work" / name)
    started = time.monotonic()
    say(f"{name}: fetching github.com/pulumi/pulumi-kubernetes/provider/v4@"
        f"{v.pulumi_kubernetes_module} (log: {log})")
    src = _module_dir(go, "github.com/pulumi/pulumi-kubernetes/provider/v4",
                      v.pulumi_kubernetes_module, cwd=work, log=log)
    mod = work / "provider"
    shutil.copytree(src, mod)
    _make_writable(mod)
    sdk = "github.com/pulumi/pulumi-kubernetes/sdk/v4"
    _run([go, "mod", "edit", f"-dropreplace={sdk}", f"-require={sdk}@v{v.pulumi_kubernetes}"],
         cwd=mod, log=log)
    _run([go, "mod", "download", sdk], cwd=mod, log=log)
    cmd_dir = mod / "cmd" / "pulumi-resource-kubernetes"
    say(f"{name}: go generate (embedded schema)")
    _run([go, "run", "./generate.go"], cwd=cmd_dir, log=log,
         env={**_go_env(), "VERSION": v.pulumi_kubernetes})
    d.mkdir(parents=True, exist_ok=True)
    (d / STAMP).unlink(missing_ok=True)
    bin_tmp = _fresh_dir(d / "bin.partial")
    say(f"{name}: go build ./cmd/pulumi-resource-kubernetes")
    flag = f"-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=" \
           f"{v.pulumi_kubernetes}"
    counter = _PackageCounter("pulumi-resource-kubernetes",
                              _count_deps(go, ["./cmd/pulumi-resource-kubernetes"], cwd=mod,
                                          log=log), meter)
    _run([go, "build", "-v", "-trimpath", "-ldflags", _ldflags((flag,)), "-o",
          str(bin_tmp / "pulumi-resource-kubernetes"), "./cmd/pulumi-resource-kubernetes"],
         cwd=mod, log=log, on_line=counter)
    _swap_in(bin_tmp, d / "bin")
    seconds = round(time.monotonic() - started, 1)
    _write_stamp(d, name="pulumi-resource-kubernetes", version=v.pulumi_kubernetes,
                 module_version=v.pulumi_kubernetes_module, build_seconds=seconds)
    say(f"{name}: built in {seconds}s")
    shutil.rmtree(work, ignore_errors=True)
    return binary


def install_provider_plugin(tc: Toolchain, binary: Path, progress: Progress | None = None) -> None:
    """``pulumi plugin install resource kubernetes <ver> --file <binary>`` into tc.pulumi_home."""
    plugin_dir = tc.kubernetes_provider.parent
    stamp = plugin_dir.parent / f".prodev-labs-{plugin_dir.name}"
    if stamp.is_file() and tc.kubernetes_provider.is_file():
        return
    tc.pulumi_home.mkdir(parents=True, exist_ok=True)
    if progress:
        progress(f"installing provider plugin into {tc.pulumi_home}")
    proc = subprocess.run(
        [str(tc.pulumi), "plugin", "install", "resource", "kubernetes",
         tc.versions.pulumi_kubernetes, "--file", str(binary), "--reinstall"],
        env=tc.env(), capture_output=True, text=True,
    )
    if proc.returncode != 0 or not tc.kubernetes_provider.is_file():
        raise ToolchainError(f"pulumi plugin install failed (exit {proc.returncode}):\n"
                             f"{proc.stdout}\n{proc.stderr}")
    stamp.write_text(tc.versions.pulumi_kubernetes + "\n")


def plan(versions: Versions = VERSIONS, root: Path | None = None) -> list[PlannedStep]:
    """The steps :func:`ensure_toolchain` takes, each with its cold time and cached state."""
    root = root or cache_root()
    built = status(versions, root)
    steps = [PlannedStep(b.name, COLD_SECONDS.get(b.name, 60), built[b.key])
             for b in recipes(versions)]
    prov = f"pulumi-resource-kubernetes-{versions.pulumi_kubernetes}"
    steps.append(PlannedStep("pulumi-resource-kubernetes",
                             COLD_SECONDS["pulumi-resource-kubernetes"], built[prov]))
    return steps


def is_complete(versions: Versions = VERSIONS, root: Path | None = None) -> bool:
    return all(status(versions, root).values())


def ensure_toolchain(progress: Progress | None = None, *, versions: Versions = VERSIONS,
                     root: Path | None = None, meter: Meter | None = None) -> Toolchain:
    """Build whatever is missing (idempotent) and return the complete Toolchain.

    ``progress`` gets one short line per step; ``meter`` the plan, then each step's fraction
    done and its end. Cold builds take tens of minutes on 2 cores (kube-apiserver and pulumi
    dominate); a warm call only checks stamps.
    """
    root = root or cache_root()
    # One builder at a time per cache (parallel test sessions, a user in another shell).
    with exclusive(toolchain_dir(root) / ".lock"):
        steps = plan(versions, root)
        if meter:
            meter.plan(steps)
        for b, step in zip(recipes(versions), steps, strict=False):
            if progress and step.cached:
                progress(f"{b.key}: cached")
            started = time.monotonic()
            build_go(b, root, progress, meter)
            if meter:
                meter.finish(b.name, time.monotonic() - started, step.cached)
        started = time.monotonic()
        binary = build_kubernetes_provider(versions, root, progress, meter)
        if meter:
            meter.finish("pulumi-resource-kubernetes", time.monotonic() - started,
                         steps[-1].cached)
        tc = toolchain(versions, root)
        _link_language_host(tc)
        install_provider_plugin(tc, binary, progress)
    return tc


def _link_language_host(tc: Toolchain) -> None:
    """Symlink the language host and its exec script beside the pulumi binary: the CLI takes
    language plugins from its own directory first (found only on PATH, it warns on every run)."""
    for src_dir in tc.extra_path:
        for name in ("pulumi-language-python", "pulumi-language-python-exec"):
            src, link = src_dir / name, tc.pulumi_bin_dir / name
            if src.is_file() and not (link.is_symlink() and link.resolve() == src.resolve()):
                link.unlink(missing_ok=True)
                link.symlink_to(src)


def status(versions: Versions = VERSIONS, root: Path | None = None) -> dict[str, bool]:
    """Which entries are built (by cache key), without building anything."""
    root = root or cache_root()
    out = {b.key: is_built(b, root) for b in recipes(versions)}
    prov = toolchain_dir(root) / f"pulumi-resource-kubernetes-{versions.pulumi_kubernetes}"
    out[prov.name] = (prov / STAMP).is_file()
    return out


if __name__ == "__main__":  # pragma: no cover - manual use: python -m infra.cluster.toolchain
    t = ensure_toolchain(lambda m: print(m, file=sys.stderr, flush=True))
    print(json.dumps({k: str(v) for k, v in t.__dict__.items()}, indent=2))
