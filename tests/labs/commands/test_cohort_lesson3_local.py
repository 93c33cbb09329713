"""Lesson 3 is local: `cohort up/down/plan/status --lesson 3` never reach a cluster, Pulumi,
the toolchain or Docker. `up` refuses in one line naming what each learner runs instead."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from invoke import Program

import tasks
from tests.labs.commands.lesson3_guard import TOOLS, forbid

pytestmark = pytest.mark.unit

ROSTER = Path(__file__).resolve().parents[3] / "examples" / "cohort.yaml"  # lesson 4's class


@pytest.fixture
def no_cluster(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Every entry point to a cluster, a stack, the toolchain or Docker fails loudly, and PATH
    holds git only. Returns the directory the practice repositories would go under."""
    import infra.cluster.kind as kind
    import infra.cluster.sim as sim
    import infra.cluster.target as target
    import infra.cluster.toolchain as toolchain
    import infra.cohort as runner
    import infra.kubeconfig as kubeconfig
    import infra.sweep as sweep
    from labs.commands import build_display
    from labs.commands import cohort as cohort_cmd

    for owner, names in ((target, ("choose", "docker_answers")),
                         (toolchain, ("ensure_toolchain", "toolchain", "status")),
                         (sim.SimCluster, ("up", "status")), (kind, ("up", "exists")),
                         (runner, ("run", "LearnerStack")), (sweep, ("sweep",)),
                         (kubeconfig, ("admin_client",)),
                         (build_display, ("ensure_toolchain_shown",)),
                         (cohort_cmd, ("choose", "admin_client", "capacity", "engine_for_target",
                                       "for_target", "workload_status",
                                       "labelled_leftovers"))):
        for name in names:
            forbid(monkeypatch, owner, name)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "git").symlink_to(shutil.which("git"))
    monkeypatch.setenv("PATH", str(bin_dir))
    assert not any(shutil.which(tool) for tool in TOOLS)
    monkeypatch.setenv("PRODEV_LABS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PRODEV_LABS_STATE", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-kubeconfig"))
    return tmp_path


def cohort(action: str) -> int:
    program = Program(namespace=tasks.ns, name="invoke", binary="invoke")
    try:
        program.run(["invoke", "cohort", action, "--roster", str(ROSTER), "--lesson", "3"],
                    exit=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_up_refuses_in_one_line_naming_lab_up(no_cluster: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert cohort("up") == 1
    out, err = capsys.readouterr()
    assert out == ""
    [line] = err.splitlines()
    assert "lesson 3 is local-only and needs no cluster" in line
    assert "`invoke lab up --lesson 3`" in line
    assert not (no_cluster / "state").exists()  # no stack, no passphrase
    assert not (no_cluster / "data").exists()  # no practice repositories made for them


def test_down_removes_nothing_and_succeeds(no_cluster: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert cohort("down") == 0
    [line] = capsys.readouterr().err.splitlines()
    assert "nothing was removed" in line


def test_plan_and_status_stay_off_the_cluster(no_cluster: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    assert cohort("plan") == 0
    assert cohort("status") == 1
    plan, status = capsys.readouterr().err.splitlines()
    assert "needs no cluster" in plan
    assert "`invoke lab status --lesson 3`" in status


def test_other_lessons_still_go_to_the_cluster(no_cluster: Path) -> None:
    """The guard is lesson 3's only: lesson 4 reaches for a cluster (here, loudly refused)."""
    from labs.commands import cohort as cohort_cmd

    roster = cohort_cmd.load(str(ROSTER), 4)
    with pytest.raises(AssertionError, match="choose"):
        cohort_cmd.up_or_down("down", roster, context=None)
