"""Lesson 3 is local: `lab up/check/status/down/reset` never reach a cluster, Pulumi, the
toolchain or Docker, only the practice repository on this machine."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from labs.commands import lab
from labs.practice.app_workspace import create_app_workspace
from labs.practice.git_practice import default_practice_root, git
from labs.spec import build_spec
from tests.labs.commands.lesson3_guard import TOOLS, forbid

pytestmark = pytest.mark.unit



@pytest.fixture
def no_cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every entry point to a cluster, Pulumi, the toolchain or Docker fails loudly; the
    toolchain cache is empty and PATH holds git only. Returns the practice root."""
    import infra.cluster.kind as kind
    import infra.cluster.sim as sim
    import infra.cluster.target as target
    import infra.cluster.toolchain as toolchain
    import infra.kubeconfig as kubeconfig
    from labs.commands import checks

    for owner, names in ((target, ("choose", "docker_answers")),
                         (toolchain, ("ensure_toolchain", "toolchain", "status")),
                         (sim.SimCluster, ("up", "status")), (kind, ("up", "exists")),
                         (lab, ("LearnerStack", "engine_for_target", "up", "down")),
                         (kubeconfig, ("admin_client",)), (checks, ("admin_client",))):
        for name in names:
            forbid(monkeypatch, owner, name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git"))
    monkeypatch.setenv("PATH", str(bin_dir))
    assert not any(shutil.which(tool) for tool in TOOLS)
    (tmp_path / "cache").mkdir()
    monkeypatch.setenv("PRODEV_LABS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PRODEV_LABS_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    return default_practice_root("local", "ada")


def _run(action: str, as_json: bool = False) -> int:
    spec = build_spec({"lesson": 3, "learner": "ada"})
    return lab.run_action(action, spec, context=None, as_json=as_json, out=None,
                          expiry_hours=1)


def test_up_creates_only_the_practice_repo_and_prints_its_path(
        no_cluster: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("up") == 0
    out, err = capsys.readouterr()
    repo = no_cluster / "practice"
    assert out == f"{repo}\n"  # so `cd "$(invoke lab up --lesson 3)"` lands in the clone
    assert git(repo, "branch", "--show-current") == "main"
    assert "no cluster" in err and str(repo) in err
    assert not (no_cluster.parents[2] / "state").exists()  # no stack, no passphrase

    # Again: the same clone, the learner's work untouched.
    (repo / "notes.txt").write_text("mine\n")
    assert _run("up", as_json=True) == 0
    assert json.loads(capsys.readouterr().out)["repo"] == str(repo)
    assert (repo / "notes.txt").read_text() == "mine\n"


def test_check_status_down_and_kubeconfig_stay_local(
        no_cluster: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run("status") == 1  # nothing yet
    assert _run("check", as_json=True) == 1
    checks = json.loads(capsys.readouterr().out)["checks"]
    assert all("lab up --lesson 3" in c["detail"] for c in checks)
    assert _run("up") == 0
    assert _run("status", as_json=True) == 0
    capsys.readouterr()
    assert _run("check", as_json=True) == 1  # the starter passes nothing
    body = json.loads(capsys.readouterr().out)
    assert body["total"] >= 7 and body["passed_count"] == 0
    assert _run("down") == 0
    assert (no_cluster / "practice" / ".git").is_dir()  # down keeps the learner's work
    assert _run("kubeconfig") == 1


def test_reset_starts_the_practice_repo_over_and_keeps_other_lessons(
        no_cluster: Path) -> None:
    assert _run("up") == 0
    repo = no_cluster / "practice"
    git(repo, "switch", "--quiet", "-c", "develop")
    app = create_app_workspace(no_cluster, 2)
    assert _run("reset") == 0
    assert git(repo, "branch", "--list", "develop") == ""
    assert "develop" not in git(no_cluster / "origin.git", "branch", "--list")
    assert (app / ".git").is_dir()


def test_a_partial_practice_root_is_reported_not_raised(
        no_cluster: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (no_cluster / "origin.git").mkdir(parents=True)
    assert _run("up") == 1
    assert "lab reset --lesson 3" in capsys.readouterr().err
    assert _run("reset") == 0
