"""Lesson 3 checks against real git repositories: all fail on the starter, all pass solved."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from labs.checks import CheckContext, checks_for, run_checks
from labs.practice.git_practice import create_practice_repo, git, run_git
from labs.practice.solution_lesson3 import install_hook, solve

pytestmark = pytest.mark.unit


def _ctx(repo: Path) -> CheckContext:
    return CheckContext(namespace="local-ada", learner="ada", cohort="local", repo=repo)


def _by_id(repo: Path) -> dict[str, bool]:
    return {r.id: r.passed for r in run_checks(3, _ctx(repo))}


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    return create_practice_repo(tmp_path / "lab")


def test_practice_repo_layout(starter: Path) -> None:
    origin = starter.parent / "origin.git"
    assert git(origin, "rev-parse", "--is-bare-repository") == "true"
    assert git(starter, "branch", "--show-current") == "main"
    assert git(starter, "status", "--porcelain") == ""
    remote = git(starter, "ls-remote", "--heads", "origin")
    for branch in ("main", "feature/update-greeting", "experiment"):
        assert f"refs/heads/{branch}" in remote
    # Re-running lab up never touches existing work.
    assert create_practice_repo(starter.parent) == starter


def test_scripted_branch_conflicts(starter: Path) -> None:
    merged = run_git(starter, "merge", "feature/update-greeting", check=False)
    assert merged.returncode != 0
    assert "CONFLICT" in merged.stdout + merged.stderr
    assert "<<<<<<<" in (starter / "src/app.py").read_text()


def test_every_check_fails_on_the_starter(starter: Path) -> None:
    results = run_checks(3, _ctx(starter))
    assert [r.id for r in results] == [c.id for c in checks_for(3)]
    assert len(results) == 7
    assert [r for r in results if r.passed] == []
    for r in results:
        assert r.detail and r.hint and not r.detail.startswith("error:"), r


def test_every_check_passes_after_the_solution(starter: Path) -> None:
    solve(starter)
    results = run_checks(3, _ctx(starter))
    assert [r for r in results if not r.passed] == []
    assert git(starter, "status", "--porcelain") == ""  # the hook check used a temp clone


def test_unpushed_tag_and_develop_fail(starter: Path) -> None:
    solve(starter)
    origin = starter.parent / "origin.git"
    git(origin, "tag", "-d", "v1.0.0")
    git(starter, "switch", "--quiet", "develop")
    (starter / "src" / "extra.txt").write_text("x\n")
    git(starter, "add", "src/extra.txt")
    git(starter, "commit", "--quiet", "-m", "chore: not pushed")
    got = _by_id(starter)
    assert got["git.tag"] is False
    assert got["git.develop-pushed"] is False
    assert got["git.release"] is True


def test_hook_that_refuses_everything_fails(starter: Path) -> None:
    solve(starter)
    hook = starter / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/bin/sh\nexit 1\n")
    result = {r.id: r for r in run_checks(3, _ctx(starter))}["git.pre-commit-hook"]
    assert not result.passed
    assert "also refused" in result.detail


def test_hook_not_executable_fails(starter: Path) -> None:
    hook = install_hook(starter)
    os.chmod(hook, 0o644)
    assert _by_id(starter)["git.pre-commit-hook"] is False
    hook.chmod(0o755)
    assert _by_id(starter)["git.pre-commit-hook"] is True


def test_committed_conflict_markers_fail(starter: Path) -> None:
    git(starter, "switch", "--quiet", "-c", "develop")
    run_git(starter, "merge", "feature/update-greeting", check=False)
    git(starter, "add", "src/app.py")  # markers and all
    git(starter, "commit", "--quiet", "--no-edit")
    result = {r.id: r for r in run_checks(3, _ctx(starter))}["git.conflict-resolved"]
    assert not result.passed
    assert "conflict markers" in result.detail


def test_branches_deleted_after_merging_still_pass(starter: Path) -> None:
    solve(starter)
    git(starter, "branch", "-d", "feature/implement-login", "feature/implement-signup",
        "release/1.0.0")
    assert all(_by_id(starter).values())


def test_missing_repo_reports_instead_of_raising(tmp_path: Path) -> None:
    results = run_checks(3, _ctx(tmp_path / "nowhere"))
    assert all(not r.passed and "lab up --lesson 3" in r.detail for r in results)
