"""Unit tests of the offline toolchain installer: no Go, no network, no builds."""

from __future__ import annotations

import re
import sys
from importlib.metadata import version as dist_version
from pathlib import Path

import pytest

from infra.cluster import toolchain as tc

pytestmark = pytest.mark.unit

SEMVER = re.compile(r"^\d+\.\d+\.\d+$")


def test_versions_are_plain_semver():
    v = tc.VERSIONS
    for name in ("pulumi", "pulumi_language_python", "pulumi_kubernetes", "kubernetes", "etcd",
                 "kwok", "mailpit"):
        assert SEMVER.match(getattr(v, name)), name
    assert v.pulumi_kubernetes_module.startswith("v4.0.0-")


def test_pulumi_cli_is_at_least_the_python_sdk():
    cli = tuple(int(x) for x in tc.VERSIONS.pulumi.split("."))
    sdk = tuple(int(x) for x in dist_version("pulumi").split("."))
    assert cli[0] == sdk[0] == 3
    assert cli >= sdk, "the CLI must be as new as the Python SDK it runs"


def test_provider_matches_the_python_sdk_package():
    """The Python SDK asks the engine for the provider at its own version; with plugin
    downloads disabled, only the version built here exists."""
    assert dist_version("pulumi-kubernetes") == tc.VERSIONS.pulumi_kubernetes


def test_kubernetes_and_etcd_are_in_supported_ranges():
    major, minor, _ = (int(x) for x in tc.VERSIONS.kubernetes.split("."))
    assert (major, minor) >= (1, 31)  # Debian's etcd 3.4 is too old from here on
    assert tc.VERSIONS.etcd.startswith("3.6.")
    assert tc.VERSIONS.kubernetes_staging == f"v0.{minor}.{tc.VERSIONS.kubernetes.split('.')[2]}"


def test_recipes_wrap_the_pinned_modules():
    by = {b.name: b for b in tc.recipes()}
    assert set(by) == {"etcd", "kwok", "mailpit", "pulumi-language-python", "pulumi",
                       "kubernetes"}
    assert "github.com/pulumi/pulumi/pkg/v3 v3.274.1" in by["pulumi"].gomod
    assert "github.com/pulumi/pulumi/sdk/v3 v3.274.1" in by["pulumi"].gomod
    assert any("version.Version=v3.274.1" in f for f in by["pulumi"].ldflags)
    k8s = by["kubernetes"]
    for mod in tc.K8S_STAGING:
        assert f"k8s.io/{mod} => k8s.io/{mod} {tc.VERSIONS.kubernetes_staging}" in k8s.gomod
    assert {out for _, out in k8s.packages} == set(tc.KUBE_COMPONENTS)
    assert f"-X k8s.io/component-base/version.gitVersion=v{tc.VERSIONS.kubernetes}" in k8s.ldflags
    lang = by["pulumi-language-python"]
    assert [a.dest for a in lang.assets] == ["bin/pulumi-language-python-exec"]
    assert lang.assets[0].mode & 0o111
    assert len(by["kwok"].assets) == len(tc.KWOK_STAGES)
    mp = by["mailpit"]
    assert f"github.com/axllent/mailpit v{tc.VERSIONS.mailpit}" in mp.gomod
    assert mp.packages == (("github.com/axllent/mailpit", "mailpit"),)
    assert f"-X github.com/axllent/mailpit/config.Version=v{tc.VERSIONS.mailpit}" in mp.ldflags


def test_cache_root_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("PRODEV_LABS_CACHE", str(tmp_path))
    assert tc.cache_root() == tmp_path
    t = tc.toolchain()
    assert t.pulumi_bin_dir == tmp_path / "toolchain" / "pulumi-3.274.1" / "bin"
    assert t.pulumi_home == tmp_path / "pulumi-home"
    assert t.kubernetes_provider.parent.name == "resource-kubernetes-v4.25.0"
    assert t.mailpit == (tmp_path / "toolchain" / f"mailpit-{tc.VERSIONS.mailpit}" / "bin"
                         / "mailpit")


def _fake_built(build: tc.GoBuild, root: Path, *, stamp: bool = True) -> None:
    d = tc.entry_dir(build, root)
    for _, out in build.packages:
        (d / "bin" / out).parent.mkdir(parents=True, exist_ok=True)
        (d / "bin" / out).write_text("#!/bin/sh\n")
    for a in build.assets:
        (d / a.dest).parent.mkdir(parents=True, exist_ok=True)
        (d / a.dest).write_text("asset\n")
    if stamp:
        (d / tc.STAMP).write_text("{}\n")


def test_built_entries_are_skipped(monkeypatch, tmp_path):
    def no_go(*args, **kwargs):
        raise AssertionError("a cached entry must not run the go command")

    monkeypatch.setattr(tc, "_run", no_go)
    monkeypatch.setattr(tc, "go_binary", lambda: "/nonexistent/go")
    for b in tc.recipes():
        _fake_built(b, tmp_path)
        assert tc.is_built(b, tmp_path)
        assert tc.build_go(b, tmp_path) == tc.entry_dir(b, tmp_path) / "bin"


def test_unstamped_or_incomplete_entries_are_rebuilt(tmp_path):
    b = next(r for r in tc.recipes() if r.name == "kubernetes")
    _fake_built(b, tmp_path, stamp=False)
    assert not tc.is_built(b, tmp_path), "no stamp: an interrupted build must resume"
    (tc.entry_dir(b, tmp_path) / tc.STAMP).write_text("{}\n")
    assert tc.is_built(b, tmp_path)
    (tc.entry_dir(b, tmp_path) / "bin" / "kube-scheduler").unlink()
    assert not tc.is_built(b, tmp_path), "a missing binary invalidates the stamp"


def test_status_reports_without_building(tmp_path):
    st = tc.status(root=tmp_path)
    assert st and not any(st.values())


def test_env_runs_pulumi_offline(tmp_path):
    t = tc.toolchain(root=tmp_path)
    env = t.env({"PATH": "/usr/bin:/bin", "HOME": "/home/x"})
    path = env["PATH"].split(":")
    assert path[0] == str(t.pulumi_bin_dir)
    assert str(t.extra_path[0]) in path and path[-2:] == ["/usr/bin", "/bin"]
    assert env["PULUMI_HOME"] == str(t.pulumi_home)
    assert env["PULUMI_SKIP_UPDATE_CHECK"] == "true"
    assert env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] == "true"
    assert env["PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK"] == "true"
    assert env["HOME"] == "/home/x"
    assert env["PULUMI_PYTHON_CMD"] == sys.executable
    assert str(Path(sys.executable).parent) in path
    again = t.env(env)
    assert again["PATH"] == env["PATH"], "env() must not stack PATH entries"


def test_toolchain_is_frozen(tmp_path):
    t = tc.toolchain(root=tmp_path)
    with pytest.raises(AttributeError):
        t.pulumi_home = tmp_path  # type: ignore[misc]
